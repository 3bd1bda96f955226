"""FHIR R4 REST endpoints for receiving reports (DESIGN §5), mounted by the app at ``/fhir``.

- ``POST /DiagnosticReport``: create; the id is the resource's ``id``, else derived from its first
  identifier, else a new UUID.
- ``PUT /DiagnosticReport/{id}``: create or update under the id in the URL; ``If-Match:
  W/"n"`` makes it conditional on the stored version being ``n`` (else 412).
- ``GET /DiagnosticReport/{id}`` and ``/_history/{vid}``: read and vread of what was received,
  with ``ETag``; ``If-None-Match`` naming the version answers 304.
- ``POST`` on the base itself (``/fhir``): a transaction or batch Bundle (see
  :mod:`fhir_adapter.inbound_bundle`).

Every route needs a token of role ``ingest``. A create answers 201; an update (``PUT`` of an id
already stored) and the same content again answer 200; both with ``Location`` and ``ETag`` of
the stored version. Problems answer an
OperationOutcome and store nothing. Parsing and storing run in a worker thread: both block.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, cast

from fastapi import APIRouter, Request, Response
from fastapi.params import Depends
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from fhir_adapter.inbound_bundle import parse_bundle, response_bundle
from fhir_adapter.inbound_errors import BAD_REQUEST, UNSUPPORTED_MEDIA_TYPE, FhirInputError, invalid
from fhir_adapter.observations import fhir_instant
from fhir_adapter.outcome import (
    FHIR_JSON,
    FHIRResponse,
    etag_matches,
    issue,
    operation_outcome,
)
from fhir_adapter.reports import (
    REPORT,
    check_id,
    load_json,
    parse_report,
    report_id_for,
    require_type,
    with_version,
)
from service import metrics
from service.api.auth import require_roles
from service.api.deps import components
from service.api.errors import where_it_failed
from service.components import Components
from service.ingest import (
    IngestResult,
    Outcome,
    QueueOptions,
    ReceivedReport,
    ingest,
    ingest_many,
    store_report,
)
from service.models import Report, ReportVersion

log = logging.getLogger(__name__)

ACCEPTED_MEDIA_TYPES = frozenset({FHIR_JSON, "application/json"})
_EXAMPLE_REPORT = {
    "resourceType": "DiagnosticReport",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "36643-5"}]},
    "conclusion": "FINDINGS: Lungs are clear. No effusion.\nIMPRESSION: No acute disease.",
}
_EXAMPLE_BUNDLE = {
    "resourceType": "Bundle",
    "type": "transaction",
    "entry": [
        {
            "resource": _EXAMPLE_REPORT,
            "request": {"method": "POST", "url": "DiagnosticReport"},
        }
    ],
}


def _body(example: dict[str, Any]) -> dict[str, Any]:
    content = {"schema": {"type": "object"}, "example": example}
    return {
        "requestBody": {
            "required": True,
            "content": dict.fromkeys(sorted(ACCEPTED_MEDIA_TYPES), content),
        }
    }


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}}
    for code in (400, 401, 403, 413, 415, 422, 503)
}
_REPORT_ANSWERS = {**_ERRORS, 200: {"description": "the same content again: nothing stored"}}
_UPDATE_ANSWERS = {
    **_REPORT_ANSWERS,
    200: {"description": "an update, or the same content again"},
    201: {"description": "created"},
    412: {"description": "If-Match names another version", "content": {FHIR_JSON: {}}},
}
_READ_ANSWERS: dict[int | str, dict[str, Any]] = {
    304: {"description": "If-None-Match names this version"},
    404: {"description": "OperationOutcome", "content": {FHIR_JSON: {}}},
}
PRECONDITION_FAILED = 412

router = APIRouter(dependencies=[cast(Depends, require_roles("ingest"))])


def fhir_response(
    body: dict[str, Any], status: int, headers: dict[str, str] | None = None
) -> FHIRResponse:
    return FHIRResponse(body, status_code=status, headers=headers)


def _check_media_type(request: Request) -> None:
    """``application/fhir+json`` or ``application/json``; a charset must be UTF-8."""
    header = request.headers.get("content-type", "")
    media, *params = (part.strip() for part in header.split(";"))
    problem = None
    if media.lower() not in ACCEPTED_MEDIA_TYPES:
        problem = "this Content-Type is not supported" if media else "Content-Type is missing"
    for param in params:
        name, _, value = param.partition("=")
        value = value.strip().strip('"').lower()
        if name.strip().lower() == "charset" and value not in {"utf-8", "utf8"}:
            problem = "this charset is not supported: FHIR JSON is UTF-8"
        if name.strip().lower() == "fhirversion" and not value.startswith("4.0"):
            problem = "this fhirVersion is not supported: radqc speaks R4 (4.0)"
    if problem:
        raise invalid(
            UNSUPPORTED_MEDIA_TYPE,
            "not-supported",
            f"{problem}; send application/fhir+json or application/json",
        )


def _base(request: Request, suffix: str) -> str:
    """The FHIR base path the router is mounted at (``/fhir``), from the request path."""
    path = request.url.path.rstrip("/")
    return path[: len(path) - len(suffix)] if suffix and path.endswith(suffix) else path


async def _handle(request: Request, work: Callable[[Components, bytes], Response]) -> Response:
    try:
        _check_media_type(request)
        body = await request.body()
        return await run_in_threadpool(work, components(request), body)
    except FhirInputError as exc:
        return fhir_response(exc.outcome(), exc.status)
    except OperationalError as exc:
        log.error("database unavailable while receiving FHIR content: %s", where_it_failed(exc))
        outcome = operation_outcome(issue("transient", "the database is unavailable; retry"))
        return fhir_response(outcome, 503, {"Retry-After": "5"})


def _count(results: Iterable[IngestResult]) -> None:
    """``radqc_received_total{source="fhir"}``, once the reports are committed (issue 14: it
    counted DICOM objects only)."""
    for result in results:
        metrics.RECEIVED.labels(source="fhir", outcome=result.outcome.value).inc()


def _store(
    comps: Components,
    received: ReceivedReport,
    resource: dict[str, Any],
    base: str,
    *,
    if_match: str | None = None,
    update: bool = False,
) -> Response:
    store = store_report if if_match is None else _conditional(if_match)
    result = ingest(comps.db, store, received, comps.queue_options)
    _count([result])
    # the report id is the sender's and may carry an accession or patient number: not logged
    log.info(
        "DiagnosticReport: %s (version %d, item %d)", result.outcome, result.version, result.item_id
    )
    updated = update and result.outcome is Outcome.NEW_VERSION
    status = 200 if result.outcome is Outcome.DUPLICATE or updated else 201
    headers = {
        "Location": f"{base}/{REPORT}/{received.report_id}/_history/{result.version}",
        "ETag": f'W/"{result.version}"',
    }
    return fhir_response(
        with_version(resource, received.report_id, result.version), status, headers
    )


def _matching_version(if_match: str) -> int | None:
    """The version ``If-Match: W/"n"`` names (``None`` for ``*``); a 412 if it names none."""
    tag = if_match.strip()
    if tag == "*":
        return None
    digits = tag.removeprefix("W/").strip('"')
    if not (digits.isascii() and digits.isdigit()):
        raise invalid(PRECONDITION_FAILED, "conflict", 'If-Match takes W/"version"')
    return int(digits)


def _conditional(if_match: str) -> Callable[..., IngestResult]:
    """``store_report`` under ``If-Match``: the stored version is checked in the same
    transaction, under the report row's lock, so a racing update cannot slip in between."""
    wanted = _matching_version(if_match)

    def store(session: Session, received: ReceivedReport, options: QueueOptions) -> IngestResult:
        report = session.scalars(
            select(Report).where(Report.report_id == received.report_id).with_for_update()
        ).one_or_none()
        current = report.latest_version if report is not None else None
        if current is None or (wanted is not None and wanted != current):
            raise invalid(
                PRECONDITION_FAILED,
                "conflict",
                f"If-Match: the stored version is {current or 'none'}",
            )
        return store_report(session, received, options)

    return store


