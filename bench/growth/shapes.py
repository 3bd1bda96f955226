"""What the generated rows look like: the distributions and the resource templates.

Observations are built once per shape by radqc's own builders (``fhir_adapter.observations``)
with placeholder values, then copied with the real ids, references, times and confidences put
in, so every stored resource is what radqc would have stored, at a few microseconds a row.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from fhir_adapter.observations import (
    DICOM_UID_SYSTEM,
    PATIENT_ID_SYSTEM,
    SOP_INSTANCE_EXTENSION,
    ItemContext,
    build_finding_observation,
    build_summary_observation,
    fhir_instant,
)
from service.engines.rules import RULES_VERSION  # the engine's own: never a copy
from service.models import FindingRow
from service.taxonomy import Kind, codes_for

# Codes in order of frequency (a Zipf law over this order): header problems and exposure are
# what the rules find most on films, typing and terminology on reports; a sex mismatch is rare.
CODE_ORDER: dict[Kind, tuple[str, ...]] = {
    "image": (
        "cxr.metadata",
        "cxr.exposure",
        "cxr.annotation",
        "cxr.rotation",
        "cxr.field_of_view",
        "cxr.centering",
        "cxr.inspiration",
        "cxr.artifact",
        "cxr.scapula",
        "cxr.sharpness",
        "cxr.orientation",
    ),
    "report": (
        "report.typo",
        "report.terminology",
        "report.omission",
        "report.measurement",
        "report.laterality",
        "report.inconsistency",
        "report.exam_mismatch",
        "report.sex",
    ),
}
ZIPF_S = 1.1
# Findings per flagged item: 1-5, mostly one or two.
FLAGGED_COUNTS = (1, 2, 3, 4, 5)
FLAGGED_WEIGHTS = (0.40, 0.25, 0.17, 0.11, 0.07)
SEVERITIES = ("critical", "major", "minor")
CONFIDENT_SEVERITY = (0.12, 0.48, 0.40)
FAINT_SEVERITY = (0.02, 0.28, 0.70)
LLM_VERSION = "gpt-4o-mini-2024-07-18+p3f9c2a1e"
STATIONS = (*(f"CXR-ROOM-{n:02d}" for n in range(1, 13)), "MOBILE-1", "MOBILE-2")
INSTITUTIONS = ("General Hospital", "North Clinic", "Children's Unit")
AUDITORS = ("auditor@a.moreau", "auditor@b.okafor", "auditor@c.lindqvist", "auditor@d.tanaka")
EXAMS = (("71046", "XR CHEST 2 VIEWS"), ("71045", "XR CHEST 1 VIEW"), ("74177", "CT ABD/PELVIS"))

_EVIDENCE_KEYWORDS = (
    "ViewPosition",
    "BodyPartExamined",
    "ImageLaterality",
    "PixelSpacing",
    "PatientSex",
    "PhotometricInterpretation",
)
_SECTIONS = ("findings", "impression")


def code_weights(kind: Kind) -> np.ndarray:
    ranks = np.arange(1, len(CODE_ORDER[kind]) + 1, dtype=np.float64)
    weights = ranks**-ZIPF_S
    return weights / weights.sum()


def check_taxonomy() -> None:
    """The code lists above are the taxonomy's (a renamed code fails here, not in the data)."""
    for kind in ("image", "report"):
        assert sorted(CODE_ORDER[kind]) == sorted(c.code for c in codes_for(kind)), kind


def message(code: str, variant: int) -> str:
    what = code.split(".", 1)[1].replace("_", " ")
    return (
        f"Check {what}: the rules found a problem worth a second look (variant {variant}).",
        f"{what.capitalize()} outside the expected range; review before reporting.",
        f"Possible {what} problem: see the evidence for where it was found.",
    )[variant % 3]


def evidence(kind: Kind, code: str, problem: int) -> list[dict[str, Any]]:
    """Evidence that points where real findings point: a DICOM keyword, a text span or a region."""
    if kind == "report":
        start = 20 + 37 * problem
        return [
            {
                "section": _SECTIONS[problem % 2],
                "start": start,
                "end": start + 14,
                "quote": "right lower lobe"[: 8 + problem],
            }
        ]
    if code == "cxr.metadata":
        return [{"keyword": _EVIDENCE_KEYWORDS[problem % len(_EVIDENCE_KEYWORDS)]}]
    return [{"region": [64 * problem, 0, 512, 1024], "metric": f"{code.split('.')[1]}_score"}]


def problem_key(kind: Kind, code: str, problem: int) -> str:
    """``service.findings.problem_key`` of :func:`evidence` (spelled out: it is stable)."""
    if kind == "report":
        start = 20 + 37 * problem
        return f"{_SECTIONS[problem % 2]}@{start}-{start + 14}"
    if code == "cxr.metadata":
        keyword = _EVIDENCE_KEYWORDS[problem % len(_EVIDENCE_KEYWORDS)]
        return keyword if problem < len(_EVIDENCE_KEYWORDS) else f"{keyword}+{problem}"
    return f"PixelData@{64 * problem},0,512,1024[{code.split('.')[1]}_score]"


