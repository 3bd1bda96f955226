"""Inbound DiagnosticReports: FHIR R4 JSON in, :class:`service.ingest.ReceivedReport` out.

R4 JSON is validated with fhir.resources' R4B models (there is no R4 model for pydantic 2; the
DiagnosticReport structure is the same). The models do not check required code bindings, so the
R4 value sets that matter here (report status, narrative status, identifier use, gender) are
checked below. Problems raise :class:`FhirInputError`: 400 when the body is not a resource of the
expected type at all, 422 when it is one that fails validation.

The content hash covers the resource without ``meta`` and ``id``: the same report re-sent with
other metadata, or once with and once without its id, is the same version.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.diagnosticreport import DiagnosticReport
from fhir.resources.R4B.patient import Patient
from pydantic import ValidationError

from fhir_adapter.inbound_errors import (
    BAD_REQUEST,
    UNPROCESSABLE,
    FhirInputError,
    from_validation,
    invalid,
)
from fhir_adapter.inbound_text import report_text
from fhir_adapter.outcome import IssueCode
from service import canonical
from service.api.json_body import JSONBodyError, element, parse_json
from service.ingest import ReceivedReport
from service.reports.sections import sections_dict

REPORT = "DiagnosticReport"
REPORT_STATUS = frozenset(
    {
        "registered",
        "partial",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "appended",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
GENDER = frozenset({"male", "female", "other", "unknown"})
_NARRATIVE_STATUS = frozenset({"generated", "extensions", "additional", "empty"})
_IDENTIFIER_USE = frozenset({"usual", "official", "temp", "secondary", "old"})
ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_WHITESPACE = re.compile(r"[ \t\r\n]+")
_DICOM_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
_OID_PREFIX = "urn:oid:"
_ID_NAMESPACE = uuid.UUID("6f1b7f52-3c1e-5a8e-9d4b-2f0c1a7e9b31")  # radqc report ids
_ACCESSION_CODE = "ACSN"

# column sizes in service.models.ReportVersion
_MAX_CODE, _MAX_DISPLAY, _MAX_REFERENCE, _MAX_ACCESSION = 64, 255, 255, 64


def load_json(body: bytes, root: str = REPORT) -> tuple[Any, str]:
    """The parsed JSON and its text as received (UTF-8, a leading BOM dropped). 400 if it is
    not JSON or repeats a member, 422 if a string holds what cannot be stored (a NUL, an
    unpaired surrogate); the issue names the element below ``root`` (the expected type)."""
    try:
        data = parse_json(body)
    except JSONBodyError as exc:
        code: IssueCode = "structure" if exc.status == BAD_REQUEST else "value"
        raise invalid(exc.status, code, exc.reason, element(exc.path, root) or None) from exc
    return data, body.decode("utf-8").removeprefix("\ufeff")


def known_type(value: Any) -> str:
    """``'Patient'`` for a FHIR resource type name; anything else is client data, not repeated."""
    if isinstance(value, str) and value.isascii() and value.isalpha():
        try:
            get_fhir_model_class(value)
        except (ValueError, KeyError):
            pass
        else:
            return repr(value)
    return "an unknown resourceType"


def require_type(data: Any, expected: str) -> dict[str, Any]:
    """``data`` as a JSON object of ``resourceType`` ``expected``; 400 otherwise."""
    if not isinstance(data, dict):
        kind = "a JSON array" if isinstance(data, list) else f"a JSON {type(data).__name__}"
        raise invalid(
            BAD_REQUEST,
            "structure",
            f"expected a JSON object with resourceType {expected!r}, got {kind}",
            "resourceType",
        )
    found = data.get("resourceType")
    if found != expected:
        reason = (
            f"expected {expected!r}, got {known_type(found)}"
            if found is not None
            else f"required element missing (expected {expected!r})"
        )
        raise invalid(
            BAD_REQUEST, "invalid" if found is not None else "required", reason, "resourceType"
        )
    return data


def content_hash(resource: Mapping[str, Any]) -> str:
    """The report's content hash: its canonical JSON without ``meta`` and ``id``."""
    return canonical.content_hash(resource, without=("meta", "id"))


