"""``report.laterality``: left/right confusion.

- between sections: a finding, or a place ("right base", "left lower lobe", "left costophrenic
  angle", "right IJ catheter", "left mastectomy"), on one side in the findings and only on the
  other side in the impression; a place both sections give to both sides is never compared;
- within one statement: sides that anatomy forbids ("left middle lobe", "right lingula"), or a
  side compared with itself ("left greater than left");
- against the exam or the image: the exam ("XR SHOULDER LEFT") or the images' ImageLaterality
  name one side and the text only ever names the other side of a limb or paired organ.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Evidence, Finding
from service.engines.rules._clinical import AIRSPACE, Mention, main_spans, mentions, sentences
from service.engines.rules._findings import finding, tag_evidence, text_evidence
from service.engines.rules._report import ReportView, lowered, whole_words
from service.engines.rules.cross_source import header_laterality
from service.engines.rules.negation import Polarity, polarity
from service.reports.sections import FINDINGS_NAMES, IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.laterality"
# the middle lobe and the minor (horizontal) fissure are right-sided, the lingula left-sided;
# this and the self-comparison are read in the whole lowered text (_report.lowered), several times
# faster than re.IGNORECASE on the text
_IMPOSSIBLE = re.compile(
    r"\b(?:left[- ](?:middle[- ]lobe|minor[- ]fissure|horizontal[- ]fissure)|"
    r"right[- ]lingula(?:r)?|"
    r"(?:middle lobe|minor fissure|horizontal fissure) of the left lung|"
    r"lingula(?:r segments?)? of the right lung)\b"
)
_EXAM_SIDE = re.compile(r"\b(?:(LEFT|LT|L)|(RIGHT|RT|R))\b", re.IGNORECASE)
_PAIRED = (
    r"shoulder|elbow|wrist|hand|finger|thumb|hip|knee|ankle|foot|toe|humerus|humeral|radius|"
    r"ulna|femur|femoral|tibia|tibial|fibula|fibular|patella|clavicle|forearm|leg|arm|"
    r"calcaneus|kidney|renal|breast|orbit|eye|ear|testicle|ovary|adnexa|ribs?|scapula|"
    r"acromioclavicular|glenohumeral"
)
_LIMB_SIDE = re.compile(
    rf"\b(left|right)\b(?:[- ](?:sided|side))?\s+(?:\w+\s+){{0,2}}?(?:{_PAIRED})s?\b",
    re.IGNORECASE,
)
# in a rib series the side is also given by the chest wall imaged and by the skin marker that
# the technologist puts over the painful site
_RIB_EXAM = re.compile(r"\bribs?\b", re.IGNORECASE)
_CHEST_SIDE = re.compile(
    r"\b(left|right)\b(?:[- ](?:sided|side))?\s+(?:\w+\s+){0,2}?"
    r"(?:chest wall|hemithorax|lateral chest|anterior chest|posterior chest)\b|"
    r"\b(?:marker|BB|site of (?:the )?(?:pain|tenderness|injury|trauma|concern|symptoms))\b"
    r"[^.;]{0,40}?\b(left|right)\b",
    re.IGNORECASE,
)
_OPPOSITE = {"left": "right", "right": "left"}
_THAN = re.compile(whole_words("than"))  # found with a fast scan for the word
# "left greater than left": a comparison of a side with itself
_SELF_COMPARED = re.compile(
    r"\b(left|right)\s+(?:greater|larger|worse|more|less|smaller|higher|lower)(?:\s+\w+)?"
    r"\s+than\s+(?:the\s+|on\s+the\s+)?\1\b"
)


# places and findings a side is given to: the canonical name and its words (the upper lobe and
# the upper lung zone are one place for this purpose, and so are the lower lobe and the base)
_LOCATIONS = {
    "lower lung": r"bases?|basal|basilar|lung base|lower lobe|lower (?:lung|zone)(?: zone)?",
    "apex": r"apex|apices|apical",
    "upper lung": r"upper lobe|upper (?:lung|zone)(?: zone)?",
    "middle lobe": r"middle lobe",
    "mid lung": r"mid[- ]?lung(?: zone)?|mid[- ]zone|middle lung(?: zone)?",
    "hilum": r"hilar|hilum|hila",
    "perihilar": r"perihilar",
    "paratracheal": r"paratracheal",
    "retrocardiac": r"retrocardiac",
    "costophrenic": r"costophrenic",
    "cardiophrenic": r"cardiophrenic",
    "hemithorax": r"hemithorax",
    "hemidiaphragm": r"hemidiaphragm|diaphragm",
    "paraspinal": r"paraspinal",
    "chest wall": r"chest wall",
    "axilla": r"axilla|axillary",
    "clavicle": r"clavicle|clavicular",
    "rib": r"ribs?",
    "lung": r"lung",
    "thoracotomy": r"thoracotomy",
    "lobectomy": r"lobectomy|pneumonectomy",
    "mastectomy": r"mastectomy",
    "volume loss": r"volume loss",
    "pleural thickening": r"pleural thickening",
    "scarring": r"scarring|scar",
    "jugular": r"internal jugular|IJ|jugular",
    "subclavian": r"subclavian",
    "upper extremity": r"upper extremity|arm",
    "atrium": r"atrium|atrial",
    "ventricle": r"ventricle|ventricular",
    "aortic arch": r"aortic arch|aortic",
    "humeral head": r"humeral head|humerus|glenoid|glenohumeral|acromioclavicular",
}
_SIDE_WORDS = r"left|right|bilateral|bilaterally|both|and|or|with|than|greater|versus|to"
# a side, at most two other words (never another side or a conjunction), then the place
_SIDE_LOCATION = re.compile(
    r"\b(left|right)\b(?:[- ]sided)?[- ](?:(?!(?:"
    + _SIDE_WORDS
    + r")\b)\w+[- ]){0,2}?("
    + "|".join(_LOCATIONS.values())
    + r")\b",
    re.IGNORECASE,
)
_LOCATION_NAME = [
    (name, re.compile(rf"^(?:{p})$", re.IGNORECASE)) for name, p in _LOCATIONS.items()
]
# a place given to both sides: "bilateral bases", "right and left lower lobes", "bibasilar"
_EITHER_SIDE = re.compile(
    r"\b(?:(?:bilateral(?:ly)?|both|right and left|left and right)[- ](?:\w+[- ]){0,2}?("
    + "|".join(_LOCATIONS.values())
    + r")|bi(basilar|basal|apical|hilar))\b",
    re.IGNORECASE,
)


def _location(word: str) -> str:
    return next((name for name, regex in _LOCATION_NAME if regex.match(word)), word.lower())


def _side_locations(view: ReportView, names: frozenset[str]) -> list[tuple[str, str, int, int]]:
    """(side, location, start, end) of "left lower lobe"-like phrases; a place that a sentence
    gives to both sides ("bibasilar", "bilateral bases") is "bilateral". A negated phrase ("no
    right pneumothorax", "resolution of the left midlung opacity") is kept apart: its location
    is named "no <location>", so that it is compared with negated phrases only."""
    found: list[tuple[str, str, int, int]] = []
    for span in view.named(names):
        for s_start, s_end in sentences(view.text, span):
            sentence = view.text[s_start:s_end]
            for m in _SIDE_LOCATION.finditer(sentence):
                side, where = m.group(1).lower(), _location(m.group(2))
                if polarity(sentence, m.start(), m.end()) is Polarity.NEGATED:
                    where = f"no {where}"
                found.append((side, where, s_start + m.start(), s_start + m.end()))
            for m in _EITHER_SIDE.finditer(sentence):
                where = _location(m.group(1) or m.group(2))
                found.append(("bilateral", where, s_start + m.start(), s_start + m.end()))
    return found


def check_location_sides(view: ReportView) -> list[Finding]:
    """A location named on one side in the findings and only on the other in the impression."""
    found = _side_locations(view, FINDINGS_NAMES - IMPRESSION_NAMES)
    said = _side_locations(view, IMPRESSION_NAMES - FINDINGS_NAMES)
    for side, where, start, end in said:
        if side == "bilateral":
            continue
        other = _OPPOSITE[side]
        before = [f for f in found if f[1] == where]
        if not before or any(f[0] in (side, "bilateral") for f in before):
            continue
        if any(s[1] == where and s[0] in (other, "bilateral") for s in said):
            continue
        first = before[0]
        place = where.removeprefix("no ")
        message = (
            f"The findings describe the {other} {place} but the impression the {side} {place}; "
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


def _kind(mention: Mention) -> str:
    """Findings that stand for one another share a side: a right lower lobe consolidation and
    a left lower lobe pneumonia are one finding with two sides."""
    return "airspace disease" if mention.concept.name in AIRSPACE else mention.concept.name


def check_between_sections(view: ReportView) -> list[Finding]:
    in_findings, in_impression = mentions(view)
    for name in sorted({_kind(m) for m in in_impression}):
        found = [m for m in in_findings if _kind(m) == name and m.polarity is not Polarity.NEGATED]
        said = [m for m in in_impression if _kind(m) == name and m.polarity is not Polarity.NEGATED]
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
    hits = list(_IMPOSSIBLE.finditer(lowered(view)))
    if not hits:
        return _self_compared(view)
    evidence = [
        text_evidence(view.section_at(m.start()), view.text, m.start(), m.end()) for m in hits[:5]
    ]
    quoted = view.text[hits[0].start() : hits[0].end()]  # as written, not lowered
    message = (
        f"'{quoted}' does not exist (the middle lobe and the minor fissure are "
        "right-sided, the lingula left-sided); correct the side or the lobe."
    )
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.9)]


def _self_compared(view: ReportView) -> list[Finding]:
    low = lowered(view)
    if _THAN.search(low) is None:
        return []
    m = _SELF_COMPARED.search(low)
    if m is None:
        return []
    evidence = [text_evidence(view.section_at(m.start()), view.text, m.start(), m.end())]
    quoted = view.text[m.start() : m.end()]  # as written, not lowered
    message = f"'{quoted}' compares a side with itself; one of the sides is wrong."
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.85)]


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
    if (
        not hits
        and _RIB_EXAM.search(view.item.exam_display or "")
        and source.get("field") == "exam_display"
    ):
        hits += [
            (m, (m.group(1) or m.group(2)).lower())
            for span in main_spans(view)
            for m in _CHEST_SIDE.finditer(view.text, span.start, span.end)
        ]
        hits.sort(key=lambda hit: hit[0].start())
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


# one structure and its own parts: a sentence that gives the same structure both sides is
# speaking of one finding ("left clavicle ... healed right clavicular fracture")
_STRUCTURES = {
    "apex": r"apex|apices|apical|apically",
    "clavicle": r"clavicles?|clavicular",
    "costophrenic angle": r"costophrenic|cp angles?",
    "hemithorax": r"hemithorax|hemithoraces",
    "hemidiaphragm": r"hemidiaphragms?|diaphragms?",
}
_STRUCTURE_SIDES = {
    name: re.compile(
        rf"\b(left|right)\b(?:[- ](?:sided|side))?\s+(?:[a-z-]+\s+){{0,2}}?(?:{p})\b",
        re.IGNORECASE,
    )
    for name, p in _STRUCTURES.items()
}
# places that anatomy binds to one side within one statement: an effusion and the costophrenic
# angle or meniscus that shows it; an opacity and the border it silhouettes (a lower lobe
# opacity effaces the hemidiaphragm of its own side); a port or pacemaker and the vein it enters
# (the pocket lies on the side of the access vein); a bone and the hemithorax it projects over
_LINKED: tuple[tuple[str, re.Pattern[str] | None, str], ...] = (
    (
        "the effusion and its sign",
        None,
        r"(?:pleural )?effusions?|pleural fluid|costophrenic|cp angles?|meniscus",
    ),
    (
        "the opacity and the border it silhouettes",
        re.compile(r"\b(?:silhouett\w*|obscur\w*|effac\w*)", re.IGNORECASE),
        r"bases?|basilar|basal|lower lobes?|lower lung|hemidiaphragms?|diaphragms?|"
        r"heart border|cardiac border|retrocardiac",
    ),
    (
        "the device and its access vein",
        re.compile(
            r"\b(?:port|pacemaker|pacer|defibrillator|AICD|ICD|reservoir|generator)\b",
            re.IGNORECASE,
        ),
        r"subclavian|internal jugular|jugular|IJ|axillary|cephalic|chest wall|chest|"
        r"pectoral|infraclavicular|subclavicular",
    ),
    (
        "the bone and the hemithorax it projects over",
        re.compile(r"\b(?:project\w*|overl(?:y|ies|ying))\b", re.IGNORECASE),
        r"ribs?|clavicles?|clavicular|scapulae?|scapular|hemithorax|lung|chest",
    ),
)
_LINKED_SIDES = [
    (
        name,
        trigger,
        re.compile(
            rf"\b(left|right)\b(?:[- ](?:sided|side))?\s+(?:[a-z-]+\s+){{0,2}}?(?:{p})\b",
            re.IGNORECASE,
        ),
    )
    for name, trigger, p in _LINKED
]
# a second device in the statement ("right IJ catheter, left chest port"): two sides on purpose
_OTHER_DEVICE = re.compile(
    r"\b(?:catheters?|lines?|PICC|sheaths?|tubes?|drains?|Port-?a-?cath)\b", re.IGNORECASE
)
# words that let a sentence speak of both sides on purpose
_BOTH_SIDES = re.compile(
    r"\b(?:and|or|nor|both|bilateral\w*|respectively|than|versus|vs|whereas|while|compared|"
    r"contralateral|opposite|symmetric\w*|asymmetr\w*|from|to|toward|towards|across|crosses|"
    r"crossing|extends?|extending|otherwise|but|no|not)\b|;",
    re.IGNORECASE,
)


def check_within_statement(view: ReportView) -> list[Finding]:
    """One statement that gives one structure both sides ("left apical pneumothorax, with the
    pleural line best seen at the right apex"), when nothing in it speaks of both sides on
    purpose (a list, a comparison, a line crossing the midline)."""
    for span in main_spans(view):
        for start, end in sentences(view.text, span):
            sentence = view.text[start:end]
            lower = sentence.lower()
            if "left" not in lower or "right" not in lower or _BOTH_SIDES.search(sentence):
                continue
            said = _sided_twice(sentence)
            if said is not None:
                message = f"One statement {said} ('{sentence.strip()[:100]}'); correct the side."
                evidence = [text_evidence(span.name, view.text, start, end)]
                return [finding(CODE, Severity.MAJOR, message, evidence, 0.7)]
    return []


def _sided_twice(sentence: str) -> str | None:
    """What one sentence gives both sides: a structure, or two places anatomy binds to one
    side; ``None`` when nothing is."""
    for name, regex in _STRUCTURE_SIDES.items():
        if len({m.group(1).lower() for m in regex.finditer(sentence)}) >= 2:
            return f"puts the {name} on both sides"
    for name, trigger, regex in _LINKED_SIDES:
        if trigger is not None and trigger.search(sentence) is None:
            continue
        if name.startswith("the device") and _OTHER_DEVICE.search(sentence):
            continue
        if len({m.group(1).lower() for m in regex.finditer(sentence)}) >= 2:
            return f"gives {name} different sides"
    return None


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_between_sections,
    check_location_sides,
    check_impossible_sides,
    check_against_exam,
    check_within_statement,
)
