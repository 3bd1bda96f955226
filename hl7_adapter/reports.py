"""ORU^R01 (and MDM^T02/T10) segments -> :class:`service.ingest.ReceivedReport`, one per report.

An ORU^R01 may carry several order groups (``[ORC] OBR {OBX}``) under a patient (PID); each
group is one report. The mapping (see also the README's table):

==================================  =======================================================
HL7                                 received report
==================================  =======================================================
OBR-3 (else ORC-3) filler order     ``accession``; with its namespace (OBR-3.2, else MSH-4,
number                              else MSH-3) the ``report_id`` (a UUIDv5: stable across
                                    corrections, one report per order)
OBR-4 universal service id          ``exam_code`` (4.1), ``exam_display`` (4.2)
OBR-25 result status                ``status``: F final, C corrected, P preliminary, A/R
                                    partial, X entered-in-error (the report is withdrawn)
OBX text (TX, FT, ST; else ED)      ``text`` (lines in order), ``sections``
PID-8 administrative sex            ``patient_sex``: M male, F female, O/A other, U/N unknown
PID-3, -5, -7, -13                  a contained Patient in ``resource_json`` (MRN, name,
                                    birth date, phone: what de-identification removes)
ZDS-1 (or OBX-3 113014 DCM)         ``study_instance_uid``
OBR-7, OBR-22                       ``effectiveDateTime``, ``issued`` of the resource
==================================  =======================================================

``resource_json`` is the report as a FHIR R4 DiagnosticReport (what radqc's FHIR read API
serves and what write-back references are built from); ``content_hash`` is its canonical hash,
so the same report re-sent under another control id or timestamp is the same version.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from hl7_adapter.errors import ErrorCode, content_error
from hl7_adapter.fields import fhir_date, fhir_date_time, segment_id, value
from hl7_adapter.message import Header
from hl7_adapter.report_text import report_text
from service import canonical
from service.ingest import ReceivedReport
from service.reports.sections import sections_dict

_NAMESPACE = uuid.UUID("0d7e6a4c-58f5-5b0e-9a57-3c1f8e2b6d90")  # radqc ids of HL7 reports
_STATUS = {
    "F": "final",
    "C": "corrected",
    "P": "preliminary",
    "A": "partial",
    "R": "partial",
    "X": "entered-in-error",
}
_NOT_YET = frozenset({"O", "I", "S"})  # ordered, no result yet
_SEX = {"M": "male", "F": "female", "O": "other", "A": "other", "U": "unknown", "N": "unknown"}
_SYSTEMS = {
    "LN": "http://loinc.org",
    "SCT": "http://snomed.info/sct",
    "RADLEX": "http://radlex.org",
}
_DICOM_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_STUDY_UID_CODE = "113014"  # DCM "Study Instance UID" in OBX-3
_V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
_PATIENT = "patient"
# column sizes in service.models.ReportVersion
_MAX_CODE, _MAX_DISPLAY, _MAX_ACCESSION = 64, 255, 64


@dataclass
class OrderGroup:
    """One report in the message: its opening segment (OBR, or TXA for MDM), the order segments
    before it, and its observations."""

    patient: Any
    orc: Any | None
    obr: Any | None
    opener: Any
    position: int  # the opener's sequence among its kind (1 for the first OBR)
    observations: list[tuple[int, Any]] = field(default_factory=list)
    study_uid: tuple[str, str] | None = None  # (value, where)


def order_groups(message: Any, opener: str = "OBR") -> list[OrderGroup]:
    """The report groups, in order; ``AE`` for a segment out of place or one missing."""
    counts: dict[str, int] = {}
    patient = orc = obr = None
    groups: list[OrderGroup] = []
    for segment in list(message)[1:]:
        name = segment_id(segment)
        counts[name] = position = counts.get(name, 0) + 1
        if name == "PID":
            patient, orc, obr = segment, None, None
        elif name == "ORC":
            orc = segment
        elif name == "OBR" and opener != "OBR":
            obr = segment
        if name == opener:
            if patient is None:
                raise content_error(
                    ErrorCode.SEGMENT_SEQUENCE, f"no PID before the {opener}", "PID"
                )
            group_obr = segment if opener == "OBR" else obr
            groups.append(OrderGroup(patient, orc, group_obr, segment, position))
            orc = None
        elif name in {"OBX", "ZDS"}:
            if not groups:
                where = f"{name}^{position}"
                raise content_error(
                    ErrorCode.SEGMENT_SEQUENCE, f"{name} before any {opener}", where
                )
            _attach(groups[-1], name, position, segment)
    if patient is None:
        raise content_error(ErrorCode.SEGMENT_SEQUENCE, "the PID segment is missing", "PID")
    if not groups:
        raise content_error(ErrorCode.SEGMENT_SEQUENCE, f"the {opener} segment is missing", opener)
    return groups


def _attach(group: OrderGroup, name: str, position: int, segment: Any) -> None:
    if name == "ZDS":
        group.study_uid = (value(segment, 1), f"ZDS^{position}^1")
    elif value(segment, 3) == _STUDY_UID_CODE:
        group.study_uid = (value(segment, 5), f"OBX^{position}^5")
    else:
        group.observations.append((position, segment))


def filler_number(group: OrderGroup) -> tuple[str, str] | None:
    """(filler order number, its namespace) from OBR-3, else ORC-3."""
    for segment in (group.obr, group.orc):
        if segment is not None and value(segment, 3):
            return value(segment, 3), value(segment, 3, 2)
    return None


def _filler(group: OrderGroup) -> tuple[str, str]:
    found = filler_number(group)
    if found is not None:
        return found
    raise content_error(
        ErrorCode.REQUIRED_FIELD,
        "the filler order number (accession) is missing from OBR-3 and ORC-3",
        f"OBR^{group.position}^3",
    )


def _status(group: OrderGroup) -> str:
    code = value(group.opener, 25).upper()
    where = f"OBR^{group.position}^25"
    if not code:
        raise content_error(ErrorCode.REQUIRED_FIELD, "the result status is missing", where)
    if code in _NOT_YET:
        raise content_error(
            ErrorCode.TABLE_VALUE, "the result status says there is no result yet", where
        )
    if code not in _STATUS:
        raise content_error(
            ErrorCode.TABLE_VALUE, "the result status is not one of F, C, P, A, R, X", where
        )
    return _STATUS[code]


def exam_concept(segment: Any, where: str) -> dict[str, Any]:
    """The FHIR ``code`` of the exam from a CE/CWE field (OBR-4, TXA-2)."""
    number = int(where.rsplit("^", 1)[1])
    code, display, system = (value(segment, number, n) for n in (1, 2, 3))
    if not code and not display:
        raise content_error(ErrorCode.REQUIRED_FIELD, "the exam is missing", where)
    if len(code) > _MAX_CODE:
        raise content_error(
            ErrorCode.DATA_TYPE, f"the exam code is longer than {_MAX_CODE} characters", where
        )
    coding = {
        key: item
        for key, item in (
            ("system", _SYSTEMS.get(system.upper())),
            ("code", code),
            ("display", display[:_MAX_DISPLAY]),
        )
        if item
    }
    concept: dict[str, Any] = {"coding": [coding]} if code else {}
    if display:
        concept["text"] = display[:_MAX_DISPLAY]
    return concept


def study_uid(found: tuple[str, str] | None) -> str | None:
    """A Study Instance UID found at ``(value, where)``; ``AE`` when it is not a DICOM UID."""
    if found is None or not found[0]:
        return None
    uid, where = found
    if len(uid) > 64 or not _DICOM_UID.match(uid):
        raise content_error(ErrorCode.DATA_TYPE, "not a DICOM UID", where)
    return uid


def _patient(pid: Any) -> dict[str, Any]:
    """The contained Patient: MRN (PID-3, the MR repetition else the first), name, sex, birth
    date and phone; what radqc keeps of PID."""
    patient: dict[str, Any] = {"resourceType": "Patient", "id": _PATIENT}
    identifiers = []
    count = len(pid(3)) if len(pid) > 3 and not isinstance(pid(3), str) else 1
    for repetition in range(1, count + 1):
        number = value(pid, 3, 1, repetition)
        if not number:
            continue
        identifier: dict[str, Any] = {"value": number}
        authority, kind = value(pid, 3, 4, repetition, 2), value(pid, 3, 4, repetition, 3)
        if authority and kind.upper() == "ISO" and _DICOM_UID.match(authority):
            identifier["system"] = f"urn:oid:{authority}"
        type_code = value(pid, 3, 5, repetition)
        if type_code:
            identifier["type"] = {"coding": [{"system": _V2_0203, "code": type_code}]}
        identifiers.append(identifier)
    identifiers.sort(key=lambda i: i.get("type", {}).get("coding", [{}])[0].get("code") != "MR")
    if identifiers:
        patient["identifier"] = identifiers
    family, given = value(pid, 5, 1), [value(pid, 5, n) for n in (2, 3)]
    if family or any(given):
        name: dict[str, Any] = {"family": family} if family else {}
        if any(given):
            name["given"] = [part for part in given if part]
        patient["name"] = [name]
    sex = _SEX.get(value(pid, 8).upper())
    if sex:
        patient["gender"] = sex
    birth = fhir_date(value(pid, 7))
    if birth:
        patient["birthDate"] = birth
    phone = value(pid, 13)
    if phone:
        patient["telecom"] = [{"system": "phone", "value": phone}]
    return patient


@dataclass(frozen=True, slots=True)
class ReportFacts:
    """What one report of a message says, read from its segments (ORU or MDM)."""

    patient: Any  # the PID segment
    filler: str  # what identifies the report: the filler order number (else a document number)
    namespace: str  # its namespace, else the sender's
    accession: str | None  # the filler order number, when there is one
    status: str  # FHIR DiagnosticReport.status
    code: dict[str, Any]  # FHIR CodeableConcept of the exam
    effective: str  # HL7 TS, as sent
    issued: str  # HL7 TS, as sent
    study_uid: str | None
    observations: list[tuple[int, Any]]
    where: str  # the segment that opened the report, for errors ("OBR^1")


def _resource(facts: ReportFacts, text: str) -> dict[str, Any]:
    """The report as a FHIR R4 DiagnosticReport (no ``id``: radqc's id is not the RIS's)."""
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "contained": [_patient(facts.patient)],
        "status": facts.status,
        "code": facts.code,
        "subject": {"reference": f"#{_PATIENT}"},
    }
    if facts.accession:
        accession_type = {"coding": [{"system": _V2_0203, "code": "ACSN"}]}
        resource["identifier"] = [{"type": accession_type, "value": facts.accession}]
    effective = fhir_date_time(facts.effective)
    if effective:
        resource["effectiveDateTime"] = effective
    issued = fhir_date_time(facts.issued)
    if issued and "T" in issued:
        resource["issued"] = issued
    if facts.study_uid:
        identifier = {"system": "urn:dicom:uid", "value": f"urn:oid:{facts.study_uid}"}
        resource["imagingStudy"] = [{"identifier": identifier}]
    data = base64.b64encode(text.encode("utf-8")).decode("ascii")
    resource["presentedForm"] = [{"contentType": "text/plain; charset=utf-8", "data": data}]
    return resource


def report_id(namespace: str, filler: str) -> str:
    """radqc's id of the report of one order: the same order gives the same id, so a
    correction is a new version of the same report."""
    return str(uuid.uuid5(_NAMESPACE, f"hl7|{namespace}|{filler}"))


def received_report(facts: ReportFacts) -> ReceivedReport:
    """The received report; ``AE`` when it has no text or a value that cannot be stored."""
    if len(facts.filler) > _MAX_ACCESSION:
        raise content_error(
            ErrorCode.DATA_TYPE,
            f"the filler order number is longer than {_MAX_ACCESSION} characters",
            facts.where,
        )
    if not facts.observations:
        raise content_error(ErrorCode.SEGMENT_SEQUENCE, "the report has no OBX segment", "OBX")
    text = report_text(facts.observations)
    if not text.strip():
        raise content_error(
            ErrorCode.REQUIRED_FIELD,
            "the report has no text (OBX of type TX, FT, ST or ED)",
            f"OBX^{facts.observations[0][0]}^5",
        )
    if "\x00" in text:
        raise content_error(ErrorCode.DATA_TYPE, "the report text holds a NUL character")
    resource = _resource(facts, text)
    coding = facts.code.get("coding", [{}])[0]
    return ReceivedReport(
        report_id=report_id(facts.namespace, facts.filler),
        content_hash=canonical.content_hash(resource),
        resource_json=json.dumps(resource, ensure_ascii=False, separators=(",", ":")),
        text=text,
        sections=sections_dict(text),
        status=facts.status,
        patient_sex=resource["contained"][0].get("gender"),
        subject_reference=f"#{_PATIENT}",
        exam_code=coding.get("code"),
        exam_display=coding.get("display") or facts.code.get("text"),
        accession=facts.accession,
        study_instance_uid=facts.study_uid,
    )


def sender_namespace(header: Header) -> str:
    return header.sending_facility or header.sending_application


def _oru_facts(header: Header, group: OrderGroup) -> ReportFacts:
    filler, namespace = _filler(group)
    return ReportFacts(
        patient=group.patient,
        filler=filler,
        namespace=namespace or sender_namespace(header),
        accession=filler,
        status=_status(group),
        code=exam_concept(group.opener, f"OBR^{group.position}^4"),
        effective=value(group.opener, 7),
        issued=value(group.opener, 22),
        study_uid=study_uid(group.study_uid),
        observations=group.observations,
        where=f"OBR^{group.position}",
    )


def oru_reports(header: Header, message: Any) -> list[ReceivedReport]:
    """The reports of an ORU^R01 message; ``AE`` when one of them is wrong (none is stored)."""
    reports = [received_report(_oru_facts(header, group)) for group in order_groups(message)]
    ids = [report.report_id for report in reports]
    if len(set(ids)) != len(ids):
        raise content_error(
            ErrorCode.DUPLICATE_KEY, "two OBR groups have the same filler order number", "OBR"
        )
    return reports
