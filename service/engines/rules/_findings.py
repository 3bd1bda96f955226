"""Building the rules engine's findings and their evidence.

Confidence means: how likely a human auditor is to confirm the finding. A deterministic check of
a required DICOM value scores high (0.9+); a heuristic (a report that looks cut off, an exposure
index judged against a target the site may not have set) scores lower.
"""

from __future__ import annotations

from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.tag import Tag

from service.engines.base import Evidence, Finding
from service.taxonomy import Severity

ENGINE_NAME = "rules"
RULES_VERSION = "rules-0.6.0"

# Values of these elements identify the patient: evidence names the tag, never the value.
PHI_KEYWORDS = frozenset(
    {
        "PatientName",
        "PatientID",
        "OtherPatientIDs",
        "OtherPatientIDsSequence",
        "OtherPatientNames",
        "PatientBirthDate",
        "PatientBirthName",
        "PatientMotherBirthName",
        "PatientAddress",
        "PatientTelephoneNumbers",
        "IssuerOfPatientID",
        "MedicalRecordLocator",
        "AccessionNumber",
        "ResponsiblePerson",
        "ReferringPhysicianName",
    }
)
MAX_FINDINGS_PER_CHECK = 10  # a report with 1,000 empty headings needs ten examples, not 1,000
_MAX_VALUE = 64
_MAX_QUOTE = 200


def finding(
    code: str,
    severity: Severity,
    message: str,
    evidence: list[Evidence],
    confidence: float,
    *,
    scope: str = "item",
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        message=message,
        evidence=evidence,
        confidence=confidence,
        engine=ENGINE_NAME,
        engine_version=RULES_VERSION,
        scope=scope,
    )


def tag_label(keyword: str) -> str:
    """``(0018,5101)`` for ``ViewPosition``."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        return ""
    value = Tag(tag)
    return f"({value.group:04X},{value.element:04X})"


def tag_evidence(keyword: str, value: str | None, **extra: Any) -> Evidence:
    """Evidence naming one DICOM element; ``value`` None means the element is absent.

    Values of patient-identifying elements are never included.
    """
    shown: str | None = value
    if keyword in PHI_KEYWORDS:
        shown = None
    elif shown is not None and len(shown) > _MAX_VALUE:
        shown = shown[:_MAX_VALUE] + "..."
    return {"tag": tag_label(keyword), "keyword": keyword, "value": shown, **extra}


def text_evidence(section: str | None, text: str, start: int, end: int) -> Evidence:
    """Evidence for a span of report text: ``quote`` is exactly ``text[start:end]`` (the span is
    shortened to at most 200 characters, keeping its end)."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    start = max(start, end - _MAX_QUOTE)
    return {"section": section, "start": start, "end": end, "quote": text[start:end]}


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of ``text``: vocabularies written as one string."""
    return frozenset(text.split())
