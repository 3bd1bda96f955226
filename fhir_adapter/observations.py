"""The one place that builds FHIR R4 Observation resources from radqc's findings (DESIGN §5).

Each item gets one Observation per finding and one ``qc.summary``. Ids are deterministic (a hash
of the item's natural key, with its version, and the finding's engine, code, scope and problem
key), so a write-back repeated after a crash overwrites instead of duplicating. Resources are
plain dicts of FHIR JSON; they carry no ``meta``: the version and time they were stored are added
when they are read.

What every Observation says (issue 11):

- ``focus``: what was checked (the DiagnosticReport version, or the ImagingStudy by its Study
  Instance UID), the same reference as ``derivedFrom``; ``subject`` stays the patient.
- ``effectiveDateTime``: when the source was made, the study or report time
  (:mod:`fhir_adapter.effective`); ``issued``: when radqc checked it. Without a source time,
  ``effective`` falls back to the QC time.
- A finding: ``valueCodeableConcept`` SNOMED CT 52101004 "Present" (the problem is present) and
  ``interpretation`` v3 ``A`` (abnormal), whatever its severity (a QC error is never a critical
  clinical result, so never ``AA``); severity and confidence stay components.
- The ``qc.summary``: ``valueCodeableConcept`` ``pass``/``fail`` and ``interpretation`` ``N``
  (normal) / ``A`` (abnormal).
- ``status``: see :mod:`fhir_adapter.lifecycle`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydicom.dataset import Dataset

from fhir_adapter.effective import dicom_effective, report_effective
from fhir_adapter.effective import fhir_instant as fhir_instant  # its former home: re-exported
from fhir_adapter.identifiers import report_patient
from service import canonical
from service.models import FindingRow, Item, utcnow
from service.taxonomy import CODE_SYSTEM, SUMMARY_CODE, Severity, display

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
SEVERITY_SYSTEM = "https://radqc.org/fhir/CodeSystem/qc-severity"
COMPONENT_SYSTEM = "https://radqc.org/fhir/CodeSystem/qc-component"
RESULT_SYSTEM = "https://radqc.org/fhir/CodeSystem/qc-result"
ENGINE_SYSTEM = "https://radqc.org/fhir/CodeSystem/qc-engine"
SOP_INSTANCE_EXTENSION = "https://radqc.org/fhir/StructureDefinition/sop-instance-uid"
PATIENT_ID_SYSTEM = "urn:radqc:dicom-patient-id"
DICOM_UID_SYSTEM = "urn:dicom:uid"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"

Status = Literal["preliminary", "final", "cancelled", "entered-in-error"]
PRELIMINARY: Status = "preliminary"
FINAL: Status = "final"
CANCELLED: Status = "cancelled"
ENTERED_IN_ERROR: Status = "entered-in-error"
CURRENT_STATUSES: frozenset[str] = frozenset({PRELIMINARY, FINAL})
"""An Observation with one of these statuses is current: ``status=preliminary,final``."""
TERMINAL_STATUSES: frozenset[str] = frozenset({CANCELLED, ENTERED_IN_ERROR})

TIME_ELEMENTS = ("effectiveDateTime", "issued")

_ID_PREFIX = "rqc-"
_ID_HEX_CHARS = 40  # 160 bits of SHA-256: "rqc-" + 40 = 44 characters, within FHIR's 64
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")
_QUOTE_KEYS = ("quote", "text")  # the quoted report text of a text span
_PRESENT = ("52101004", "Present")
_ABNORMAL = ("A", "Abnormal")
_NORMAL = ("N", "Normal")
_SEVERITY_DISPLAY = {
    Severity.CRITICAL: "Critical",
    Severity.MAJOR: "Major",
    Severity.MINOR: "Minor",
}


# -- ids -------------------------------------------------------------------------------------
def observation_id(natural_key: str) -> str:
    """A valid FHIR id (``[A-Za-z0-9.-]{1,64}``) derived from ``natural_key``."""
    return _ID_PREFIX + hashlib.sha256(natural_key.encode()).hexdigest()[:_ID_HEX_CHARS]


def item_key(item: Item) -> str:
    """The natural key of an item: its SOP Instance UID or report id, with the version."""
    if item.kind == "image":
        instance = item.instance
        if instance is None:
            raise ValueError(f"image item {item.id} has no instance")
        return f"sop:{instance.sop_instance_uid}:v{instance.version}"
    if item.report_id is None or item.report_version is None:
        raise ValueError(f"report item {item.id} has no report id or version")
    return f"report:{item.report_id}:v{item.report_version}"


def finding_observation_id(key: str, engine: str, code: str, scope: str, problem: str = "") -> str:
    """``problem``: the finding's problem key (:mod:`service.findings`), which tells apart several
    findings of one code; a finding without one keeps the id of one finding per code."""
    natural = f"{key}|{engine}|{code}|{scope}"
    return observation_id(f"{natural}|{problem}" if problem else natural)


def _finding_id(context: ItemContext, finding: FindingRow) -> str:
    return finding_observation_id(
        context.key, finding.engine, finding.code, finding.scope, finding.problem_key
    )


def summary_observation_id(key: str) -> str:
    return observation_id(f"{key}|{SUMMARY_CODE}")


# -- what an item's Observations share -------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ItemContext:
    """The parts every Observation of one item shares, and their searchable string forms.

    ``subject_key`` and ``derived_from_key`` are what radqc's search API matches: a reference
    (``Patient/p1``, ``DiagnosticReport/r1/_history/2``) or, for logical references by
    identifier, ``system|value``. ``effective``: the source's time (a FHIR dateTime), ``None``
    when it has none; ``processed_at``: the QC time.
    """

    item_id: int
    key: str
    subject: dict[str, Any] | None
    subject_key: str | None
    derived_from: dict[str, Any] | None
    derived_from_key: str | None
    extensions: tuple[dict[str, Any], ...]
    processed_at: dt.datetime | None
    effective: str | None = None


def item_context(item: Item, header: Dataset | None = None) -> ItemContext:
    """What the item's Observations share; ``header``: an image's DICOM header, for its study
    time (without it an image's ``effective`` is the QC time)."""
    if item.kind == "image":
        return _image_context(item, header)
    return _report_context(item)


def _image_context(item: Item, header: Dataset | None) -> ItemContext:
    instance = item.instance
    assert instance is not None
    subject = subject_key = None
    if instance.patient_id:
        subject = {
            "type": "Patient",
            "identifier": {"system": PATIENT_ID_SYSTEM, "value": instance.patient_id},
        }
        subject_key = f"{PATIENT_ID_SYSTEM}|{instance.patient_id}"
    derived = derived_key = None
    if item.study_instance_uid:
        study_oid = f"urn:oid:{item.study_instance_uid}"
        derived = {
            "type": "ImagingStudy",
            "identifier": {"system": DICOM_UID_SYSTEM, "value": study_oid},
        }
        derived_key = f"{DICOM_UID_SYSTEM}|{study_oid}"
    return ItemContext(
        item_id=item.id,
        key=item_key(item),
        subject=subject,
        subject_key=subject_key,
        derived_from=derived,
        derived_from_key=derived_key,
        extensions=(_sop_extension(instance.sop_instance_uid),),
        processed_at=item.processed_at,
        effective=dicom_effective(header) if header is not None else None,
    )


def _report_context(item: Item) -> ItemContext:
    version = item.report_version_row
    reference = version.subject_reference if version is not None else None
    derived_key = f"DiagnosticReport/{item.report_id}/_history/{item.report_version}"
    resource = _json_object(version.resource_json) if version is not None else {}
    subject: dict[str, Any] | None = None
    subject_key = None
    if reference is not None and reference.strip() and not reference.startswith("#"):
        subject, subject_key = {"reference": reference}, reference
    else:
        # no reference, or one into the report's contained resources (meaningless outside the
        # report): the patient's identifier, when it has a system (an HL7 v2 report's PID-3)
        identifier = report_patient(resource)
        if identifier is not None and identifier.get("system"):
            subject = {"type": "Patient", "identifier": identifier}
            subject_key = f"{identifier['system']}|{identifier['value']}"
    return ItemContext(
        item_id=item.id,
        key=item_key(item),
        subject=subject,
        subject_key=subject_key,
        derived_from={"reference": derived_key},
        derived_from_key=derived_key,
        extensions=(),
        processed_at=item.processed_at,
        effective=report_effective(resource),
    )


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _sop_extension(sop_instance_uid: str) -> dict[str, Any]:
    if _OID.match(sop_instance_uid):
        return {"url": SOP_INSTANCE_EXTENSION, "valueOid": f"urn:oid:{sop_instance_uid}"}
    # A non-conformant UID (leading zeros, letters) is not a valid oid: keep it as text.
    return {"url": SOP_INSTANCE_EXTENSION, "valueString": sop_instance_uid}


# -- builders --------------------------------------------------------------------------------
def build_finding_observation(
    context: ItemContext,
    finding: FindingRow,
    *,
    status: Status = PRELIMINARY,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The Observation for one stored finding of the item described by ``context``."""
    when = fhir_instant(context.processed_at or finding.created_at or now or utcnow())
    severity = Severity(finding.severity)
    resource = _common(context, _finding_id(context, finding), finding.code, status, when)
    resource["valueCodeableConcept"] = _concept(SNOMED, *_PRESENT)
    resource["interpretation"] = [_concept(INTERPRETATION_SYSTEM, *_ABNORMAL)]
    resource["component"] = [
        {
            "code": _concept(COMPONENT_SYSTEM, "severity", "Severity"),
            "valueCodeableConcept": _concept(
                SEVERITY_SYSTEM, severity.value, _SEVERITY_DISPLAY[severity]
            ),
        },
        {
            "code": _concept(COMPONENT_SYSTEM, "confidence", "Confidence"),
            "valueQuantity": {
                "value": round(float(finding.confidence), 4),
                "unit": "1",
                "system": UCUM,
                "code": "1",
            },
        },
    ]
    notes = [{"text": finding.message}]
    evidence = render_evidence(finding.evidence)
    if evidence:
        notes.append({"text": f"Evidence: {evidence}"})
    resource["note"] = notes
    resource["method"] = {
        "coding": [
            {"system": ENGINE_SYSTEM, "code": finding.engine, "display": finding.engine_version}
        ],
        "text": f"{finding.engine} {finding.engine_version}",
    }
    return resource


def build_summary_observation(
    context: ItemContext,
    findings: Sequence[FindingRow],
    *,
    status: Status = PRELIMINARY,
    now: dt.datetime | None = None,
    failed: bool | None = None,
) -> dict[str, Any]:
    """The item's ``qc.summary``: ``fail`` when the item is flagged, linking each finding."""
    when = fhir_instant(context.processed_at or now or utcnow())
    resource = _common(context, summary_observation_id(context.key), SUMMARY_CODE, status, when)
    # ``failed`` is the item's ``flagged``: findings below RADQC_FLAG_MIN_CONFIDENCE are members
    # of the summary but do not make it fail. Without it, any finding fails it.
    fails = bool(findings) if failed is None else failed
    result = "fail" if fails else "pass"
    resource["valueCodeableConcept"] = _concept(RESULT_SYSTEM, result, result.capitalize())
    interpretation = _ABNORMAL if fails else _NORMAL
    resource["interpretation"] = [_concept(INTERPRETATION_SYSTEM, *interpretation)]
    if findings:
        resource["hasMember"] = [
            {"reference": f"Observation/{_finding_id(context, f)}"} for f in findings
        ]
    return resource


def _common(
    context: ItemContext, resource_id: str, code: str, status: Status, when: str
) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Observation", "id": resource_id}
    if context.extensions:
        resource["extension"] = [dict(ext) for ext in context.extensions]
    resource["status"] = status
    resource["category"] = [_concept(OBSERVATION_CATEGORY, "imaging", "Imaging")]
    resource["code"] = _concept(CODE_SYSTEM, code, display(code))
    if context.subject is not None:
        resource["subject"] = context.subject
    if context.derived_from is not None:
        resource["focus"] = [dict(context.derived_from)]
    resource["effectiveDateTime"] = context.effective or when
    resource["issued"] = when
    if context.derived_from is not None:
        resource["derivedFrom"] = [context.derived_from]
    return resource


def _concept(system: str, code: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": text}], "text": text}


# -- helpers ---------------------------------------------------------------------------------
def with_status(
    resource: Mapping[str, Any], status: Status, note: str | None = None
) -> dict[str, Any]:
    """A copy of ``resource`` with another status (an auditor's verdict, a finding gone, a
    source superseded) and, when given, one more ``note`` saying why."""
    changed = json.loads(json.dumps(resource))
    changed["status"] = status
    if note is not None:
        changed["note"] = [*changed.get("note", []), {"text": note}]
    return dict(changed)


def retimed(resource: Mapping[str, Any], like: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``resource`` with the times (``issued``, ``effectiveDateTime``) of ``like``."""
    copy = dict(resource)
    for element in TIME_ELEMENTS:
        copy.pop(element, None)
        if element in like:
            copy[element] = like[element]
    return copy


def content_hash(resource: Mapping[str, Any]) -> str:
    """The Observation's content hash: its canonical JSON without ``meta``."""
    return canonical.content_hash(resource, without=("meta",))


def to_json(resource: Mapping[str, Any]) -> str:
    return json.dumps(resource, separators=(",", ":"), ensure_ascii=False)


def render_evidence(evidence: Iterable[Mapping[str, Any]]) -> str:
    """A readable one-line rendering of a finding's evidence (text spans, regions, tags)."""
    return "; ".join(part for part in (_render_one(e) for e in evidence) if part)


def _render_one(evidence: Mapping[str, Any]) -> str:
    rest = dict(evidence)
    quote_key = next((key for key in _QUOTE_KEYS if key in rest), None)
    if quote_key is None:
        return ", ".join(_pairs(rest))
    quote = rest.pop(quote_key)
    section = rest.pop("section", None)
    start, end = rest.pop("start", None), rest.pop("end", None)
    where = str(section).upper() if section else "text"
    if start is not None and end is not None:
        where += f" chars {start}-{end}"
    return ", ".join([f'{where}: "{quote}"', *_pairs(rest)])


def _pairs(values: Mapping[str, Any]) -> list[str]:
    return [f"{key} {_plain(value)}" for key, value in sorted(values.items())]


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