def _resource(body: bytes) -> tuple[dict[str, Any], str]:
    data, text = load_json(body, REPORT)
    return require_type(data, REPORT), text


@router.post(
    "/DiagnosticReport",
    status_code=201,
    openapi_extra=_body(_EXAMPLE_REPORT),
    responses=_REPORT_ANSWERS,
    response_class=FHIRResponse,
    summary="Receive a DiagnosticReport",
)
async def create_report(request: Request) -> Response:
    base = _base(request, f"/{REPORT}")

    def work(comps: Components, body: bytes) -> Response:
        resource, text = _resource(body)
        report_id = report_id_for(resource)
        received = parse_report(resource, report_id=report_id, resource_json=text)
        if "id" in resource:
            check_id(report_id, f"{REPORT}.id", status=422)
        return _store(comps, received, resource, base)

    return await _handle(request, work)


@router.put(
    "/DiagnosticReport/{report_id}",
    status_code=201,
    openapi_extra=_body(_EXAMPLE_REPORT),
    responses=_UPDATE_ANSWERS,
    response_class=FHIRResponse,
    summary="Receive a DiagnosticReport under its id",
)
async def update_report(report_id: str, request: Request) -> Response:
    base = _base(request, f"/{REPORT}/{report_id}")

    def work(comps: Components, body: bytes) -> Response:
        check_id(report_id, f"{REPORT}.id")
        resource, text = _resource(body)
        if resource.get("id", report_id) != report_id:
            raise invalid(
                BAD_REQUEST,
                "invalid",
                "the id in the body differs from the id in the URL",
                f"{REPORT}.id",
            )
        received = parse_report(resource, report_id=report_id, resource_json=text)
        return _store(comps, received, resource, base, if_match=if_match, update=True)

    if_match = request.headers.get("if-match")
    return await _handle(request, work)


