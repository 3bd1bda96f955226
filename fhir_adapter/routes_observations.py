"""radqc's own FHIR read API (DESIGN §5): the CapabilityStatement and the Observations it published.

Mounted by the composition root at ``/fhir``. ``GET /metadata`` is open; reading and searching
Observations needs a ``reader`` or ``auditor`` token. Search (:mod:`fhir_adapter.search`) is
ordered by id unless ``_sort`` asks for ``_lastUpdated`` or ``date``, and paged with an opaque
``_cursor`` (radqc's one keyset scheme, :mod:`service.api.pagination`), so a page never repeats
or skips an Observation that changes while a client pages through. A read answers ``ETag`` and
honours ``If-None-Match`` (304).

``vread`` (``GET /Observation/{id}/_history/{vid}``) answers any version radqc stored: the
current one, or a past one from the Observation's history (``readHistory`` true in the
CapabilityStatement). Versions replaced before migration 0008 were not kept: a 404 whose
OperationOutcome names the current version.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from importlib import metadata
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, Response, params
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fhir_adapter.observations import fhir_instant
from fhir_adapter.outcome import FHIRResponse, IssueCode, etag_matches, issue, operation_outcome
from fhir_adapter.search import (
    CURSOR_PARAM,
    SEARCH_PARAMETERS,
    SORTS,
    Search,
    UnsupportedFormatError,
    parse_search,
    strict_handling,
)
from service.api import pagination
from service.api.auth import READ_ACCESS
from service.api.deps import components
from service.errors import InvalidInputError
from service.models import Observation, utcnow

router = APIRouter()

_READ = cast(params.Depends, READ_ACCESS)
_STARTED = fhir_instant(utcnow())
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}
_MANDATORY = frozenset({"resourceType", "id", "meta"})


def _outcome(
    status: int, code: IssueCode, message: str, expression: str | None = None
) -> FHIRResponse:
    return FHIRResponse(operation_outcome(issue(code, message, expression=expression)), status)


# -- routes ----------------------------------------------------------------------------------
@router.get("/metadata", response_class=FHIRResponse)
def capability_statement(request: Request) -> FHIRResponse:
    """The CapabilityStatement: what this FHIR endpoint supports."""
    base = str(request.url.replace(query="")).removesuffix("/metadata")
    return FHIRResponse(_capabilities(base))


@router.get(
    "/Observation/{observation_id}",
    response_class=FHIRResponse,
    dependencies=[_READ],
    name="fhir_read_observation",
)
def read_observation(observation_id: str, request: Request) -> Response:
    """One Observation radqc published, with ``meta.versionId`` and ``meta.lastUpdated``;
    304 when ``If-None-Match`` names its current version."""
    with components(request).db.reader() as session:
        row = session.get(Observation, observation_id)
    if row is None:
        return _outcome(404, "not-found", "no such Observation")
    return _answer(row, request)


@router.get(
    "/Observation/{observation_id}/_history/{version_id}",
    response_class=FHIRResponse,
    dependencies=[_READ],
    name="fhir_vread_observation",
)
def vread_observation(observation_id: str, version_id: str, request: Request) -> Response:
    """One version of an Observation: the current one, or a past one from its history."""
    with components(request).db.reader() as session:
        row = session.get(Observation, observation_id)
        past = None
        if row is not None and version_id != str(row.version) and version_id.isdigit():
            past = session.execute(
                select(Observation.history).where(
                    Observation.history.c.observation_id == observation_id,
                    Observation.history.c.version == int(version_id),
                )
            ).one_or_none()
    if row is None:
        return _outcome(404, "not-found", "no such Observation")
    if version_id == str(row.version):
        return _answer(row, request)
    if past is None:
        message = f"no version {version_id} of this Observation (the current one is {row.version})"
        return _outcome(404, "not-found", message)
    version = _Version(past.version, past.resource_json, past.updated_at)
    return _answer(version, request)


@dataclass(frozen=True, slots=True)
class _Version:
    """One stored version of an Observation: the current row's, or a past one's."""

    version: int
    resource_json: str
    updated_at: dt.datetime


def _answer(row: Observation | _Version, request: Request) -> Response:
    """The stored version with its ``ETag``; 304 when ``If-None-Match`` names it."""
    headers = {"ETag": f'W/"{row.version}"'}
    if etag_matches(request.headers.get("if-none-match"), row.version):
        return Response(status_code=304, headers=headers)
    return FHIRResponse(_resource(row), headers=headers)


def _documented(
    _id: Annotated[list[str] | None, Query(alias="_id", description="Observation ids")] = None,
    _last_updated: Annotated[
        list[str] | None,
        Query(alias="_lastUpdated", description="[eq|ne|ge|gt|le|lt]date: meta.lastUpdated"),
    ] = None,
    code: Annotated[list[str] | None, Query(description="code or system|code")] = None,
    status: Annotated[
        list[str] | None,
        Query(description="Observation status; current: status=preliminary,final"),
    ] = None,
    status_not: Annotated[
        list[str] | None,
        Query(alias="status:not", description="none of these statuses"),
    ] = None,
    category: Annotated[list[str] | None, Query(description="always imaging")] = None,
    subject: Annotated[list[str] | None, Query(description="Patient/id")] = None,
    subject_identifier: Annotated[
        list[str] | None, Query(alias="subject:identifier", description="system|value")
    ] = None,
    patient: Annotated[list[str] | None, Query(description="Patient/id or id")] = None,
    derived_from: Annotated[
        list[str] | None,
        Query(alias="derived-from", description="DiagnosticReport/id[/_history/v]"),
    ] = None,
    derived_from_identifier: Annotated[
        list[str] | None, Query(alias="derived-from:identifier", description="system|value")
    ] = None,
    date: Annotated[
        list[str] | None,
        Query(description="[prefix]date: effective[x], the study or report time"),
    ] = None,
    _sort: Annotated[
        str | None, Query(alias="_sort", description=" | ".join(sorted(SORTS)))
    ] = None,
    _count: Annotated[str | None, Query(alias="_count", description="page size, <= 500")] = None,
    _summary: Annotated[str | None, Query(alias="_summary", description="count | false")] = None,
    _total: Annotated[
        str | None, Query(alias="_total", description="none | estimate | accurate")
    ] = None,
    _elements: Annotated[
        str | None, Query(alias="_elements", description="top-level elements to return")
    ] = None,
    _format: Annotated[str | None, Query(alias="_format", description="json")] = None,
    _cursor: Annotated[
        str | None, Query(alias=CURSOR_PARAM, description="from a next link")
    ] = None,
) -> None:
    """The search parameters, declared for the OpenAPI only: :func:`parse_search` reads them
    (in order, with repeats, and refusing what it cannot read with an OperationOutcome)."""


@router.get(
    "/Observation",
    response_class=FHIRResponse,
    dependencies=[_READ, Depends(_documented)],
)
def search_observations(request: Request) -> FHIRResponse:
    """Search Observations. Unknown parameters are ignored, or refused (400) under
    ``Prefer: handling=strict``; the ``self`` link names the parameters applied."""
    strict = strict_handling(request.headers.get("prefer"))
    try:
        search = parse_search(list(request.query_params.multi_items()), strict=strict)
    except UnsupportedFormatError as exc:
        return _outcome(406, "not-supported", str(exc), exc.location)
    except InvalidInputError as exc:
        return _outcome(400, "invalid", str(exc), exc.location)
    with components(request).db.reader() as session:
        total, page = _run(session, search)
    return FHIRResponse(_bundle(request, search, total, page))


# -- queries and rendering -------------------------------------------------------------------
def _run(session: Session, search: Search) -> tuple[int | None, pagination.Page[Observation]]:
    total = None
    if search.total or search.summary_count:
        counted = select(func.count()).select_from(Observation).where(*search.conditions)
        total = int(session.scalar(counted) or 0)
    if search.count == 0 or search.summary_count:
        return total, pagination.Page([], None)
    matching = select(Observation).where(*search.conditions)
    return total, search.keyset.read(session, matching, search.start, search.count)


def _resource(
    row: Observation | _Version, elements: frozenset[str] | None = None
) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(row.resource_json)
    meta: dict[str, Any] = {
        "versionId": str(row.version),
        "lastUpdated": fhir_instant(row.updated_at),
    }
    if elements is not None:
        stored = {k: v for k, v in stored.items() if k in elements or k in _MANDATORY}
        meta["tag"] = [SUBSETTED]
    return {
        "resourceType": stored.pop("resourceType"),
        "id": stored.pop("id"),
        "meta": meta,
        **stored,
    }


def _self_url(request: Request, search: Search) -> str:
    """The request's URL with only the parameters applied, each as the client wrote it."""
    pieces = [piece for piece in request.url.query.split("&") if piece]
    if len(pieces) != len(request.query_params.multi_items()):  # unusual encoding: re-encode
        return str(request.url)
    kept = [pieces[index] for index in search.applied]
    return str(request.url.replace(query="&".join(kept)))


