"""``report.laterality``: left/right confusion.

- between sections: a finding, or a location ("right base", "left lower lobe"), on one side in
  the findings and only on the other side in the impression;
- within one statement: sides that anatomy forbids ("left middle lobe", "right lingula");
- against the exam or the image: the exam ("XR SHOULDER LEFT") or the images' ImageLaterality
  name one side and the text only ever names the other side of a limb or paired organ.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Evidence, Finding
from service.engines.rules._clinical import Mention, main_spans, mentions, sentences
from service.engines.rules._findings import finding, tag_evidence, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.cross_source import header_laterality
from service.engines.rules.negation import Polarity, polarity
from service.reports.sections import FINDINGS_NAMES, IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.laterality"
_IMPOSSIBLE = re.compile(r"\b(?:left[- ]middle[- ]lobe|right[- ]lingula(?:r)?)\b", re.IGNORECASE)
_EXAM_SIDE = re.compile(r"\b(?:(LEFT|LT|L)|(RIGHT|RT|R))\b", re.IGNORECASE)
_PAIRED = (
    r"shoulder|elbow|wrist|hand|finger|thumb|hip|knee|ankle|foot|toe|humerus|humeral|radius|"
    r"ulna|femur|femoral|tibia|tibial|fibula|fibular|patella|clavicle|forearm|leg|arm|"
    r"calcaneus|kidney|renal|breast|orbit|eye|ear|testicle|ovary|adnexa"
)
_LIMB_SIDE = re.compile(
    rf"\b(left|right)\b(?:[- ](?:sided|side))?\s+(?:\w+\s+){{0,2}}?(?:{_PAIRED})s?\b",
    re.IGNORECASE,
)
_OPPOSITE = {"left": "right", "right": "left"}


_LOCATIONS = {
    "base": r"bases?|basal|basilar|basilar",
    "apex": r"apex|apices|apical",
    "upper lobe": r"upper lobe",
    "lower lobe": r"lower lobe",
    "upper lung": r"upper lung(?: zone)?",
    "lower lung": r"lower lung(?: zone)?",
    "hilum": r"hilar|hilum",
    "hemithorax": r"hemithorax",
    "hemidiaphragm": r"hemidiaphragm",
    "paraspinal": r"paraspinal",
    "clavicle": r"clavicle|clavicular",
    "lung": r"lung",
}
_SIDE_LOCATION = re.compile(
    r"\b(left|right)\b[- ](?:\w+[- ]){0,2}?(" + "|".join(_LOCATIONS.values()) + r")\b",
    re.IGNORECASE,
)
_LOCATION_NAME = [
    (name, re.compile(rf"^(?:{p})$", re.IGNORECASE)) for name, p in _LOCATIONS.items()
]


def _location(word: str) -> str:
    return next((name for name, regex in _LOCATION_NAME if regex.match(word)), word.lower())


def _side_locations(view: ReportView, names: frozenset[str]) -> list[tuple[str, str, int, int]]:
    """(side, location, start, end) of affirmed "left lower lobe"-like phrases."""
    found: list[tuple[str, str, int, int]] = []
    for span in view.named(names):
        for s_start, s_end in sentences(view.text, span):
            sentence = view.text[s_start:s_end]
            for m in _SIDE_LOCATION.finditer(sentence):
                if polarity(sentence, m.start(), m.end()) is Polarity.NEGATED:
                    continue
                side, where = m.group(1).lower(), _location(m.group(2))
                found.append((side, where, s_start + m.start(), s_start + m.end()))
    return found


def check_location_sides(view: ReportView) -> list[Finding]:
    """A location named on one side in the findings and only on the other in the impression."""
    found = _side_locations(view, FINDINGS_NAMES - IMPRESSION_NAMES)
    said = _side_locations(view, IMPRESSION_NAMES - FINDINGS_NAMES)
    for side, where, start, end in said:
        other = _OPPOSITE[side]
        before = [f for f in found if f[1] == where]
        if not before or any(f[0] == side for f in before):
            continue
        if any(s[1] == where and s[0] == other for s in said):
            continue
        first = before[0]
        message = (
            f"The findings describe the {other} {where} but the impression the {side} {where}; "
            "correct the side."
        )
        evidence = [
            text_evidence(view.section_at(first[2]), view.text, first[2], first[3]),
            text_evidence(view.section_at(start), view.text, start, end),
        ]
        return [finding(CODE, Severity.CRITICAL, message, evidence, 0.75)]
    return []


def _sided(items: list[Mention], side: str) -> list[Mention]:
    return [m for m in items if m.side == side]


def check_between_sections(view: ReportView) -> list[Finding]:
    in_findings, in_impression = mentions(view)
    for name in {m.concept.name for m in in_impression}:
        found = [
            m for m in in_findings if m.concept.name == name and m.polarity is not Polarity.NEGATED
        ]
        said = [
            m
            for m in in_impression
            if m.concept.name == name and m.polarity is not Polarity.NEGATED
        ]
        for side in ("left", "right"):
            other = _OPPOSITE[side]
            if not _sided(found, side) or not _sided(said, other):
                continue
            if _sided(found, other) or _sided(said, side) or _sided(found + said, "bilateral"):
                continue
            a, b = _sided(found, side)[0], _sided(said, other)[0]
            message = (
                f"The findings place the {name} on the {side} but the impression on the "
                f"{other}; correct the side."
            )
            evidence = [
                text_evidence(a.section, view.text, a.sentence_start, a.sentence_end),
                text_evidence(b.section, view.text, b.sentence_start, b.sentence_end),
            ]
            return [finding(CODE, Severity.CRITICAL, message, evidence, 0.85)]
    return []


def check_impossible_sides(view: ReportView) -> list[Finding]:
    hits = list(_IMPOSSIBLE.finditer(view.text))
    if not hits:
        return []
    evidence = [
        text_evidence(view.section_at(m.start()), view.text, m.start(), m.end()) for m in hits[:5]
    ]
    message = (
        f"'{hits[0].group(0)}' does not exist (the middle lobe is right-sided, the lingula "
        "left-sided); correct the side or the lobe."
    )
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.9)]


def _expected_side(view: ReportView) -> tuple[str | None, Evidence | None]:
    display = view.item.exam_display or ""
    sides = {("left" if m.group(1) else "right") for m in _EXAM_SIDE.finditer(display)}
    if len(sides) == 1 and re.search(_PAIRED, display, re.IGNORECASE):
        (side,) = sides
        return side, {"field": "exam_display", "value": display[:64]}
    imaged = header_laterality(view)
    if imaged is not None:
        return imaged, tag_evidence("ImageLaterality", imaged[0].upper())
    return None, None


def check_against_exam(view: ReportView) -> list[Finding]:
    expected, source = _expected_side(view)
    if expected is None or source is None:
        return []
    hits = [
        (m, m.group(1).lower())
        for span in main_spans(view)
        for m in _LIMB_SIDE.finditer(view.text, span.start, span.end)
    ]
    if not hits or any(side == expected for _, side in hits):
        return []
    match = hits[0][0]
    opposite = _OPPOSITE[expected]
    message = (
        f"The examination is of the {expected} side but the report describes the {opposite}; "
        "check the side or the exam."
    )
    evidence = [
        text_evidence(view.section_at(match.start()), view.text, match.start(), match.end()),
        source,
    ]
    return [finding(CODE, Severity.CRITICAL, message, evidence, 0.8)]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_between_sections,
    check_location_sides,
    check_impossible_sides,
    check_against_exam,
)