def _stored(session: Session, report_id: str, version: int | None) -> ReportVersion | None:
    """A stored version of a report: ``version``, or the latest for ``None``."""
    report = session.scalars(select(Report).where(Report.report_id == report_id)).one_or_none()
    if report is None:
        return None
    wanted = report.latest_version if version is None else version
    return session.scalars(
        select(ReportVersion).where(
            ReportVersion.report_pk == report.id, ReportVersion.version == wanted
        )
    ).one_or_none()


def _read(request: Request, report_id: str, version: int | None) -> Response:
    with components(request).db.reader() as session:
        row = _stored(session, report_id, version)
    if row is None:
        what = "no such DiagnosticReport" if version is None else "no such version"
        return fhir_response(operation_outcome(issue("not-found", what)), 404)
    path = request.url.path
    base = path[: path.rindex(f"/{REPORT}/")]
    headers = {
        "ETag": f'W/"{row.version}"',
        "Content-Location": f"{base}/{REPORT}/{report_id}/_history/{row.version}",
    }
    if etag_matches(request.headers.get("if-none-match"), row.version):
        return Response(status_code=304, headers=headers)
    resource = with_version(json.loads(row.resource_json), report_id, row.version)
    resource["meta"]["lastUpdated"] = fhir_instant(row.received_at)
    return fhir_response(resource, 200, headers)


@router.get(
    "/DiagnosticReport/{report_id}",
    response_class=FHIRResponse,
    responses=_READ_ANSWERS,
    summary="Read the latest version of a DiagnosticReport as received",
)
def read_report(report_id: str, request: Request) -> Response:
    return _read(request, report_id, None)


@router.get(
    "/DiagnosticReport/{report_id}/_history/{version_id}",
    response_class=FHIRResponse,
    responses=_READ_ANSWERS,
    summary="Read one version of a DiagnosticReport as received",
)
def vread_report(report_id: str, version_id: str, request: Request) -> Response:
    if not (version_id.isascii() and version_id.isdigit() and 0 < int(version_id) < 2**31):
        return fhir_response(operation_outcome(issue("not-found", "no such version")), 404)
    return _read(request, report_id, int(version_id))


@router.post(
    "",
    openapi_extra=_body(_EXAMPLE_BUNDLE),
    responses=_ERRORS,
    response_class=FHIRResponse,
    summary="Receive a transaction or batch Bundle of DiagnosticReports",
)
@router.post("/", include_in_schema=False)
async def receive_bundle(request: Request) -> Response:
    def work(comps: Components, body: bytes) -> Response:
        data, _ = load_json(body, "Bundle")
        parsed = parse_bundle(require_type(data, "Bundle"))
        if parsed.kind == "transaction":
            error = parsed.transaction_error()
            if error is not None:
                raise error
            results = ingest_many(comps.db, store_report, parsed.reports, comps.queue_options)
        else:
            results = [
                ingest(comps.db, store_report, received, comps.queue_options)
                for received in parsed.reports
            ]
        _count(results)
        log.info(
            "%s Bundle: %d entries, %d reports stored or unchanged",
            parsed.kind,
            len(parsed.entries),
            len(results),
        )
        return fhir_response(response_bundle(parsed, results), 200)

    return await _handle(request, work)
