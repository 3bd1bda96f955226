"""``cxr.metadata``: is the subject a human? Veterinary images must not pass as human CXRs.

Signals, strongest first: the veterinary Patient module (species, breed, breed registration),
then veterinary words in the descriptive elements of the study (institution, protocol,
processing description, procedure codes). Patient names and free-text patient history are
never read.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydicom.dataset import Dataset

from service.engines.base import Evidence, Finding, ImageInput
from service.engines.rules._dicom import sequence_items, value_text
from service.engines.rules._findings import finding, tag_evidence
from service.taxonomy import Severity

CODE = "cxr.metadata"

_HUMAN = re.compile(r"\b(?:HOMO\s+SAPIENS|HUMAN)\b|^337915000$", re.IGNORECASE)
_VETERINARY = re.compile(
    r"\b(?:VETERINAR\w*|VET\s+CLINIC|CANINE|FELINE|EQUINE|BOVINE|PORCINE|OVINE|CAPRINE|MURINE|"
    r"AVIAN|LEPORINE|DOGS?|PUPPY|HORSES?|PONY)\b",
    re.IGNORECASE,
)
# Descriptive elements that name the procedure or the place, never the patient.
_DESCRIPTIVE = (
    "InstitutionName",
    "InstitutionalDepartmentName",
    "StudyDescription",
    "SeriesDescription",
    "ProtocolName",
    "BodyPartExamined",
    "AcquisitionDeviceProcessingDescription",
    "PerformedProcedureStepDescription",
    "RequestedProcedureDescription",
)
_CODE_SEQUENCES = (
    "ProcedureCodeSequence",
    "PerformedProtocolCodeSequence",
    "RequestedProcedureCodeSequence",
    "AnatomicRegionSequence",
)


def names_an_animal(value: str) -> bool:
    """A descriptive value (BodyPartExamined "CANINE", a study description) names an animal or a
    veterinary setting: :func:`check_human_subject` reports it."""
    return bool(_VETERINARY.search(value))


def _species_evidence(ds: Dataset) -> list[Evidence]:
    """The veterinary Patient module: species other than human, a breed, a registration."""
    evidence: list[Evidence] = []
    species = value_text(ds, "PatientSpeciesDescription")
    if species and not _HUMAN.search(species):
        evidence.append(tag_evidence("PatientSpeciesDescription", species))
    for item in sequence_items(ds, "PatientSpeciesCodeSequence"):
        meaning = value_text(item, "CodeMeaning") or ""
        code = value_text(item, "CodeValue") or ""
        if not (_HUMAN.search(meaning) or _HUMAN.search(code)):
            evidence.append(tag_evidence("PatientSpeciesCodeSequence", meaning or code))
    breed = value_text(ds, "PatientBreedDescription")
    if breed:
        evidence.append(tag_evidence("PatientBreedDescription", breed))
    for keyword in ("PatientBreedCodeSequence", "BreedRegistrationSequence"):
        if sequence_items(ds, keyword):
            evidence.append(tag_evidence(keyword, None, items=len(sequence_items(ds, keyword))))
    return evidence


def _wording_evidence(ds: Dataset) -> list[Evidence]:
    """Veterinary words in the descriptions of the study and its procedure codes."""
    evidence: list[Evidence] = []
    for keyword in _DESCRIPTIVE:
        value = value_text(ds, keyword)
        if value and names_an_animal(value):
            evidence.append(tag_evidence(keyword, value))
    for keyword in _CODE_SEQUENCES:
        for item in sequence_items(ds, keyword):
            meaning = value_text(item, "CodeMeaning")
            if meaning and names_an_animal(meaning):
                evidence.append(tag_evidence(keyword, meaning))
    return evidence


def check_human_subject(item: ImageInput) -> list[Finding]:
    """A veterinary image is not a human chest radiograph."""
    species = _species_evidence(item.header)
    wording = _wording_evidence(item.header)
    if not species and not wording:
        return []
    confidence = 0.95 if species else (0.9 if len(wording) > 1 else 0.8)
    message = (
        "The header describes a veterinary (non-human) subject, so this is not a human chest "
        "radiograph; check where it was sent."
    )
    return [finding(CODE, Severity.MAJOR, message, species + wording, confidence)]


CHECKS: tuple[Callable[[ImageInput], list[Finding]], ...] = (check_human_subject,)
