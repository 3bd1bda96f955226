"""``report.measurement``: implausible or inconsistent sizes and units.

Sizes are parsed as ``5 mm``, ``1.2 cm``, ``3 x 4 cm``, ``12-mm``. A size belongs to the finding
named in its sentence (nodule, mass, effusion...). Signals:

- implausible: larger than a body (over 50 cm), larger than the structure measured can be (a
  heart over 25 cm, an aorta over 12 cm, anything in a lung over 30 cm, a tube tip tens of
  centimetres from the carina), a nodule or granuloma over 5 cm (a lesion that big is a mass:
  most often a unit error), under 0.5 mm for a lesion, a percentage over 100, a
  cardiothoracic ratio over 1;
- the same finding measured in the findings and in the impression with sizes that match none of
  each other: ten times apart is mm/cm confusion, otherwise an inconsistent size.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from service.engines.base import Finding
from service.engines.rules._clinical import CONCEPTS, main_spans, sentences
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView, lowered, per_view
from service.reports.sections import FINDINGS_NAMES, IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.measurement"
_SIZE = re.compile(
    r"(?<![\w.])(\d{1,4}(?:\.\d+)?)(?:\s*(?:x|by|\u00d7)\s*\d{1,4}(?:\.\d+)?){0,2}"
    r"\s*-?\s*(mm|cm|millimet(?:er|re)s?|centimet(?:er|re)s?)\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"(?<![\w.])(\d{3,5}(?:\.\d+)?)\s*%")
_SMALL_LESIONS = frozenset({"nodule", "granuloma"})
_MEASURED = tuple(
    c
    for c in CONCEPTS
    if c.name in {"nodule", "mass", "granuloma", "pneumothorax", "pleural effusion", "hernia"}
)


@dataclass(frozen=True, slots=True)
class Size:
    concept: str | None
    mm: float  # the largest dimension, in millimetres
    section: str
    start: int
    end: int
    limit: tuple[float, str] | None = None  # the largest plausible size of what is measured


def _to_mm(value: float, unit: str) -> float:
    return value * 10.0 if unit.lower().startswith("c") else value


def _largest(match: re.Match[str]) -> float:
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", match.group(0))]
    return _to_mm(max(numbers), match.group(2))


def _concept_near(sentence: str, at: int) -> str | None:
    """The measured finding named nearest to ``at`` in a lowered sentence (the concepts' patterns
    are matched on the lowered text)."""
    best: tuple[int, str] | None = None
    window = sentence[max(0, at - 150) : at + 150]
    at = min(at, 150)
    for concept in _MEASURED:
        for m in concept.regex.finditer(window):
            distance = abs(m.start() - at)
            if best is None or distance < best[0]:
                best = (distance, concept.name)
    return best[1] if best else None


@per_view  # several checks read them
def sizes(view: ReportView) -> list[Size]:
    return _sizes(view)


def _sizes(view: ReportView) -> list[Size]:
    found: list[Size] = []
    for span in main_spans(view):
        for s_start, s_end in sentences(view.text, span):
            sentence = view.text[s_start:s_end]
            for m in _SIZE.finditer(sentence):
                concept = _concept_near(lowered(view)[s_start:s_end], m.start())
                limit = _structure_limit(sentence, m.start())
                if _TIP_TO_CARINA.search(sentence, m.end(), m.end() + 30):
                    limit = (150.0, "the distance from a tube tip to the carina")
                found.append(
                    Size(
                        concept,
                        _largest(m),
                        span.name,
                        s_start + m.start(),
                        s_start + m.end(),
                        limit,
                    )
                )
    return found


# largest plausible size, in mm, of what a sentence measures: the structure named in the words
# before the size or just after it (adult anatomy; an aneurysmal aorta reaches about 10 cm, a
# trachea is about 12 cm long and 2.5 cm wide, a hemithorax about 30 cm tall)
_STRUCTURE_LIMITS: tuple[tuple[re.Pattern[str], float, str], ...] = tuple(
    (re.compile(rf"\b(?:{words})\b", re.IGNORECASE), limit, name)
    for words, limit, name in (
        (r"heart|cardiac|cardiothoracic", 250.0, "a heart"),
        (r"aort\w*", 120.0, "an aorta"),
        (r"trachea\w*|carina", 150.0, "the trachea"),
        (r"lobes?|lung|hemithorax|pulmonary|hil(?:um|ar)|mediastin\w*|pleural", 300.0, "a lung"),
        (r"kidneys?|renal", 250.0, "a kidney"),
        (r"thyroid", 150.0, "a thyroid"),
        (r"lymph nodes?|nodes?", 100.0, "a lymph node"),
        (r"gallbladder", 150.0, "a gallbladder"),
        (r"appendix", 50.0, "an appendix"),
        (r"testis|testicle", 80.0, "a testis"),
        (r"prostate", 150.0, "a prostate"),
    )
)
# a tube or catheter tip sits a few centimetres from the carina, never tens
_TIP_TO_CARINA = re.compile(r"\b(?:above|below|from|proximal to|distal to) the carina\b", re.I)


def _structure_limit(sentence: str, at: int) -> tuple[float, str] | None:
    """The limit for the structure nearest to the size at ``at`` in its sentence."""
    window = sentence[max(0, at - 80) : at + 60]
    best: tuple[int, float, str] | None = None
    for regex, limit, name in _STRUCTURE_LIMITS:
        for m in regex.finditer(window):
            distance = abs(m.start() - min(at, 80))
            if best is None or distance < best[0]:
                best = (distance, limit, name)
    return (best[1], best[2]) if best else None


def _implausible(size: Size) -> str | None:
    if size.mm > 500:
        return "larger than a body"
    if size.limit is not None and size.mm > size.limit[0]:
        return f"larger than {size.limit[1]} can be"
    if size.concept in _SMALL_LESIONS and size.mm > 50:
        return f"a {size.concept} over 5 cm (a lesion that size is a mass; check the unit)"
    if size.concept is not None and size.mm < 0.5:
        return "smaller than half a millimetre"
    return None


def implausible_sizes(view: ReportView) -> list[int]:
    """Where the implausible sizes start (other checks leave those statements to this one)."""
    return [size.start for size in sizes(view) if _implausible(size) is not None]


def check_implausible(view: ReportView) -> list[Finding]:
    results: list[Finding] = []
    for size in sizes(view):
        reason = _implausible(size)
        if reason is None:
            continue
        quote = view.text[size.start : size.end]
        message = f"The size '{quote}' is implausible ({reason}); check the value and unit."
        evidence = [text_evidence(size.section, view.text, size.start, size.end)]
        results.append(finding(CODE, Severity.MAJOR, message, evidence, 0.8))
    for m in _PERCENT.finditer(view.text):
        if float(m.group(1)) > 100:
            evidence = [text_evidence(view.section_at(m.start()), view.text, m.start(), m.end())]
            message = f"The value '{m.group(0)}' is over 100%; check it."
            results.append(finding(CODE, Severity.MAJOR, message, evidence, 0.75))
    return results[:3]


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= max(1.0, 0.15 * max(a, b))


def check_between_sections(view: ReportView) -> list[Finding]:
    every = sizes(view)
    all_sizes = [s for s in every if s.concept is not None]
    found = [s for s in all_sizes if s.section in FINDINGS_NAMES - IMPRESSION_NAMES]
    said = [s for s in all_sizes if s.section in IMPRESSION_NAMES - FINDINGS_NAMES]
    # every size the findings give, whatever it is read as: an impression that sums up two
    # lesions ("17 mm nodule ... and 10 mm nodule") repeats sizes the findings gave to each
    measured = [s.mm for s in every if s.section in FINDINGS_NAMES - IMPRESSION_NAMES]
    for size in said:
        same = [s for s in found if s.concept == size.concept]
        if not same or any(_close(s.mm, size.mm) for s in same):
            continue
        if any(mm == size.mm for mm in measured):
            continue
        other = same[0]
        ratio = max(other.mm, size.mm) / max(min(other.mm, size.mm), 1e-6)
        unit_error = any(_close(s.mm * 10, size.mm) or _close(s.mm, size.mm * 10) for s in same)
        what = "ten times apart: mm/cm confusion" if unit_error else f"{ratio:.1f} times apart"
        message = (
            f"The {size.concept} measures '{view.text[other.start : other.end]}' in the findings "
            f"but '{view.text[size.start : size.end]}' in the impression ({what}); correct one."
        )
        evidence = [
            text_evidence(other.section, view.text, other.start, other.end),
            text_evidence(size.section, view.text, size.start, size.end),
        ]
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.85 if unit_error else 0.75)]
    return []


# ratios that cannot exceed 1 (or 100 %): the cardiothoracic ratio (heart width over thorax
# width; normal under 0.5 on a PA film) and the other width ratios a chest report gives
_RATIO = re.compile(
    r"\b(?:cardio[- ]?thoracic ratio|CTR|cardiothoracic index|(?:cardiac|heart)[- ]to[- ]"
    r"(?:thoracic|chest) (?:width )?ratio)\b[^.\d]{0,30}?(?<![\w.])(\d{1,3}(?:\.\d+)?)"
    r"(?!\.?\d)\s*(%|percent)?",
    re.IGNORECASE,
)


def check_ratios(view: ReportView) -> list[Finding]:
    """A cardiothoracic ratio over 1 (or over 100 %): the heart cannot be wider than the
    thorax ("cardiothoracic ratio measures 3.0")."""
    if "ratio" not in view.text.lower() and "CTR" not in view.text:
        return []
    for span in main_spans(view):
        for m in _RATIO.finditer(view.text, span.start, span.end):
            value = float(m.group(1))
            percent = m.group(2) is not None or value >= 10
            if (value > 100) if percent else (value > 1):
                quote = m.group(0).strip()
                message = (
                    f"'{quote}' is impossible (the heart cannot be wider than the thorax: the "
                    "ratio is at most 1); check the value."
                )
                evidence = [text_evidence(span.name, view.text, m.start(), m.end())]
                return [finding(CODE, Severity.MAJOR, message, evidence, 0.8)]
    return []


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    check_implausible,
    check_between_sections,
    check_ratios,
)
