"""A study's QC results as DICOM documents, built with highdicom.

**SR** (Comprehensive 3D SR, TID 1500 Imaging Measurement Report), one measurement group per
finding: ``Finding`` is the radqc code (coding scheme ``99RADQC``, the taxonomy's display), a
qualitative evaluation gives its severity, the algorithm (engine version) is named; a finding whose
evidence locates an image region is a planar ROI group (the region as a closed polyline in the
image's pixel coordinates, and the metric measured there as a numeric measurement), the others
reference their source image. Each image also gets a ``qc.summary`` group saying pass or fail, so
the PACS can tell an image that was checked and passed from one never checked.

**KOS** (Key Object Selection, title DCM 113010 "Quality Issue"): the flagged images, with the codes
found in its description.

Images whose stored file was removed by retention cannot be referenced (their header is gone with
the file) and are left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from highdicom.ko import KeyObjectSelection, KeyObjectSelectionDocument
from highdicom.sr import (
    AlgorithmIdentification,
    CodedConcept,
    Comprehensive3DSR,
    DeviceObserverIdentifyingAttributes,
    GraphicTypeValues,
    ImageRegion,
    Measurement,
    MeasurementReport,
    MeasurementsAndQualitativeEvaluations,
    ObservationContext,
    ObserverContext,
    PlanarROIMeasurementsAndQualitativeEvaluations,
    QualitativeEvaluation,
    SourceImageForMeasurementGroup,
    SourceImageForRegion,
    TrackingIdentifier,
)
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes

from service.pacs.results import (
    FindingResult,
    ImageResult,
    StudyResults,
    derived_uid,
    document_uid,
    series_uid,
)
from service.taxonomy import CODES, SUMMARY_CODE

SCHEME: Final = "99RADQC"  # a private coding scheme: radqc's taxonomy (DESIGN §4)
SR: Final = "sr"
KOS: Final = "kos"
SR_SERIES_NUMBER: Final = 9901
KOS_SERIES_NUMBER: Final = 9902
PROCEDURE: Final = CodedConcept("399208008", "SCT", "Plain chest X-ray")
PRESENT: Final = CodedConcept("52101004", "SCT", "Present")
SEVERITY: Final = CodedConcept("severity", SCHEME, "QC severity")
QC_RESULT: Final = CodedConcept(SUMMARY_CODE, SCHEME, "QC result")
PASS: Final = CodedConcept("pass", SCHEME, "Pass")
FAIL: Final = CodedConcept("fail", SCHEME, "Fail")
DEVICE_UID: Final = derived_uid("radqc", "device")


@dataclass(frozen=True, slots=True)
class Document:
    kind: str  # SR or KOS
    dataset: Dataset
    sop_instance_uid: str
    content_hash: str


def _code(code: str) -> CodedConcept:
    known = CODES.get(code)
    return CodedConcept(code, SCHEME, known.display if known else code)


def _severity(value: str) -> CodedConcept:
    return CodedConcept(value, SCHEME, value.capitalize())


def _observer(model: str) -> ObserverContext:
    return ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=DeviceObserverIdentifyingAttributes(
            uid=DEVICE_UID, name="radqc", manufacturer_name="radqc", model_name=model[:64]
        ),
    )


def _region(evidence: Sequence[Any], header: Dataset) -> tuple[list[float], str, float] | None:
    """The first evidence entry that locates a region on this image: its box [x0, y0, x1, y1],
    the metric measured there and its value (metric "" when none)."""
    for entry in evidence:
        if not isinstance(entry, Mapping):
            continue
        box = entry.get("region")
        if not (isinstance(box, list | tuple) and len(box) == 4):
            continue
        x0, y0, x1, y1 = (float(v) for v in box)
        cols, rows = float(header.Columns), float(header.Rows)
        x0, x1 = max(0.0, min(x0, cols)), max(0.0, min(x1, cols))
        y0, y1 = max(0.0, min(y0, rows)), max(0.0, min(y1, rows))
        if x1 <= x0 or y1 <= y0:
            continue
        value = entry.get("value")
        if isinstance(value, int | float) and entry.get("metric"):
            return [x0, y0, x1, y1], str(entry["metric"]), float(value)
        return [x0, y0, x1, y1], "", 0.0
    return None


def _group(
    finding: FindingResult, header: Dataset, tracking: str
) -> MeasurementsAndQualitativeEvaluations | PlanarROIMeasurementsAndQualitativeEvaluations:
    identifier = TrackingIdentifier(
        uid=derived_uid(tracking),
        identifier=f"{finding.code} {finding.problem_key}".strip()[:64],
    )
    evaluations = [
        QualitativeEvaluation(_code(finding.code), PRESENT),
        QualitativeEvaluation(SEVERITY, _severity(finding.severity)),
    ]
    algorithm = AlgorithmIdentification(name="radqc", version=finding.engine_version[:64])
    located = _region(finding.evidence, header)
    if located is None:
        return MeasurementsAndQualitativeEvaluations(
            tracking_identifier=identifier,
            finding_type=_code(finding.code),
            algorithm_id=algorithm,
            qualitative_evaluations=evaluations,
            source_images=[SourceImageForMeasurementGroup.from_source_image(header)],
        )
    (x0, y0, x1, y1), metric, value = located
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]], dtype=float)
    measurements = (
        [
            Measurement(
                name=CodedConcept(metric[:16], SCHEME, metric), value=value, unit=codes.UCUM.NoUnits
            )
        ]
        if metric
        else None
    )
    return PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=identifier,
        referenced_region=ImageRegion(
            graphic_type=GraphicTypeValues.POLYLINE,
            graphic_data=corners,
            source_image=SourceImageForRegion.from_source_image(header),
        ),
        finding_type=_code(finding.code),
        algorithm_id=algorithm,
        measurements=measurements,
        qualitative_evaluations=evaluations,
    )


def _summary_group(image: ImageResult, header: Dataset, study_uid: str) -> Any:
    return MeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(
            uid=derived_uid(study_uid, image.sop_instance_uid),
            identifier=f"{SUMMARY_CODE} {image.sop_instance_uid}"[:64],
        ),
        finding_type=QC_RESULT,
        qualitative_evaluations=[QualitativeEvaluation(QC_RESULT, FAIL if image.flagged else PASS)],
        source_images=[SourceImageForMeasurementGroup.from_source_image(header)],
    )


def _dated(dataset: Dataset, when: dt.datetime | None) -> Dataset:
    """Content date and time from the QC time, so the same results give the same document."""
    if when is not None:
        dataset.ContentDate = when.strftime("%Y%m%d")
        dataset.ContentTime = when.strftime("%H%M%S")
    return dataset


def _with_scheme(dataset: Dataset) -> Dataset:
    """Name radqc's private coding scheme (SR Document General module)."""
    scheme = Dataset()
    scheme.CodingSchemeDesignator = SCHEME
    scheme.CodingSchemeName = "radqc QC finding codes"
    scheme.CodingSchemeResponsibleOrganization = "radqc"
    dataset.CodingSchemeIdentificationSequence = [scheme]
    return dataset


