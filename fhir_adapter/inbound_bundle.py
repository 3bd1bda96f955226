"""Inbound transaction and batch Bundles of DiagnosticReports (``POST /fhir``).

Each entry is checked on its own and becomes a report to store, an accepted Patient (its sex is
used by the reports that refer to it; the Patient itself is not stored and is answered
``200 OK`` with an informational outcome), or an error. A transaction is all or nothing: any error
rejects the whole Bundle before anything is stored, and the reports are then stored in one
database transaction. A batch stores every valid entry on its own and answers errors per entry.

Entries' ``resource_json`` is the entry's resource serialised compactly from the parsed JSON:
the text of one entry cannot be cut out of the Bundle as received without a second JSON parser.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal

from fhir.resources.R4B.bundle import Bundle, BundleEntry
from pydantic import ValidationError

from fhir_adapter.inbound_errors import (
    BAD_REQUEST,
    UNPROCESSABLE,
    FhirInputError,
    from_validation,
    invalid,
)
from fhir_adapter.outcome import issue, operation_outcome
from fhir_adapter.reports import (
    REPORT,
    check_id,
    known_type,
    parse_report,
    patient_genders,
    report_id_for,
    validate_patient,
)
from service.ingest import IngestResult, Outcome, ReceivedReport

BundleKind = Literal["transaction", "batch"]
_KINDS: tuple[BundleKind, ...] = ("transaction", "batch")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH"})
_WRITES = frozenset({"POST", "PUT"})
PATIENT = "Patient"


@dataclass(frozen=True, slots=True)
class Entry:
    """One Bundle entry after checking: a report to store, an accepted Patient, or an error."""

    index: int
    received: ReceivedReport | None = None
    error: FhirInputError | None = None


@dataclass(frozen=True, slots=True)
class ParsedBundle:
    kind: BundleKind
    entries: list[Entry]

    @property
    def reports(self) -> list[ReceivedReport]:
        return [entry.received for entry in self.entries if entry.received is not None]

    def transaction_error(self) -> FhirInputError | None:
        """Every entry's problems in one error: 422 if something is not supported, else 400."""
        errors = [entry.error for entry in self.entries if entry.error is not None]
        if not errors:
            return None
        issues = [item for error in errors for item in error.issues]
        unsupported = any(item["code"] == "not-supported" for item in issues)
        return FhirInputError(UNPROCESSABLE if unsupported else BAD_REQUEST, issues)


def _check_shell(bundle: Mapping[str, Any]) -> tuple[BundleKind, list[Any]]:
    kind = bundle.get("type")
    if kind not in _KINDS:
        raise invalid(
            UNPROCESSABLE,
            "not-supported" if isinstance(kind, str) else "required",
            "radqc accepts transaction and batch Bundles only",
            "Bundle.type",
        )
    try:
        Bundle.model_validate({key: value for key, value in bundle.items() if key != "entry"})
    except ValidationError as exc:
        raise from_validation(exc, "Bundle") from exc
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise invalid(BAD_REQUEST, "structure", "must be a JSON array", "Bundle.entry")
    return kind, entries


def _check_request(entry: Mapping[str, Any], root: str) -> tuple[str, str, str]:
    """(method, url, resourceType) of an entry that writes a resource."""
    if not isinstance(entry, dict):
        raise invalid(BAD_REQUEST, "structure", "must be a JSON object", root)
    try:
        BundleEntry.model_validate(
            {key: value for key, value in entry.items() if key != "resource"}
        )
    except ValidationError as exc:
        raise from_validation(exc, root) from exc
    request = entry.get("request")
    if request is None:
        raise invalid(UNPROCESSABLE, "required", "required element missing", f"{root}.request")
    method = str(request.get("method"))
    if method not in _METHODS:
        raise invalid(UNPROCESSABLE, "value", "not an HTTP verb", f"{root}.request.method")
    if method not in _WRITES:
        raise invalid(
            UNPROCESSABLE,
            "not-supported",
            f"radqc accepts POST and PUT, not {method}",
            f"{root}.request.method",
        )
    resource = entry.get("resource")
    if not isinstance(resource, dict):
        raise invalid(
            UNPROCESSABLE, "required", f"a {method} entry needs a resource", f"{root}.resource"
        )
    kind = resource.get("resourceType")
    if kind not in {REPORT, PATIENT}:
        raise invalid(
            UNPROCESSABLE,
            "not-supported",
            f"radqc accepts DiagnosticReport (and Patient) entries, not {known_type(kind)}",
            f"{root}.resource.resourceType",
        )
    return method, str(request.get("url", "")), str(kind)