def _bundle(
    request: Request, search: Search, total: int | None, page: pagination.Page[Observation]
) -> dict[str, Any]:
    links = [{"relation": "self", "url": _self_url(request, search)}]
    if page.next_cursor is not None:
        url = pagination.next_url(request.url, search.echo, CURSOR_PARAM, page.next_cursor)
        links.append({"relation": "next", "url": url})
    entries = [
        {
            "fullUrl": str(request.url_for("fhir_read_observation", observation_id=row.id)),
            "resource": _resource(row, search.elements),
            "search": {"mode": "match"},
        }
        for row in page.rows
    ]
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = entries
    return bundle


def _capabilities(base: str) -> dict[str, Any]:
    search_params = [_search_param(*param) for param in SEARCH_PARAMETERS]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": _STARTED,
        "publisher": "radqc",
        "kind": "instance",
        "software": {"name": "radqc", "version": _version()},
        "implementation": {
            "description": "radqc quality control for CXR images and reports",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [
            {
                "mode": "server",
                "security": {
                    "description": "Bearer tokens with roles: ingest writes and reads back "
                    "DiagnosticReports; reader and auditor read Observations"
                },
                "resource": [
                    {
                        "type": "DiagnosticReport",
                        "interaction": [
                            {"code": "read"},
                            {"code": "vread"},
                            {"code": "create"},
                            {"code": "update"},
                        ],
                        "versioning": "versioned-update",
                        "readHistory": True,
                        "updateCreate": True,
                        "conditionalRead": "not-match",
                    },
                    {
                        "type": "Observation",
                        "interaction": [
                            {"code": "read"},
                            {"code": "vread"},
                            {"code": "search-type"},
                        ],
                        "versioning": "versioned",
                        "readHistory": True,
                        "conditionalRead": "not-match",
                        "searchParam": search_params,
                    },
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
                "searchParam": [
                    _search_param("_sort", "special", "", ", ".join(sorted(SORTS))),
                    _search_param("_count", "number", "", "page size, at most 500"),
                    _search_param("_summary", "token", "", "count or false"),
                    _search_param("_total", "token", "", "none, estimate or accurate"),
                    _search_param("_elements", "special", "", "top-level elements"),
                    _search_param("_format", "special", "", "json only"),
                ],
            }
        ],
    }


def _search_param(name: str, kind: str, definition: str, doc: str) -> dict[str, Any]:
    param = {"name": name, "type": kind, "documentation": doc}
    if definition:
        param["definition"] = f"http://hl7.org/fhir/SearchParameter/{definition}"
    return param


def _version() -> str:
    try:
        return metadata.version("radqc")
    except metadata.PackageNotFoundError:
        return "unknown"
