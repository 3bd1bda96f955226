"""``report.exam_mismatch``: the views the text describes are not the views ordered.

A radiograph order names its views: "XR CHEST 1 VIEW", "XR CHEST 2V", "PA and lateral", "XR
KNEE 3 VIEWS", "portable chest" (one AP view). The technique the text states ("PA and lateral
views of the chest were obtained", "single frontal view", "two views of the right ankle") must
give the same number; in a single-view order, a lateral view described in the findings is a
second view. Comparisons, recommendations and the comparison section are not read (a prior
"single view chest" is no technique of this exam).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from service.engines.base import Finding
from service.engines.rules._exam import exam_evidence, exam_text, modality
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.exam_mismatch import technique_sentences
from service.taxonomy import Severity

CODE = "report.exam_mismatch"
_NUMBERS = {
    "one": 1,
    "single": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
}
_NUMBER = r"(\d|one|single|two|three|four|five|six)"
_EXAM_COUNT = re.compile(
    rf"\b{_NUMBER}(\+|\s*OR MORE)?\s*-?\s*(?:\(\d\)\s*)?(?:VIEWS?|V|VW)\b|"
    rf"\b(?:VIEWS?|VW)\s*:?\s*{_NUMBER}\b",
    re.IGNORECASE,
)
_EXAM_TWO = re.compile(r"\b(?:PA|AP|FRONTAL)\s*(?:AND|&|/|,)?\s*(?:LAT|LATERAL)\b", re.IGNORECASE)
_EXAM_PORTABLE = re.compile(r"\bPORTABLE\b", re.IGNORECASE)
# what the text says was taken
_TEXT_COUNT = re.compile(
    rf"\b{_NUMBER}[- ](?:\w+[- ]){{0,2}}?(?:views?|projections?)\b", re.IGNORECASE
)
_TEXT_TWO = re.compile(
    r"\b(?:PA|AP|frontal|posteroanterior|anteroposterior)(?: \w+)?\s*(?:and|&|/)\s*"
    r"(?:(?:left|right|cross-?table) )?lateral\b(?! (?:decubitus|to|aspect|margin|wall|"
    r"portion|border|segment|costophrenic|chest wall))",
    re.IGNORECASE,
)
# "one AP view is expiratory": one of the views, not a count
_ONE_OF = re.compile(r"^one\b.*\s+(?:is|was|shows?|demonstrat\w+|reveals?)\b", re.IGNORECASE)
# parts of the body a sentence may name: one the exam does not name is another exam's views
_PARTS = re.compile(
    r"\b(?:chest|abdomen|KUB|pelvis|hips?|knees?|shoulders?|ankles?|foot|feet|hands?|wrists?|"
    r"elbows?|spine|skull|femur|tibia|humerus|ribs?|forearm|leg|neck|sinuses|face)\b",
    re.IGNORECASE,
)
_TEXT_LATERAL = re.compile(
    r"\b(?:on|the|a) (?:cross-?table )?lateral (?:view|projection|radiograph|image|film)s?\b",
    re.IGNORECASE,
)


_ANY_VIEW = re.compile(r"\b(?:views?|projections?|lateral)\b", re.IGNORECASE)


@lru_cache(maxsize=256)
def ordered_views(exam: str) -> tuple[int, bool] | None:
    """How many views the order asks for, and whether that is a minimum ("3+ VIEWS"); None
    when it does not say."""
    counts = {(_count(m), bool(m.group(2))) for m in _EXAM_COUNT.finditer(exam)}
    if len(counts) == 1:
        return counts.pop()
    if counts:
        return None
    if _EXAM_TWO.search(exam):
        return 2, False
    if _EXAM_PORTABLE.search(exam):
        return 1, False
    return None


def _count(match: re.Match[str]) -> int:
    word = next(g for g in (match.group(1), match.group(3)) if g).lower()
    return int(word) if word.isdigit() else _NUMBERS[word]


def _stated(sentence: str, ordered: int) -> tuple[int, re.Match[str]] | None:
    """The number of views a sentence says were taken, with the words that say it."""
    m = _TEXT_COUNT.search(sentence)
    if m is not None and not _ONE_OF.match(sentence[m.start() :]):
        word = m.group(1).lower()
        count = int(word) if word.isdigit() else _NUMBERS[word]
        if 0 < count < 10:
            return count, m
    m = _TEXT_TWO.search(sentence)
    if m is not None:
        return 2, m
    if ordered == 1:
        m = _TEXT_LATERAL.search(sentence)
        if m is not None:
            return 2, m
    return None


def check_views(view: ReportView) -> list[Finding]:
    exam = exam_text(view)
    if modality(exam) != "XR":
        return []
    order = ordered_views(exam)
    if order is None or _ANY_VIEW.search(view.text) is None:
        return []
    ordered, at_least = order
    parts = {p.lower().rstrip("s") for p in _PARTS.findall(exam)}
    for section, start, end in technique_sentences(view):
        sentence = view.text[start:end]
        named = {p.lower().rstrip("s") for p in _PARTS.findall(sentence)}
        if named and not named & parts:
            continue  # the views of another part of the body ("single view of the abdomen")
        found = _stated(sentence, ordered)
        if found is None or found[0] == ordered or (at_least and found[0] > ordered):
            continue
        stated, m = found
        message = (
            f"The text describes {stated} view{'s' if stated > 1 else ''} ('{m.group(0)}') but "
            f"the exam orders {ordered}{' or more' if at_least else ''}; check the views or the "
            "exam."
        )
        evidence = [
            text_evidence(section, view.text, start + m.start(), start + m.end()),
            exam_evidence(view),
        ]
        return [finding(CODE, Severity.MINOR, message, evidence, 0.75)]
    return []


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_views,)
