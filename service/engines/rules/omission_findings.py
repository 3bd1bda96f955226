"""``report.omission``: a significant finding that never reaches the impression.

A finding counts when it is significant (pneumothorax, effusion, consolidation, pneumonia,
edema, a mass, a suspicious nodule, adenopathy, a lytic or destructive bone lesion, a fracture,
free air...), affirmed (not negated; a lesion called "suspicious for" or "concerning for" counts
too) and not called old, chronic, stable or unchanged, and the impression mentions neither it nor
anything that stands for it. A nodule counts when it is not calcified (a calcified nodule is a
granuloma) and measures 6 mm or more, or is called suspicious, spiculated or noncalcified: the
size from which follow-up is advised (Fleischner Society, 2017). An impression that only says
"no acute abnormality" over an acute finding is ``report.inconsistency`` instead (DESIGN §4
boundaries), so such reports are left to that check.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules._clinical import (
    ACUTE_FOR_NORMAL,
    AIRSPACE,
    CLEAR_LUNGS,
    CONCEPTS,
    NORMAL_IMPRESSION,
    Mention,
    mentions,
)
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.measurement import implausible_sizes
from service.engines.rules.negation import Polarity
from service.reports.sections import IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.omission"
# concepts an impression must carry, and words in the impression that stand for them
# (the clinical knowledge lives with the concepts, in ._clinical)
OMITTABLE: dict[str, re.Pattern[str]] = {
    c.name: c.impression for c in CONCEPTS if c.impression is not None
}
_LESIONS = frozenset({"mass", "nodule", "adenopathy", "bone lesion"})
_SUSPICIOUS = re.compile(
    r"\b(?:suspicious|concerning|worrisome|spiculated|noncalcified|non-calcified|enlarging|"
    r"malignan\w*|neoplas\w*|metasta\w*)\b",
    re.IGNORECASE,
)
_CALCIFIED = re.compile(r"\b(?<!non)(?<!non-)calcifi\w*|granulom\w*|nipple\b", re.IGNORECASE)
_REACH = 120  # characters read either side of a mention
_SIZE = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*-?\s*(mm|cm)\b", re.IGNORECASE)


def _around(view: ReportView, stated: Mention) -> str:
    """The words around a mention within its sentence (bounded: a sentence may be huge)."""
    start = max(stated.sentence_start, stated.start - _REACH)
    return view.text[start : min(stated.sentence_end, stated.end + _REACH)]


def _nodule_counts(view: ReportView, stated: Mention) -> bool:
    """A nodule that needs follow-up: not calcified, and 6 mm or more or called suspicious."""
    sentence = _around(view, stated)
    if _CALCIFIED.search(sentence):
        return False
    if _SUSPICIOUS.search(sentence):
        return True
    sizes = [float(v) * (10 if u.lower() == "cm" else 1) for v, u in _SIZE.findall(sentence)]
    return bool(sizes) and max(sizes) >= 6


def _counts(view: ReportView, stated: Mention) -> bool:
    """Whether a finding stated in the findings must reach the impression."""
    name = stated.concept.name
    if name not in OMITTABLE or stated.old:
        return False
    suspected = name in _LESIONS and _SUSPICIOUS.search(_around(view, stated)) is not None
    if stated.polarity is not Polarity.AFFIRMED and not (
        stated.polarity is Polarity.UNCERTAIN and suspected
    ):
        return False
    return name != "nodule" or _nodule_counts(view, stated)


def check_missing_from_impression(view: ReportView) -> list[Finding]:
    in_findings, _ = mentions(view)
    spans = [s for s in view.named(IMPRESSION_NAMES) if s.name == "impression" and not s.empty]
    if not spans or not in_findings:
        return []
    impression = " ".join(view.text[s.start : s.end] for s in spans)
    normal = NORMAL_IMPRESSION.search(impression) is not None
    clear = CLEAR_LUNGS.search(impression) is not None
    garbled = sorted(implausible_sizes(view))
    for stated in in_findings:
        name = stated.concept.name
        if not _counts(view, stated):
            continue
        at = bisect.bisect_left(garbled, stated.sentence_start)
        if at < len(garbled) and garbled[at] < stated.sentence_end:
            continue  # an impossible size: the measurement check reports the statement
        if OMITTABLE[name].search(impression):
            continue
        if (normal and name in ACUTE_FOR_NORMAL) or (name in AIRSPACE and clear):
            continue  # a normal impression over it: the inconsistency check reports this one
        message = (
            f"The findings report {name} but the impression does not mention it; add it to "
            "the impression."
        )
        evidence = [
            text_evidence(stated.section, view.text, stated.sentence_start, stated.sentence_end),
            {
                **text_evidence(spans[0].name, view.text, spans[0].start, spans[0].end),
                "missing": True,
            },
        ]
        return [finding(CODE, Severity.MAJOR, message, evidence, 0.7)]
    return []


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (check_missing_from_impression,)
