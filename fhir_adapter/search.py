"""FHIR search on radqc's Observations: the parameters, their parsing, and the sort orders.

A parameter radqc does not know is ignored by default and refused under ``Prefer:
handling=strict`` (FHIR R4 §3.1.1.5.4, "handling"); so is a ``_sort`` key or ``_summary`` mode
radqc cannot honour. Every parameter that was applied is remembered (``Search.applied``) so
that the Bundle's ``self`` link names exactly those. A value radqc cannot read of a parameter
it knows is always a 400, whatever the handling.

Sort orders are keysets (:mod:`service.api.pagination`): ``_id`` (the default), ``-_id``,
``_lastUpdated`` and ``-_lastUpdated`` (when radqc last stored the Observation), ``date`` and
``-date`` (``effective[x]``: the study or report time, :mod:`fhir_adapter.effective`); each has
its own cursors, so a ``_cursor`` issued under one order is refused under another. The DSTU2
forms ``_sort:asc=date`` and ``_sort:desc=date`` (what fhirclient's ``$asc``/``$desc`` send) are
read as ``date`` and ``-date``.

``date`` searches ``effectiveDateTime``, kept in the indexed column ``observations.effective_at``
(set when an Observation is stored; migration 0008 filled the older rows). A date without a time
(``2024-05-01``) counts as the start of that day in UTC. The comparison prefixes are
``eq ne ge gt le lt``; the DSTU forms ``>= > <= <`` (what fhirclient's ``$gte`` etc. send) are
read as ``ge gt le lt``.

``status:not=cancelled,entered-in-error`` is every Observation whose status is none of those:
with ``status=preliminary,final``, the way to ask for the current ones
(:mod:`fhir_adapter.lifecycle`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, false, or_, true

from fhir_adapter.effective import fhir_instant
from fhir_adapter.observations import OBSERVATION_CATEGORY
from service.api import pagination
from service.errors import InvalidInputError
from service.models import Observation
from service.taxonomy import CODE_SYSTEM

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
JSON_FORMATS = frozenset({"json", "application/json", "application/fhir+json"})
_DSTU_PREFIXES = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}


_BY_ID = pagination.Keyset("fhir-observations", (Observation.id,), descending=False)
_BY_TIME = (Observation.updated_at, Observation.id)
_BY_EFFECTIVE = (Observation.effective_at, Observation.id)
SORTS: dict[str, pagination.Keyset] = {
    "_id": _BY_ID,
    "-_id": pagination.Keyset("fhir-observations-id-desc", (Observation.id,), descending=True),
    "_lastUpdated": pagination.Keyset("fhir-observations-time", _BY_TIME, descending=False),
    "-_lastUpdated": pagination.Keyset("fhir-observations-time-desc", _BY_TIME),
    "date": pagination.Keyset("fhir-observations-effective", _BY_EFFECTIVE, descending=False),
    "-date": pagination.Keyset("fhir-observations-effective-desc", _BY_EFFECTIVE),
}
SUMMARIES = frozenset({"count", "false"})
TOTALS = frozenset({"none", "estimate", "accurate"})
_ELEMENT = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\[x\])?$")


class UnsupportedFormatError(InvalidInputError):
    """``_format`` asks for something other than JSON: a 406."""


@dataclass
class Search:
    """A parsed search: SQL conditions, order and page, what the Bundle holds, and which of the
    query's parameters were applied (by position in the query)."""

    conditions: list[ColumnElement[bool]] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    keyset: pagination.Keyset = _BY_ID
    start: pagination.Key | None = None
    summary_count: bool = False
    total: bool = True
    elements: frozenset[str] | None = None
    applied: list[int] = field(default_factory=list)
    echo: list[tuple[str, str]] = field(default_factory=list)


def strict_handling(prefer: str | None) -> bool:
    """Whether a ``Prefer`` header asks for ``handling=strict``."""
    for preference in re.split(r"[,;]", prefer or ""):
        name, _, value = preference.partition("=")
        if name.strip().lower() == "handling" and value.strip().strip('"').lower() == "strict":
            return True
    return False


def parse_search(query: Sequence[tuple[str, str]], *, strict: bool = False) -> Search:
    """Parse query parameters; raise :class:`InvalidInputError` naming a bad one (and, when
    ``strict``, one radqc does not support)."""
    search = Search()
    cursor: str | None = None
    for index, (name, value) in enumerate(query):
        if name == CURSOR_PARAM:
            cursor = value
        elif not _apply(search, name, value):
            if strict:
                raise InvalidInputError(f"unsupported search parameter {name!r}", location=name)
            continue
        search.applied.append(index)
        if name != CURSOR_PARAM:
            search.echo.append((name, value))
    if cursor is not None:
        search.start = search.keyset.decode(cursor, CURSOR_PARAM)
    return search


def _apply(search: Search, name: str, value: str) -> bool:
    """Apply one parameter to ``search``; ``False`` if radqc does not support it."""
    if name == "_count":
        search.count = _parse_count(value)
    elif name in ("_sort", "_sort:asc", "_sort:desc"):
        key = f"-{value}" if name == "_sort:desc" else value
        if key not in SORTS:
            return False
        search.keyset = SORTS[key]
    elif name == "_summary":
        if value not in SUMMARIES:
            return False
        search.summary_count = value == "count"
    elif name == "_total":
        if value not in TOTALS:
            raise InvalidInputError("_total is none, estimate or accurate", location=name)
        search.total = value != "none"
    elif name == "_elements":
        search.elements = _parse_elements(value)
    elif name == "_format":
        if value.replace(" ", "+") not in JSON_FORMATS:
            raise UnsupportedFormatError("radqc answers FHIR JSON only", location=name)
    elif name == "status:not":
        search.conditions.append(_status_not(_values(name, value)))
    else:
        parser = _PARAMETERS.get(name)
        if parser is None:
            return False
        search.conditions.append(or_(*(parser(part) for part in _values(name, value))))
    return True