def identifier_report_id(system: str | None, value: str) -> str:
    """A valid FHIR id derived from an identifier: the same identifier gives the same id."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{system or ''}|{value}"))


def report_id_for(resource: Mapping[str, Any]) -> str:
    """The id a created report gets: its own ``id``, else one derived from its first identifier
    that has a value, else a new UUID. Call after :func:`parse_report` validated the resource."""
    own = resource.get("id")
    if isinstance(own, str) and own:
        return own
    for identifier in resource.get("identifier") or ():
        if isinstance(identifier, dict) and identifier.get("value"):
            return identifier_report_id(identifier.get("system"), str(identifier["value"]))
    return str(uuid.uuid4())


def check_id(value: str, expression: str, *, status: int = BAD_REQUEST) -> str:
    if not ID.match(value):
        raise invalid(
            status, "value", "not a valid FHIR id (1-64 letters, digits, '-' or '.')", expression
        )
    return value


def _check_contained(resource: Mapping[str, Any], root: str) -> None:
    """The models accept contained entries without a resourceType and fail with a bare KeyError
    on unknown types: check them first so the error names the element."""
    contained = resource.get("contained")
    if not isinstance(contained, list):
        return
    for index, entry in enumerate(contained):
        expression = f"{root}.contained[{index}]"
        name = entry.get("resourceType") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            raise invalid(
                UNPROCESSABLE, "required", "required element missing", f"{expression}.resourceType"
            )
        try:
            get_fhir_model_class(name)
        except (ValueError, KeyError) as exc:
            raise invalid(
                UNPROCESSABLE, "value", "unknown resource type", f"{expression}.resourceType"
            ) from exc


def _check_base64(resource: Mapping[str, Any], root: str) -> None:
    """The models decode base64 leniently (``"!!!"`` becomes empty bytes): check the report's
    attachments strictly, allowing only the line breaks MIME encoders insert."""
    forms = resource.get("presentedForm")
    for index, attachment in enumerate(forms if isinstance(forms, list) else ()):
        data = attachment.get("data") if isinstance(attachment, dict) else None
        if not isinstance(data, str):
            continue
        try:
            base64.b64decode(_WHITESPACE.sub("", data), validate=True)
        except binascii.Error as exc:
            raise invalid(
                UNPROCESSABLE, "value", "not valid base64", f"{root}.presentedForm[{index}].data"
            ) from exc


def _validate(model: Any, resource: Mapping[str, Any], root: str) -> Any:
    try:
        return model.model_validate(resource)
    except ValidationError as exc:
        raise from_validation(exc, root) from exc
    except (KeyError, ValueError, TypeError, RecursionError) as exc:
        raise invalid(UNPROCESSABLE, "structure", f"cannot be read as a {root}", root) from exc


def _check_code(value: str | None, allowed: frozenset[str], expression: str) -> None:
    if value is not None and value not in allowed:
        raise invalid(
            UNPROCESSABLE,
            "value",
            f"not in the R4 value set ({', '.join(sorted(allowed))})",
            expression,
        )


def _check_bindings(report: Any, root: str) -> None:
    _check_code(report.status, REPORT_STATUS, f"{root}.status")
    if report.text is not None:
        _check_code(report.text.status, _NARRATIVE_STATUS, f"{root}.text.status")
    for index, identifier in enumerate(report.identifier or ()):
        _check_code(identifier.use, _IDENTIFIER_USE, f"{root}.identifier[{index}].use")
    for index, contained in enumerate(report.contained or ()):
        if contained.get_resource_type() == "Patient":
            _check_code(contained.gender, GENDER, f"{root}.contained[{index}].gender")


def validate_report(resource: Mapping[str, Any], root: str = REPORT) -> Any:
    """The validated R4B DiagnosticReport model; :class:`FhirInputError` (422) if invalid."""
    _check_contained(resource, root)
    _check_base64(resource, root)
    report = _validate(DiagnosticReport, resource, root)
    _check_bindings(report, root)
    return report


def validate_patient(resource: Mapping[str, Any], root: str = "Patient") -> Any:
    """The validated R4B Patient model (radqc keeps only its sex)."""
    _check_contained(resource, root)
    patient = _validate(Patient, resource, root)
    _check_code(patient.gender, GENDER, f"{root}.gender")
    return patient


def _contained(report: Any, reference: str | None, resource_type: str) -> tuple[int, Any]:
    """(index, resource) of the contained resource ``#id`` points to, or (-1, None)."""
    if not reference or not reference.startswith("#"):
        return -1, None
    for index, resource in enumerate(report.contained or ()):
        if resource.get_resource_type() == resource_type and resource.id == reference[1:]:
            return index, resource
    return -1, None


def patient_sex(report: Any, patients: Mapping[str, str | None]) -> str | None:
    """The subject's ``gender``: from a contained Patient, or from ``patients`` (reference ->
    gender, built from the Patients of the same Bundle)."""
    reference = report.subject.reference if report.subject is not None else None
    _, patient = _contained(report, reference, "Patient")
    if patient is not None:
        return patient.gender  # type: ignore[no-any-return]
    return patients.get(reference) if reference else None


def exam(report: Any) -> tuple[str | None, str | None]:
    """(code, display) of the exam: the first coding's, else ``code.text`` as the display."""
    coding = report.code.coding[0] if report.code.coding else None
    code = coding.code if coding is not None else None
    display = (coding.display if coding is not None else None) or report.code.text
    return code, display[:_MAX_DISPLAY] if display else None


