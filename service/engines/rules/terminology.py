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
from service.engines.rules._report import ReportView, lowered
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


# Lay and outdated terms with the radiology term to use instead: plain-language synonyms of the
# consumer health vocabulary (Zeng and Tse, JAMIA 2006; the Open-Access Collaborative CHV, which
# maps lay expressions to UMLS concepts) and terms the Fleischner Society glossary (Hansell et al.,
# Radiology 2008) calls obsolete. Matched case-insensitively in the findings and impression.
_LUNG = r"(?:the |his |her |both )?(?:left |right )?lungs?"
INFORMAL: tuple[tuple[str, str], ...] = (
    (rf"(?:water|fluid) (?:on|in) {_LUNG}", "pleural effusion or edema"),
    (
        r"(?:collapsed|punctured|popped|dropped) lungs?|lungs? (?:has |have )?collapsed",
        "pneumothorax or atelectasis",
    ),
    (r"(?:broken|cracked) (?:ribs?|bones?|collarbone|clavicle|spine|vertebra\w*)", "fracture"),
    (rf"holes? in {_LUNG}", "cavity"),
    (rf"(?:spots?|shadows?) (?:on|in) {_LUNG}", "nodule or opacity"),
    (
        r"(?:lungs?|heart|chest|bones?|everything|it|film|x-?ray) (?:looks?|seems?) "
        r"(?:ok|okay|fine|good|great|alright|all right)",
        "normal, unremarkable",
    ),
    (r"coin lesions?", "nodule"),
    (r"windpipe", "trachea"),
    (r"breastbone", "sternum"),
    (r"collarbones?", "clavicle"),
    (r"shoulder ?blades?", "scapula"),
    (r"backbone", "spine"),
    (r"voice ?box", "larynx"),
    (r"gullet|food ?pipe", "esophagus"),
    (r"tummy", "abdomen"),  # not "belly": a muscle belly is anatomy
    (r"heart attacks?", "myocardial infarction"),
    (r"blood clots?", "thrombus or embolus"),
    (r"black lung", "pneumoconiosis"),
    (r"(?:a )?(?:kind|sort) of|a (?:little |tiny )?bit(?: of)?|pretty much", "a precise qualifier"),
)
# One alternation with the word boundaries outside it, matched on the lowered text: a boundary
# inside each of the thirty alternatives, with re.IGNORECASE, cost 0.5 ms per long report.
_INFORMAL = re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p, _ in INFORMAL) + r")\b")
_INFORMAL_EACH = tuple(re.compile(p) for p, _ in INFORMAL)


def _informal_term(hit: str) -> str:
    """The term to use for an informal ``hit``: the first pattern that matches it whole is the
    alternative the combined pattern took."""
    return next(
        (INFORMAL[i][1] for i, rx in enumerate(_INFORMAL_EACH) if rx.fullmatch(hit)),
        "the radiology term",
    )


def check_informal_terms(view: ReportView) -> list[Finding]:
    """Lay or obsolete wording in the findings and impression ("water on the lungs",
    "collapsed lung", "coin lesion", "lungs look OK")."""
    low = lowered(view)
    hits = [m for span in main_spans(view) for m in _INFORMAL.finditer(low, span.start, span.end)]
    if not hits:
        return []
    evidence = [
        text_evidence(view.section_at(m.start()), view.text, m.start(), m.end()) for m in hits[:5]
    ]
    shown = "; ".join(
        f"'{view.text[m.start() : m.end()]}' -> {_informal_term(m.group(0))}" for m in hits[:3]
    )
    message = f"Informal or obsolete wording in the report ({shown}); use the radiology term."
    return [finding(CODE, Severity.MINOR, message, evidence, 0.7)]


CHECKS: tuple[Callable[[ReportView], list[Finding]], ...] = (
    make_abbreviation_check(),
    check_informal_terms,
)
