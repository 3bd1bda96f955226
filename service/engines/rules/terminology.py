"""``report.terminology``: discouraged abbreviations in the findings and impression.

The list is configurable (:data:`DISCOURAGED`, or a mapping handed to
:func:`make_abbreviation_check`): shorthand that belongs in notes, not in a report a referring
clinician reads. Only the findings and impression are read: indications quote the order as
written ("r/o pneumonia", "SOB"), and that is not the radiologist's wording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from service.engines.base import Finding
from service.engines.rules._clinical import main_spans
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.taxonomy import Severity

CODE = "report.terminology"
# abbreviation -> what to write instead
DISCOURAGED: dict[str, str] = {
    "WNL": "within normal limits",
    "NAD": "no abnormality detected",
    "c/w": "consistent with",
    "r/o": "rule out",
    "w/o": "without",
    "b/l": "bilateral",
    "nml": "normal",
    "abnl": "abnormal",
    "NSF": "no significant findings",
    "NEG": "negative",
    "pt": "patient",
    "w/": "with",
    "c/o": "complains of",
    "abd": "abdomen",
    "approx": "approximately",
    "cxr": "chest radiograph",
    "nl": "normal",
    # chart shorthand for findings (the history's own shorthand, "y/o", "h/o", "dx", is the
    # order's wording and is left alone)
    "PTX": "pneumothorax",
    "ptx": "pneumothorax",
    "HTX": "hemothorax",
    "PNA": "pneumonia",
    "atx": "atelectasis",
    "bilat": "bilateral",
    "f/u": "follow-up",
    "d/t": "due to",
    "2/2": "secondary to",
    "mets": "metastases",
    "lt": "left",
    "Lt": "left",
    "rt": "right",
    "Rt": "right",
}


def _regex(terms: Mapping[str, str]) -> re.Pattern[str] | None:
    if not terms:
        return None
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![\w/])(?:{alternatives})(?![\w/])")


def make_abbreviation_check(
    terms: Mapping[str, str] = DISCOURAGED,
) -> Callable[[ReportView], list[Finding]]:
    """A check for the abbreviations in ``terms`` (matched case-sensitively, whole tokens)."""
    regex = _regex(terms)

    def check_discouraged_abbreviations(view: ReportView) -> list[Finding]:
        if regex is None:
            return []
        hits = [
            m for span in main_spans(view) for m in regex.finditer(view.text, span.start, span.end)
        ]
        if not hits:
            return []
        evidence = [
            text_evidence(view.section_at(m.start()), view.text, m.start(), m.end())
            for m in hits[:10]
        ]
        spelled = "; ".join(
            f"'{t}' -> '{terms[t]}'" for t in dict.fromkeys(m.group(0) for m in hits[:5])
        )
        message = f"Discouraged abbreviations in the report ({spelled}); write the words out."
        return [finding(CODE, Severity.MINOR, message, evidence, 0.7)]

    return check_discouraged_abbreviations


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (make_abbreviation_check(),)
