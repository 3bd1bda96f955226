"""The error taxonomy (DESIGN §4): the one table of finding codes, displays and definitions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

CODE_SYSTEM = "https://radqc.org/fhir/CodeSystem/qc-finding"
SUMMARY_CODE = "qc.summary"

Kind = Literal["image", "report"]


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"

    @property
    def rank(self) -> int:
        return {"critical": 3, "major": 2, "minor": 1}[self.value]


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    kind: Kind
    display: str
    definition: str


_TABLE: tuple[Code, ...] = (
    Code(
        "cxr.field_of_view",
        "image",
        "Anatomy cut off",
        "Required anatomy not fully in the image: lung apices, costophrenic angles or lateral "
        "chest walls cut off.",
    ),
    Code("cxr.centering", "image", "Off-centre", "Thorax off-centre or tilted in the field."),
    Code(
        "cxr.rotation",
        "image",
        "Patient rotated",
        "Patient rotated: clavicles or lung fields asymmetric about the spine.",
    ),
    Code(
        "cxr.inspiration",
        "image",
        "Inadequate inspiration",
        "Inadequate inspiration: diaphragm too high, lungs short.",
    ),
    Code(
        "cxr.exposure",
        "image",
        "Exposure",
        "Under- or over-exposed: too bright or dark, clipped, poor use of dynamic range, "
        "quantum noise.",
    ),
    Code("cxr.sharpness", "image", "Unsharp", "Motion blur or unsharpness."),
    Code(
        "cxr.artifact",
        "image",
        "Artifact",
        "Foreign objects or artifacts over the lungs: jewellery, clothing, leads, grid lines, "
        "detector defects.",
    ),
    Code("cxr.scapula", "image", "Scapulae over lungs", "Scapulae projected over the lung fields."),
    Code(
        "cxr.orientation",
        "image",
        "Displayed wrongly",
        "Displayed wrongly: flipped left-right, upside down, rotated 90 degrees, inverted grey "
        "scale.",
    ),
    Code(
        "cxr.annotation",
        "image",
        "Annotation",
        "Laterality marker missing or contradicting the image; burned-in text over anatomy or "
        "burned-in patient data.",
    ),
    Code(
        "cxr.metadata",
        "image",
        "DICOM header",
        "DICOM header missing or inconsistent: ViewPosition, BodyPartExamined, ImageLaterality, "
        "PixelSpacing, Modality/SOP class, PatientSex, photometric or VOI LUT errors.",
    ),
    Code(
        "report.laterality",
        "report",
        "Left/right confusion",
        "Left/right confusion: between sections, against the ordered exam or the image, or "
        "within one statement.",
    ),
    Code(
        "report.sex",
        "report",
        "Sex mismatch",
        "Anatomy or wording that contradicts the patient's sex.",
    ),
    Code(
        "report.inconsistency",
        "report",
        "Findings contradict impression",
        "Findings and impression contradict each other (present in one, negated or different "
        "in the other).",
    ),
    Code(
        "report.omission",
        "report",
        "Omission",
        "A significant finding missing from the impression, a required section missing, or "
        "the report incomplete.",
    ),
    Code(
        "report.measurement",
        "report",
        "Measurement",
        "Implausible or inconsistent numbers and units (mm/cm confusion, sizes that change "
        "between sections, impossible values).",
    ),
    Code(
        "report.typo",
        "report",
        "Typo or dictation error",
        "Spelling, dictation or speech-recognition errors that change or obscure meaning.",
    ),
    Code(
        "report.exam_mismatch",
        "report",
        "Exam mismatch",
        "Content that does not fit the exam: wrong body region, technique, contrast phase, "
        "modality or date.",
    ),
    Code(
        "report.terminology",
        "report",
        "Terminology",
        "Non-standard terms and abbreviations, template placeholders left in the text.",
    ),
)

CODES: dict[str, Code] = {entry.code: entry for entry in _TABLE}


def codes_for(kind: Kind) -> list[Code]:
    return [entry for entry in _TABLE if entry.kind == kind]


def display(code: str) -> str:
    if code == SUMMARY_CODE:
        return "QC summary"
    return CODES[code].display