def _entry_report_id(method: str, url: str, resource: Mapping[str, Any], root: str) -> str:
    """POST: the id rule of a create; PUT: the id in ``request.url``, which the body must match."""
    target = url.split("?", 1)[0].strip("/").split("/")
    if method == "POST":
        if target != [REPORT]:
            raise invalid(
                BAD_REQUEST,
                "value",
                "a POST of a DiagnosticReport goes to 'DiagnosticReport'",
                f"{root}.request.url",
            )
        return report_id_for(resource)
    if len(target) != 2 or target[0] != REPORT:
        raise invalid(
            BAD_REQUEST, "value", "a PUT goes to 'DiagnosticReport/[id]'", f"{root}.request.url"
        )
    report_id = check_id(target[1], f"{root}.request.url")
    if resource.get("id", report_id) != report_id:
        raise invalid(
            BAD_REQUEST,
            "invalid",
            "the resource id differs from the id in request.url",
            f"{root}.resource.id",
        )
    return report_id


def _patients(raw: Sequence[Any]) -> tuple[dict[str, str | None], dict[int, Entry]]:
    """Check the Patient entries first: reports may refer to them."""
    found: list[tuple[str | None, Any]] = []
    entries: dict[int, Entry] = {}
    for index, entry in enumerate(raw):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or resource.get("resourceType") != PATIENT:
            continue
        root = f"Bundle.entry[{index}]"
        try:
            _check_request(entry, root)
            patient = validate_patient(resource, f"{root}.resource")
        except FhirInputError as exc:
            entries[index] = Entry(index, error=exc)
            continue
        found.append((entry.get("fullUrl"), patient))
        entries[index] = Entry(index)
    return patient_genders(found), entries


def _report_entry(entry: Any, index: int, genders: Mapping[str, str | None]) -> Entry:
    root = f"Bundle.entry[{index}]"
    try:
        method, url, _ = _check_request(entry, root)
        resource = entry["resource"]
        report_id = _entry_report_id(method, url, resource, root)
        resource_json = json.dumps(resource, ensure_ascii=False, separators=(",", ":"))
        received = parse_report(
            resource,
            report_id=report_id,
            resource_json=resource_json,
            root=f"{root}.resource",
            patients=genders,
        )
        if "id" in resource:
            check_id(report_id, f"{root}.resource.id", status=UNPROCESSABLE)
    except FhirInputError as exc:
        return Entry(index, error=exc)
    return Entry(index, received=received)


def _no_repeats(entries: list[Entry]) -> list[Entry]:
    """A transaction may not write one report twice (FHIR transaction rules)."""
    seen: set[str] = set()
    checked = []
    for entry in entries:
        if entry.received is not None and entry.received.report_id in seen:
            entry = Entry(
                entry.index,
                error=invalid(
                    BAD_REQUEST,
                    "duplicate",
                    "this DiagnosticReport is already written by an earlier entry",
                    f"Bundle.entry[{entry.index}].resource",
                ),
            )
        elif entry.received is not None:
            seen.add(entry.received.report_id)
        checked.append(entry)
    return checked


def parse_bundle(bundle: Mapping[str, Any]) -> ParsedBundle:
    """Check a Bundle (a JSON object of resourceType Bundle) entry by entry.

    Bundle-level problems raise :class:`FhirInputError`; entry problems are kept per entry.
    """
    kind, raw = _check_shell(bundle)
    genders, entries = _patients(raw)
    for index, entry in enumerate(raw):
        if index not in entries:
            entries[index] = _report_entry(entry, index, genders)
    ordered = [entries[index] for index in range(len(raw))]
    return ParsedBundle(kind, _no_repeats(ordered) if kind == "transaction" else ordered)


def status_line(code: int) -> str:
    return f"{code} {HTTPStatus(code).phrase}"


def _report_response(report_id: str, result: IngestResult) -> dict[str, Any]:
    created = result.outcome in {Outcome.CREATED, Outcome.NEW_VERSION}
    return {
        "status": status_line(201 if created else 200),
        "location": f"{REPORT}/{report_id}/_history/{result.version}",
        "etag": f'W/"{result.version}"',
    }


_PATIENT_NOTE = operation_outcome(
    issue(
        "informational",
        "Patient accepted for the reports' patient sex; radqc does not store it",
        severity="information",
    )
)


def response_bundle(parsed: ParsedBundle, results: Sequence[IngestResult]) -> dict[str, Any]:
    """The transaction-response or batch-response: one entry per request entry, in order.
    ``results`` are the stored reports' results, in the order of :attr:`ParsedBundle.reports`."""
    pending = iter(results)
    answers = []
    for entry in parsed.entries:
        if entry.error is not None:
            response = {"status": status_line(entry.error.status), "outcome": entry.error.outcome()}
        elif entry.received is not None:
            response = _report_response(entry.received.report_id, next(pending))
        else:
            response = {"status": status_line(200), "outcome": _PATIENT_NOTE}
        answers.append({"response": response})
    return {"resourceType": "Bundle", "type": f"{parsed.kind}-response", "entry": answers}