# -- Observation templates -------------------------------------------------------------------
_ID = "rqc-0000000000000000000000000000000000000000"
_WHEN = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_WHEN_TEXT = fhir_instant(_WHEN)
_CONFIDENCE = 0.1234
_PATIENT = "@@PATIENT@@"
_STUDY = "@@STUDY@@"
_SOP = "@@SOP@@"
_REPORT = "@@REPORT@@"


def _context(kind: Kind) -> ItemContext:
    if kind == "image":
        return ItemContext(
            item_id=0,
            key="",
            subject={
                "type": "Patient",
                "identifier": {"system": PATIENT_ID_SYSTEM, "value": _PATIENT},
            },
            subject_key=None,
            derived_from={
                "type": "ImagingStudy",
                "identifier": {"system": DICOM_UID_SYSTEM, "value": f"urn:oid:{_STUDY}"},
            },
            derived_from_key=None,
            extensions=({"url": SOP_INSTANCE_EXTENSION, "valueOid": f"urn:oid:{_SOP}"},),
            processed_at=_WHEN,
        )
    return ItemContext(
        item_id=0,
        key="",
        subject={"reference": _PATIENT},
        subject_key=None,
        derived_from={"reference": _REPORT},
        derived_from_key=None,
        extensions=(),
        processed_at=_WHEN,
    )


def _dumps(resource: dict[str, Any]) -> str:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False)


@dataclass
class Templates:
    """Observation JSON per shape, with placeholders; :meth:`fill` makes one resource."""

    cache: dict[tuple[Any, ...], str]

    def finding(
        self, kind: Kind, code: str, severity: str, engine: str, variant: int, problem: int
    ) -> str:
        key = ("f", kind, code, severity, engine, variant, problem)
        found = self.cache.get(key)
        if found is None:
            row = FindingRow(
                code=code,
                severity=severity,
                message=message(code, variant),
                evidence=evidence(kind, code, problem),
                confidence=_CONFIDENCE,
                engine=engine,
                engine_version=RULES_VERSION if engine == "rules" else LLM_VERSION,
                scope="item",
                problem_key="",
            )
            resource = build_finding_observation(_context(kind), row)
            resource["id"] = _ID
            found = self.cache[key] = _dumps(resource)
        return found

    def summary(self, kind: Kind, failed: bool) -> str:
        key = ("s", kind, failed)
        found = self.cache.get(key)
        if found is None:
            resource = build_summary_observation(_context(kind), [], failed=failed)
            resource["id"] = _ID
            found = self.cache[key] = _dumps(resource)
        return found


def fill(
    template: str,
    *,
    obs_id: str,
    when: str,
    patient: str,
    derived: str,
    sop: str | None,
    confidence: float | None = None,
    status: str | None = None,
    members: list[str] | None = None,
) -> str:
    """One stored resource from a template: ``derived`` is the study UID (images) or the
    ``DiagnosticReport/<id>/_history/<v>`` reference (reports)."""
    text = template.replace(_ID, obs_id, 1).replace(_WHEN_TEXT, when).replace(_PATIENT, patient, 1)
    text = text.replace(_STUDY if sop is not None else _REPORT, derived, 1)
    if sop is not None:
        text = text.replace(_SOP, sop, 1)
    if confidence is not None:
        text = text.replace(f'"value":{_CONFIDENCE}', f'"value":{round(confidence, 4)}', 1)
    if status is not None:
        text = text.replace('"status":"preliminary"', f'"status":"{status}"', 1)
    if members:
        refs = ",".join(f'{{"reference":"Observation/{m}"}}' for m in members)
        text = text[:-1] + f',"hasMember":[{refs}]}}'
    return text


def report_json(report_id: str, patient: str, accession: str, exam: tuple[str, str]) -> str:
    """A DiagnosticReport as a RIS sends it (~1 KB), for ``report_versions.resource_json``."""
    return _dumps(
        {
            "resourceType": "DiagnosticReport",
            "id": report_id,
            "status": "final",
            "identifier": [
                {
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "ACSN",
                            }
                        ]
                    },
                    "value": accession,
                }
            ],
            "code": {
                "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": exam[0]}],
                "text": exam[1],
            },
            "subject": {"reference": patient},
            "conclusion": REPORT_TEXT,
        }
    )


REPORT_TEXT = (
    "FINDINGS: The cardiomediastinal silhouette is within normal limits. The lungs are clear "
    "without focal consolidation, pleural effusion or pneumothorax. No acute osseous "
    "abnormality. Degenerative changes of the thoracic spine. IMPRESSION: No acute "
    "cardiopulmonary process. Stable appearance compared with the prior examination."
)
REPORT_SECTIONS = json.dumps(
    {
        "findings": REPORT_TEXT.split(" IMPRESSION: ")[0].removeprefix("FINDINGS: "),
        "impression": REPORT_TEXT.split(" IMPRESSION: ")[1],
    }
)
