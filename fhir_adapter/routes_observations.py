"""radqc's own FHIR read API (DESIGN §5): the CapabilityStatement and the Observations it published.

Mounted by the composition root at ``/fhir``. ``GET /metadata`` is open; reading and searching
Observations needs a ``reader`` or ``auditor`` token. Search results are ordered by id and paged
with an opaque ``_cursor`` (radqc's one keyset scheme, :mod:`service.api.pagination`, on the id),
so a page never repeats or skips an Observation that changes while a client pages through.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, cast

from fastapi import APIRouter, Request, params
from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.orm import Session

from fhir_adapter.observations import fhir_instant
from fhir_adapter.outcome import FHIRResponse, IssueCode, issue, operation_outcome
from service.api import pagination
from service.api.auth import READ_ACCESS
from service.api.deps import components
from service.errors import InvalidInputError
from service.models import Observation, utcnow
from service.taxonomy import CODE_SYSTEM

router = APIRouter()

_READ = cast(params.Depends, READ_ACCESS)
DEFAULT_COUNT = 50
MAX_COUNT = 500
CURSOR_PARAM = "_cursor"
OBSERVATION_STATUSES = frozenset(
    {
        "registered",
        "preliminary",
        "final",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    }
)
_STARTED = fhir_instant(utcnow())
OBSERVATIONS = pagination.Keyset("fhir-observations", (Observation.id,), descending=False)


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
def read_observation(observation_id: str, request: Request) -> FHIRResponse:
    """One Observation radqc published, with ``meta.versionId`` and ``meta.lastUpdated``."""
    with components(request).db.reader() as session:
        row = session.get(Observation, observation_id)
    if row is None:
        return _outcome(404, "not-found", "no such Observation")
    return FHIRResponse(_resource(row), headers={"ETag": f'W/"{row.version}"'})


@router.get("/Observation", response_class=FHIRResponse, dependencies=[_READ])
def search_observations(request: Request) -> FHIRResponse:
    """Search: ``code``, ``status``, ``subject`` (also ``subject:identifier``), ``derived-from``
    (also ``derived-from:identifier``), ``date`` (eq/ne/ge/gt/le/lt on the time stored),
    ``_count`` (default 50, at most 500) and ``_cursor`` from a ``next`` link."""
    try:
        search = parse_search(list(request.query_params.multi_items()))
    except InvalidInputError as exc:
        return _outcome(400, "invalid", str(exc), exc.location)
    with components(request).db.reader() as session:
        total, page = _run(session, search)
    return FHIRResponse(_bundle(request, search, total, page))


# -- search parameters -----------------------------------------------------------------------
@dataclass
class Search:
    """A parsed search: SQL conditions, page size, where the page starts, and the parameters to
    repeat in paging links."""

    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    start: pagination.Key | None = None
    echo: list[tuple[str, str]] = field(default_factory=list)


def parse_search(query: list[tuple[str, str]]) -> Search:
    """Parse query parameters; raise :class:`InvalidInputError` naming a bad one."""
    search = Search()
    for name, value in query:
        if name == CURSOR_PARAM:
            search.start = OBSERVATIONS.decode(value, CURSOR_PARAM)
            continue
        if name == "_count":
            search.count = _parse_count(value)
        else:
            parser = _PARAMETERS.get(name)
            if parser is None:
                raise InvalidInputError(f"unknown search parameter {name!r}", location=name)
            values = value.split(",")
            if not all(part.strip() for part in values):
                raise InvalidInputError(f"empty value for {name!r}", location=name)
            search.conditions.append(or_(*(parser(part.strip()) for part in values)))
        search.echo.append((name, value))
    return search


def _parse_count(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise InvalidInputError("_count must be a whole number", location="_count")
    return min(int(value), MAX_COUNT)


def _code(token: str) -> ColumnElement[bool]:
    if "|" not in token:
        return Observation.code == token
    system, _, code = token.partition("|")
    if system and system != CODE_SYSTEM:
        return false()
    return Observation.code == code if code else true()


def _status(token: str) -> ColumnElement[bool]:
    if token not in OBSERVATION_STATUSES:
        raise InvalidInputError("unknown Observation status", location="status")
    return Observation.status == token


def _subject(reference: str) -> ColumnElement[bool]:
    if "|" in reference:
        raise InvalidInputError(
            "subject takes a reference such as Patient/123; use "
            "subject:identifier=system|value for an identifier",
            location="subject",
        )
    return Observation.subject == reference


def _identifier(column: Any, name: str) -> Callable[[str], ColumnElement[bool]]:
    def condition(token: str) -> ColumnElement[bool]:
        if "|" not in token:
            raise InvalidInputError(f"{name} takes system|value", location=name)
        return cast(ColumnElement[bool], column == token)

    return condition


def _derived_from(reference: str) -> ColumnElement[bool]:
    if "|" in reference:
        raise InvalidInputError(
            "derived-from takes a reference; use derived-from:identifier for an identifier",
            location="derived-from",
        )
    if "/_history/" in reference:
        return Observation.derived_from == reference
    return or_(
        Observation.derived_from == reference,
        Observation.derived_from.startswith(reference + "/_history/", autoescape=True),
    )


_DATE = re.compile(
    r"^(?P<prefix>[a-z]{2})?(?P<value>\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}"
    r"(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?)$"
)


def date_range(value: str) -> tuple[dt.datetime, dt.datetime]:
    """The half-open UTC interval a FHIR date or dateTime of any precision stands for."""
    if len(value) == 4:
        start = dt.datetime(int(value), 1, 1, tzinfo=dt.UTC)
        return start, start.replace(year=start.year + 1)
    if len(value) == 7:
        start = dt.datetime(int(value[:4]), int(value[5:7]), 1, tzinfo=dt.UTC)
        return start, (start + dt.timedelta(days=32)).replace(day=1)
    if len(value) == 10:
        start = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
        return start, start + dt.timedelta(days=1)
    start = dt.datetime.fromisoformat(value)
    start = start.replace(tzinfo=dt.UTC) if start.tzinfo is None else start.astimezone(dt.UTC)
    clock = value[11:].split("+")[0].split("-")[0].rstrip("Z")
    if clock.count(":") == 1:
        step = dt.timedelta(minutes=1)
    elif "." in clock:
        step = dt.timedelta(microseconds=10 ** (6 - len(clock.split(".")[1])))
    else:
        step = dt.timedelta(seconds=1)
    return start, start + step


def _date(token: str) -> ColumnElement[bool]:
    match = _DATE.match(token.replace(" ", "+"))  # an unencoded "+" arrives as a space
    if match is None:
        raise InvalidInputError("invalid date", location="date")
    prefix = match["prefix"] or "eq"
    try:
        start, end = date_range(match["value"])
    except (ValueError, OverflowError) as exc:  # no such day, or beyond year 9999
        raise InvalidInputError("invalid date", location="date") from exc
    column = Observation.updated_at
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": and_(column >= start, column < end),
        "ne": or_(column < start, column >= end),
        "ge": column >= start,
        "gt": column >= end,
        "le": column < end,
        "lt": column < start,
    }
    if prefix not in conditions:
        raise InvalidInputError("this date prefix is not supported", location="date")
    return conditions[prefix]


_PARAMETERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "code": _code,
    "status": _status,
    "subject": _subject,
    "subject:identifier": _identifier(Observation.subject, "subject:identifier"),
    "derived-from": _derived_from,
    "derived-from:identifier": _identifier(Observation.derived_from, "derived-from:identifier"),
    "date": _date,
}


# -- queries and rendering -------------------------------------------------------------------
def _run(session: Session, search: Search) -> tuple[int, pagination.Page[Observation]]:
    total = session.scalar(select(func.count()).select_from(Observation).where(*search.conditions))
    if search.count == 0:
        return int(total or 0), pagination.Page([], None)
    matching = select(Observation).where(*search.conditions)
    return int(total or 0), OBSERVATIONS.read(session, matching, search.start, search.count)


def _resource(row: Observation) -> dict[str, Any]:
    stored: dict[str, Any] = json.loads(row.resource_json)
    meta = {"versionId": str(row.version), "lastUpdated": fhir_instant(row.updated_at)}
    return {
        "resourceType": stored.pop("resourceType"),
        "id": stored.pop("id"),
        "meta": meta,
        **stored,
    }


def _bundle(
    request: Request, search: Search, total: int, page: pagination.Page[Observation]
) -> dict[str, Any]:
    links = [{"relation": "self", "url": str(request.url)}]
    if page.next_cursor is not None:
        url = pagination.next_url(request.url, search.echo, CURSOR_PARAM, page.next_cursor)
        links.append({"relation": "next", "url": url})
    entries = [
        {
            "fullUrl": str(request.url_for("fhir_read_observation", observation_id=row.id)),
            "resource": _resource(row),
            "search": {"mode": "match"},
        }
        for row in page.rows
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": total,
        "link": links,
    }
    if entries:  # FHIR JSON has no empty arrays
        bundle["entry"] = entries
    return bundle


def _capabilities(base: str) -> dict[str, Any]:
    search_params = [
        _search_param("code", "token", "clinical-code", "code or system|code"),
        _search_param("status", "token", "Observation-status", "the Observation status"),
        _search_param(
            "subject",
            "reference",
            "Observation-subject",
            "Patient/id; subject:identifier=system|value for images",
        ),
        _search_param(
            "derived-from",
            "reference",
            "Observation-derived-from",
            "DiagnosticReport/id[/_history/v]; derived-from:identifier for studies",
        ),
        _search_param("date", "date", "clinical-date", "when radqc last stored the Observation"),
    ]
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
                    "description": "Bearer tokens with roles: ingest writes "
                    "DiagnosticReports; reader and auditor read Observations"
                },
                "resource": [
                    {
                        "type": "DiagnosticReport",
                        "interaction": [{"code": "create"}, {"code": "update"}],
                        "updateCreate": True,
                    },
                    {
                        "type": "Observation",
                        "interaction": [{"code": "read"}, {"code": "search-type"}],
                        "versioning": "versioned",
                        "searchParam": search_params,
                    },
                ],
                "interaction": [{"code": "transaction"}, {"code": "batch"}],
            }
        ],
    }


def _search_param(name: str, kind: str, definition: str, doc: str) -> dict[str, Any]:
    return {
        "name": name,
        "type": kind,
        "definition": f"http://hl7.org/fhir/SearchParameter/{definition}",
        "documentation": doc,
    }


def _version() -> str:
    try:
        return metadata.version("radqc")
    except metadata.PackageNotFoundError:
        return "unknown"