def build(
    results: StudyResults,
    headers: Mapping[str, Dataset],
    *,
    instance_numbers: Mapping[str, int] | None = None,
) -> list[Document]:
    """The SR (and the KOS when an image is flagged) of ``results``; ``headers`` are the images'
    stored headers by SOP Instance UID (images without one are left out). ``instance_numbers``
    gives each kind's Instance Number (default 1)."""
    images = [image for image in results.images if image.sop_instance_uid in headers]
    if not images:
        return []
    content = results.content_hash()
    model = ", ".join(results.engine_versions) or "radqc"
    study_uid = results.study_instance_uid
    numbers = instance_numbers or {}
    groups: list[Any] = []
    for image in images:
        header = headers[image.sop_instance_uid]
        groups.append(_summary_group(image, header, study_uid))
        for n, finding in enumerate(image.findings):
            tracking = (
                f"{study_uid}/{image.sop_instance_uid}/{finding.code}/{finding.problem_key}/{n}"
            )
            groups.append(_group(finding, header, tracking))
    evidence = [headers[image.sop_instance_uid] for image in images]
    report = MeasurementReport(
        observation_context=ObservationContext(observer_device_context=_observer(model)),
        procedure_reported=PROCEDURE,
        imaging_measurements=groups,
    )
    sr_uid = document_uid(study_uid, SR, content)
    sr = Comprehensive3DSR(
        evidence=evidence,
        content=report,
        series_instance_uid=series_uid(study_uid, SR),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=sr_uid,
        instance_number=numbers.get(SR, 1),
        manufacturer="radqc",
        is_complete=True,
        series_description="radqc QC results",
    )
    documents = [Document(SR, _with_scheme(_dated(sr, results.processed_at)), sr_uid, content)]
    flagged = [image for image in images if image.flagged]
    if flagged:
        found = sorted({f.code for image in flagged for f in image.findings})
        kos_uid = document_uid(study_uid, KOS, content)
        kos = KeyObjectSelectionDocument(
            evidence=[headers[image.sop_instance_uid] for image in flagged],
            content=KeyObjectSelection(
                document_title=codes.DCM.QualityIssue,
                referenced_objects=[headers[image.sop_instance_uid] for image in flagged],
                observer_device_context=_observer(model),
                description=f"radqc QC: {', '.join(found)}"[:1024],
            ),
            series_instance_uid=series_uid(study_uid, KOS),
            series_number=KOS_SERIES_NUMBER,
            sop_instance_uid=kos_uid,
            instance_number=numbers.get(KOS, 1),
            manufacturer="radqc",
        )
        kos.SeriesDescription = "radqc QC: flagged images"
        documents.append(Document(KOS, _dated(kos, results.processed_at), kos_uid, content))
    return documents


__all__ = ["KOS", "SR", "Document", "build"]