def _values(name: str, value: str) -> list[str]:
    """The comma-separated values of one parameter (any of them matches)."""
    values = [part.strip() for part in value.split(",")]
    if not all(values):
        raise InvalidInputError(f"empty value for {name!r}", location=name)
    return values


def _parse_count(value: str) -> int:
    if not (value.isascii() and value.isdigit()):
        raise InvalidInputError("_count must be a whole number", location="_count")
    return min(int(value), MAX_COUNT)


def _parse_elements(value: str) -> frozenset[str]:
    names = frozenset(part.strip() for part in value.split(","))
    if not all(_ELEMENT.match(name) for name in names):
        raise InvalidInputError("_elements takes top-level element names", location="_elements")
    return names


# -- parameters ------------------------------------------------------------------------------
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


def _status_not(tokens: list[str]) -> ColumnElement[bool]:
    """``status:not=a,b``: a status that is none of them."""
    if not all(token in OBSERVATION_STATUSES for token in tokens):
        raise InvalidInputError("unknown Observation status", location="status:not")
    return Observation.status.not_in(tokens)


def _category(token: str) -> ColumnElement[bool]:
    """Every radqc Observation is of category ``imaging``."""
    system, _, code = token.rpartition("|")
    if "|" in token and system and system != OBSERVATION_CATEGORY:
        return false()
    return true() if code in {"imaging", ""} else false()


def _subject(reference: str) -> ColumnElement[bool]:
    if "|" in reference:
        raise InvalidInputError(
            "subject takes a reference such as Patient/123; use "
            "subject:identifier=system|value for an identifier",
            location="subject",
        )
    return Observation.subject == reference


def _patient(reference: str) -> ColumnElement[bool]:
    """``patient=123`` or ``patient=Patient/123``: a subject that is that Patient."""
    if "|" in reference or ("/" in reference and not reference.startswith("Patient/")):
        raise InvalidInputError("patient takes Patient/id or an id", location="patient")
    return Observation.subject == (reference if "/" in reference else f"Patient/{reference}")


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


def _id(token: str) -> ColumnElement[bool]:
    return Observation.id == token


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


def _date(name: str) -> Callable[[str], ColumnElement[bool]]:
    """``_lastUpdated`` (when radqc last stored the Observation) and ``date``
    (``effectiveDateTime``, as the indexed ``Observation.effective_at``)."""

    def condition(token: str) -> ColumnElement[bool]:
        token = token.replace(" ", "+")  # an unencoded "+" arrives as a space
        for dstu, prefix in _DSTU_PREFIXES.items():
            if token.startswith(dstu):
                token = prefix + token[len(dstu) :]
                break
        match = _DATE.match(token)
        if match is None:
            raise InvalidInputError("invalid date", location=name)
        prefix = match["prefix"] or "eq"
        try:
            start, end = date_range(match["value"])
        except (ValueError, OverflowError) as exc:  # no such day, or beyond year 9999
            raise InvalidInputError("invalid date", location=name) from exc
        if name == "date":
            bounds = fhir_instant(start), fhir_instant(end)
            return _compare(Observation.effective_at, prefix, *bounds, name)
        return _compare(Observation.updated_at, prefix, start, end, name)

    return condition


def _compare(column: Any, prefix: str, start: Any, end: Any, name: str) -> ColumnElement[bool]:
    """``column`` against the half-open interval [start, end) a date stands for."""
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": and_(column >= start, column < end),
        "ne": or_(column < start, column >= end),
        "ge": column >= start,
        "gt": column >= end,
        "le": column < end,
        "lt": column < start,
    }
    if prefix not in conditions:
        raise InvalidInputError("this date prefix is not supported", location=name)
    return conditions[prefix]


_PARAMETERS: dict[str, Callable[[str], ColumnElement[bool]]] = {
    "_id": _id,
    "_lastUpdated": _date("_lastUpdated"),
    "code": _code,
    "status": _status,
    "category": _category,
    "subject": _subject,
    "subject:identifier": _identifier(Observation.subject, "subject:identifier"),
    "patient": _patient,
    "derived-from": _derived_from,
    "derived-from:identifier": _identifier(Observation.derived_from, "derived-from:identifier"),
    "date": _date("date"),
}

SEARCH_PARAMETERS: tuple[tuple[str, str, str, str], ...] = (
    ("_id", "token", "Resource-id", "the Observation id"),
    ("_lastUpdated", "date", "Resource-lastUpdated", "eq/ne/ge/gt/le/lt on meta.lastUpdated"),
    ("code", "token", "clinical-code", "code or system|code"),
    (
        "status",
        "token",
        "Observation-status",
        "the Observation status; the current ones: status=preliminary,final or "
        "status:not=cancelled,entered-in-error",
    ),
    ("category", "token", "Observation-category", "always imaging"),
    (
        "subject",
        "reference",
        "Observation-subject",
        "Patient/id; subject:identifier=system|value for images",
    ),
    ("patient", "reference", "clinical-patient", "Patient/id or id"),
    (
        "derived-from",
        "reference",
        "Observation-derived-from",
        "DiagnosticReport/id[/_history/v]; derived-from:identifier for studies",
    ),
    (
        "date",
        "date",
        "clinical-date",
        "effective[x]: the study or report time (the QC time when the source has none)",
    ),
)
"""``(name, type, definition, documentation)`` of every search parameter: the
CapabilityStatement and the OpenAPI are built from it."""
