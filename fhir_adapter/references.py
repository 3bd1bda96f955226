"""How an Observation refers to the patient, the report and the study on the hospital FHIR server
(issue 11, ``RADQC_FHIR_WRITEBACK_REFERENCES``).

radqc stores and serves its Observations with references that resolve on radqc's own FHIR API
(``DiagnosticReport/r1/_history/2`` names radqc's version 2). Those mean nothing on another
server, so what is written back is a view of the stored Observation with references the hospital
server can use:

- ``identifier`` (default): logical references, ``Reference.identifier``: the patient's MRN (the
  report subject's identifier, or its contained Patient's ``MR`` identifier; an image's DICOM
  PatientID, under ``RADQC_FHIR_WRITEBACK_PATIENT_ID_SYSTEM``), the report's own identifier (or
  its accession), the study's Study Instance UID (else its accession). Where radqc knows no
  identifier, the literal reference the RIS sent is used instead, so nothing is left unlinked.
- ``literal``: the ids the RIS sent (``Patient/p1``, ``DiagnosticReport/<its id>``), for a
  hospital server that already holds them; identifiers where there is no such id (images).
- ``both``: a reference with both, when radqc knows both.

Never a ``_history`` reference: a version of radqc's is no version on the hospital server.
``focus`` (what was checked: the report, else the study) is made the same way as ``derivedFrom``.
``hasMember`` is left as it is: radqc writes its Observations under their own ids.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from fhir_adapter.identifiers import clean, report_patient, type_code
from fhir_adapter.observations import DICOM_UID_SYSTEM, PATIENT_ID_SYSTEM
from service.models import Item

ReferenceMode = Literal["identifier", "literal", "both"]
IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_HISTORY = re.compile(r"/_history/[^/]*$")
_ACCESSION_TYPE = {"coding": [{"system": IDENTIFIER_TYPES, "code": "ACSN"}]}


@dataclass(frozen=True, slots=True)
class Target:
    """One thing an Observation refers to, as the hospital server may know it."""

    type: str  # Patient | DiagnosticReport | ImagingStudy
    literal: str | None = None  # "Patient/p1": an id the RIS sent
    identifier: dict[str, Any] | None = None

    def reference(self, mode: ReferenceMode) -> dict[str, Any] | None:
        literal = self.literal if mode != "identifier" or self.identifier is None else None
        identifier = self.identifier if mode != "literal" or self.literal is None else None
        if literal is None and identifier is None:
            return None
        out: dict[str, Any] = {}
        if literal is not None:
            out["reference"] = literal
        out["type"] = self.type
        if identifier is not None:
            out["identifier"] = identifier
        return out


@dataclass(frozen=True, slots=True)
class Targets:
    """What an item's Observations refer to: the patient, then what they derive from."""

    patient: Target | None
    derived_from: tuple[Target, ...]


def targets_of(item: Item, patient_id_system: str = "") -> Targets:
    """The patient, report and study of ``item``, with every id and identifier radqc holds."""
    if item.kind == "image":
        return _image_targets(item, patient_id_system or PATIENT_ID_SYSTEM)
    return _report_targets(item)


def _image_targets(item: Item, patient_system: str) -> Targets:
    instance = item.instance
    patient = None
    if instance is not None and instance.patient_id:
        patient = Target("Patient", identifier=_identifier(patient_system, instance.patient_id))
    return Targets(patient, _study(item.study_instance_uid, item.accession))


def _report_targets(item: Item) -> Targets:
    version = item.report_version_row
    resource = _json(version.resource_json) if version is not None else {}
    literal = version.subject_reference if version is not None else None
    if literal is not None and (literal.startswith(("#", "urn:")) or not literal.strip()):
        literal = None  # contained, or a Bundle's placeholder: no id on any server
    patient_identifier = report_patient(resource)
    patient = Target("Patient", literal, patient_identifier)
    report_id = resource.get("id")
    report = Target(
        "DiagnosticReport",
        f"DiagnosticReport/{report_id}"
        if isinstance(report_id, str) and _FHIR_ID.match(report_id)
        else None,
        _report_identifier(resource),
    )
    accession = version.accession if version is not None else item.accession
    study_uid = version.study_instance_uid if version is not None else item.study_instance_uid
    return Targets(patient, (report, *_study(study_uid, accession)))


def _study(study_uid: str | None, accession: str | None) -> tuple[Target, ...]:
    if study_uid:
        identifier = _identifier(DICOM_UID_SYSTEM, f"urn:oid:{study_uid}")
    elif accession:
        identifier = {"type": _ACCESSION_TYPE, "value": accession}
    else:
        return ()
    return (Target("ImagingStudy", identifier=identifier),)


def _report_identifier(resource: Mapping[str, Any]) -> dict[str, Any] | None:
    """The report's own identifier; its accession (typed ACSN) when it has no other."""
    identifiers = [i for i in resource.get("identifier") or () if clean(i) is not None]
    own = [i for i in identifiers if not _is_accession(i)]
    return clean((own or identifiers or [None])[0])


def _is_accession(identifier: Mapping[str, Any]) -> bool:
    return type_code(identifier) == "ACSN" or "accession" in str(identifier.get("system", ""))


def _identifier(system: str, value: str) -> dict[str, Any]:
    return {"system": system, "value": value}


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# -- the hospital's view of an Observation ---------------------------------------------------
def for_hospital(
    resource: Mapping[str, Any], targets: Targets, mode: ReferenceMode
) -> dict[str, Any]:
    """A copy of the stored Observation whose ``subject``, ``focus`` and ``derivedFrom`` the
    hospital server can resolve or match (see the module doc); no ``_history`` reference is left.

    A stored ``derivedFrom`` by identifier alone that is not one of the targets is kept."""
    out = dict(resource)
    subject = targets.patient.reference(mode) if targets.patient is not None else None
    derived = [ref for t in targets.derived_from if (ref := t.reference(mode)) is not None]
    if "focus" in resource and derived:
        out["focus"] = [dict(derived[0])]
    known = {_identity(ref) for ref in derived}
    derived += [
        ref
        for ref in resource.get("derivedFrom") or ()
        if isinstance(ref, dict) and "reference" not in ref and _identity(ref) not in known
    ]
    out.pop("subject", None)
    out.pop("derivedFrom", None)
    if subject is not None:
        out["subject"] = subject
    if derived:
        out["derivedFrom"] = derived
    return dict(_without_history(out))


def _identity(reference: Mapping[str, Any]) -> str:
    return json.dumps(reference.get("identifier"), sort_keys=True)


def _without_history(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _HISTORY.sub("", v)
            if k == "reference" and isinstance(v, str)
            else _without_history(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_without_history(v) for v in value]
    return value