def _is_accession(identifier: Any) -> bool:
    codings = identifier.type.coding if identifier.type is not None else None
    if any(coding.code == _ACCESSION_CODE for coding in codings or ()):
        return True
    return "accession" in (identifier.system or "").lower()


def accession(report: Any, root: str = REPORT) -> tuple[str | None, str]:
    """(accession number, its element): an identifier typed ACSN (or whose system says
    accession), on the report or else on a contained ImagingStudy."""
    candidates = [(f"{root}.identifier[{i}]", x) for i, x in enumerate(report.identifier or ())]
    for position, resource in enumerate(report.contained or ()):
        if resource.get_resource_type() == "ImagingStudy":
            candidates.extend(
                (f"{root}.contained[{position}].identifier[{i}]", x)
                for i, x in enumerate(resource.identifier or ())
            )
    for expression, identifier in candidates:
        if identifier.value and _is_accession(identifier):
            return str(identifier.value), f"{expression}.value"
    return None, f"{root}.identifier"


def _uid_from(value: str | None, expression: str) -> str | None:
    if not value or not value.startswith(_OID_PREFIX):
        return None
    uid = value[len(_OID_PREFIX) :]
    if len(uid) > 64 or not _DICOM_UID.match(uid):
        raise invalid(UNPROCESSABLE, "value", "not a DICOM UID after 'urn:oid:'", expression)
    return uid


def study_instance_uid(report: Any, root: str) -> str | None:
    """The StudyInstanceUID from ``imagingStudy``: a reference's identifier ``urn:oid:...``, or
    the identifier of the contained ImagingStudy it points to."""
    for index, reference in enumerate(report.imagingStudy or ()):
        expression = f"{root}.imagingStudy[{index}]"
        if reference.identifier is not None:
            uid = _uid_from(reference.identifier.value, f"{expression}.identifier.value")
            if uid:
                return uid
        position, study = _contained(report, reference.reference, "ImagingStudy")
        for number, identifier in enumerate(study.identifier or () if study else ()):
            element = f"{root}.contained[{position}].identifier[{number}].value"
            uid = _uid_from(identifier.value, element)
            if uid:
                return uid
    return None


def _bounded(value: str | None, limit: int, expression: str) -> str | None:
    if value is not None and len(value) > limit:
        raise invalid(UNPROCESSABLE, "too-long", f"longer than {limit} characters", expression)
    return value


def parse_report(
    resource: Mapping[str, Any],
    *,
    report_id: str,
    resource_json: str,
    root: str = REPORT,
    patients: Mapping[str, str | None] | None = None,
) -> ReceivedReport:
    """Validate a DiagnosticReport (a JSON object) and turn it into the record ingest stores.

    ``resource_json`` is kept as given; ``patients`` maps references to the gender of Patients
    sent alongside (a Bundle's entries).
    """
    report = validate_report(resource, root)
    text = report_text(report, root)
    code, display = exam(report)
    subject = report.subject.reference if report.subject is not None else None
    accession_number, accession_element = accession(report, root)
    return ReceivedReport(
        report_id=report_id,
        content_hash=content_hash(resource),
        resource_json=resource_json,
        text=text,
        sections=sections_dict(text),
        status=report.status,
        patient_sex=patient_sex(report, patients or {}),
        subject_reference=_bounded(subject, _MAX_REFERENCE, f"{root}.subject.reference"),
        exam_code=_bounded(code, _MAX_CODE, f"{root}.code.coding[0].code"),
        exam_display=display,
        accession=_bounded(accession_number, _MAX_ACCESSION, accession_element),
        study_instance_uid=study_instance_uid(report, root),
    )


def patient_genders(patients: Iterable[tuple[str | None, Any]]) -> dict[str, str | None]:
    """reference -> gender, for validated Patients given with their Bundle ``fullUrl``: a
    report's subject may name the fullUrl or ``Patient/[id]``."""
    genders: dict[str, str | None] = {}
    for full_url, patient in patients:
        if full_url:
            genders[full_url] = patient.gender
        if patient.id:
            genders[f"Patient/{patient.id}"] = patient.gender
    return genders


def with_version(resource: Mapping[str, Any], report_id: str, version: int) -> dict[str, Any]:
    """The resource as radqc answers it: ``id`` and ``meta.versionId`` set."""
    meta = {**(resource.get("meta") or {}), "versionId": str(version)}
    rest = {key: value for key, value in resource.items() if key not in {"id", "meta"}}
    return {"resourceType": resource["resourceType"], "id": report_id, "meta": meta, **rest}


__all__ = [
    "REPORT_STATUS",
    "FhirInputError",
    "check_id",
    "content_hash",
    "identifier_report_id",
    "load_json",
    "parse_report",
    "report_id_for",
    "require_type",
    "validate_patient",
    "validate_report",
    "with_version",
]
