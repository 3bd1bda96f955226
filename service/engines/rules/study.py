"""Study-level ``cxr.metadata``: the images of one study must describe one patient.

Compared: PatientID, PatientSex and PatientBirthDate. An element absent or empty on an image is
not a conflict (the per-image checks report missing values). Evidence names the elements and
how many distinct values were seen, never the values themselves.
"""

from __future__ import annotations

from collections.abc import Callable

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
    """Every image of the study gets one finding when the images disagree on the patient."""
    if len(study.images) < 2:
        return {}
    conflicts: list[tuple[str, Severity, float, int]] = []
    for keyword, severity, confidence in IDENTITY_ELEMENTS:
        values = {_normalise(keyword, value_text(ds, keyword)) for _, ds in study.images}
        values.discard("")
        if len(values) > 1:
            conflicts.append((keyword, severity, confidence, len(values)))
    if not conflicts:
        return {}
    names = [keyword for keyword, _, _, _ in conflicts]
    joined = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    message = (
        f"The images of this study disagree on {joined}; check that every image belongs to "
        "the same patient before the study is read."
    )
    evidence: list[Evidence] = [
        {
            "tag": tag_label(keyword),
            "keyword": keyword,
            "distinct_values": count,
            "images": len(study.images),
        }
        for keyword, _, _, count in conflicts
    ]
    severity = max((s for _, s, _, _ in conflicts), key=lambda s: s.rank)
    confidence = max(c for _, _, c, _ in conflicts)
    return {
        item_id: [
            finding(CODE, severity, message, [dict(e) for e in evidence], confidence, scope="study")
        ]
        for item_id, _ in study.images
    }


CHECKS: tuple[Callable[[StudyInput], dict[int, list[Finding]]], ...] = (check_patient_identity,)
