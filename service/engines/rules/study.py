"""Study-level ``cxr.metadata``: the images of one study must describe one patient.

Compared: PatientID, PatientSex and PatientBirthDate, each a problem of its own. An element
absent or empty on an image is not a conflict (the per-image checks report missing values).
Evidence names the element and how many distinct values were seen, never the values themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from service.engines.base import Evidence, Finding, StudyInput
from service.engines.rules._dicom import value_text
from service.engines.rules._findings import finding, tag_label
from service.taxonomy import Severity

CODE = "cxr.metadata"
# element, severity of a conflict, confidence an auditor confirms it
IDENTITY_ELEMENTS: tuple[tuple[str, Severity, float], ...] = (
    ("PatientID", Severity.CRITICAL, 0.9),
    ("PatientSex", Severity.MAJOR, 0.85),
    ("PatientBirthDate", Severity.MAJOR, 0.85),
)


def _normalise(keyword: str, value: str | None) -> str:
    text = (value or "").strip()
    return text.upper() if keyword == "PatientSex" else text


def check_patient_identity(study: StudyInput) -> dict[int, list[Finding]]:
    """Every image of the study gets one finding per identity element the images disagree on:
    each is its own problem with its own verdict (a PatientID conflict may be real while a
    PatientSex one is a typo)."""
    if len(study.images) < 2:
        return {}
    found: list[Finding] = []
    for keyword, severity, confidence in IDENTITY_ELEMENTS:
        values = {_normalise(keyword, value_text(ds, keyword)) for _, ds in study.images}
        values.discard("")
        if len(values) <= 1:
            continue
        message = (
            f"The images of this study disagree on {keyword}; check that every image belongs "
            "to the same patient before the study is read."
        )
        evidence: Evidence = {
            "tag": tag_label(keyword),
            "keyword": keyword,
            "distinct_values": len(values),
            "images": len(study.images),
        }
        found.append(finding(CODE, severity, message, [evidence], confidence, scope="study"))
    if not found:
        return {}
    return {item_id: [_copy(f) for f in found] for item_id, _ in study.images}


def _copy(found: Finding) -> Finding:
    """The finding for one more image: its own evidence objects (stored as JSON per row)."""
    return replace(found, evidence=[dict(e) for e in found.evidence])


CHECKS: tuple[Callable[[StudyInput], dict[int, list[Finding]]], ...] = (check_patient_identity,)
