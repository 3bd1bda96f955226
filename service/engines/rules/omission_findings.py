"""``report.omission``: a significant positive finding that never reaches the impression.

A finding counts when it is significant (pneumothorax, effusion, consolidation, pneumonia,
edema, mass, fracture, free air...), affirmed (not negated or uncertain) and not called old,
chronic, stable or unchanged, and the impression mentions neither it nor anything that stands for
it. An impression that only says "no acute abnormality" over it is ``report.inconsistency``
instead (DESIGN §4 boundaries), so such reports are left to that check.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from service.engines.base import Finding
from service.engines.rules._clinical import mentions
from service.engines.rules._findings import finding, text_evidence
from service.engines.rules._report import ReportView
from service.engines.rules.negation import Polarity
from service.reports.sections import IMPRESSION_NAMES
from service.taxonomy import Severity

CODE = "report.omission"
# concepts an impression must carry, and words in the impression that stand for them
OMITTABLE: dict[str, str] = {
    "pneumothorax": r"pneumothora|air leak",
    "pleural effusion": r"effusion|fluid",
    "consolidation": r"consolidat|pneumonia|airspace|opacit|infiltrat|infect",
    "pneumonia": r"pneumonia|consolidat|infect|airspace|opacit|infiltrat",
    "pulmonary edema": r"edema|heart failure|chf|fluid overload|congesti",
    "mass": r"mass|neoplas|malignan|tumou?r|cancer|carcinoma|lesion",
    "fracture": r"fracture",
    "pneumoperitoneum": r"pneumoperitoneum|free air|perforat",
}


def check_missing_from_impression(view: ReportView) -> list[Finding]:
    in_findings, _ = mentions(view)
    spans = [s for s in view.named(IMPRESSION_NAMES) if s.name == "impression" and not s.empty]
    if not spans or not in_findings:
        return []
    impression = " ".join(view.text[s.start : s.end] for s in spans)
    for stated in in_findings:
        name = stated.concept.name
        if name not in OMITTABLE or stated.polarity is not Polarity.AFFIRMED or stated.old:
            continue
        if re.search(OMITTABLE[name], impression, re.IGNORECASE):
            continue
        if re.search(r"\bno acute\b", impression, re.IGNORECASE) and name in {
            "pneumothorax",
            "consolidation",
            "pneumonia",
            "pulmonary edema",
            "fracture",
            "pneumoperitoneum",
        }:
            continue  # the inconsistency check reports this one
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
