"""The write-back outbox over REST (issue 11), for admins: list entries, read one, retry or
discard it, retry every refused entry, backfill. The data layer (statuses, transitions, backfill)
is the core's :mod:`service.outbox`; these routes only translate it to HTTP.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import status as http
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from service.api import pagination
from service.api.auth import Principal, require_roles
from service.api.deps import components
from service.api.params import RowId
from service.errors import NotFoundError
from service.models import Observation, OutboxEntry
from service.outbox import (
    EntryStatus,
    OutboxConflict,
    OutboxFilters,
    discard,
    entries_query,
    get_entry,
    lock_entry,
    retry,
    retry_refused,
    run_backfill,
    with_observations,
)

log = logging.getLogger(__name__)

# -- HTTP ------------------------------------------------------------------------------------
router = APIRouter()
Admin = Annotated[Principal, require_roles("admin")]
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

OUTBOX = pagination.Keyset("outbox", (OutboxEntry.id,))
"""Outbox entries, newest (highest id) first."""


class OutboxEntryOut(BaseModel):
    """One Observation version to write back, and what the hospital FHIR server made of it."""

    id: int
    observation_id: str
    observation_version: int
    current_version: int = Field(description="the Observation's latest version")
    item_id: int
    code: str
    status: EntryStatus
    attempts: int = Field(description="tries so far, outages included")
    refusals: int = Field(description="4xx answers counted towards refused")
    http_status: int | None = Field(description="the server's last answer, when not accepted")
    last_error: str | None
    outcome: dict[str, Any] | None = Field(
        description="the OperationOutcome of the last refusal, as the server sent it"
    )
    created_at: dt.datetime
    last_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    url: str = Field(description="the Observation in radqc's FHIR API")

    @classmethod
    def of(cls, entry: OutboxEntry, observation: Observation) -> OutboxEntryOut:
        return cls(
            id=entry.id,
            observation_id=entry.observation_id,
            observation_version=entry.observation_version,
            current_version=observation.version,
            item_id=observation.item_id,
            code=observation.code,
            status=entry.status,  # one of the statuses above, else a validation error
            attempts=entry.attempts,
            refusals=entry.refusals,
            http_status=entry.http_status,
            last_error=entry.last_error,
            outcome=_outcome(entry.outcome_json),
            created_at=entry.created_at,
            last_attempt_at=entry.last_attempt_at,
            delivered_at=entry.delivered_at,
            url=f"/fhir/Observation/{entry.observation_id}",
        )


def _outcome(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class OutboxPage(BaseModel):
    """Entries newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    entries: list[OutboxEntryOut]
    next_cursor: str | None = Field(description="null on the last page")


class OutboxCount(BaseModel):
    count: int = Field(description="how many entries were retried or queued")


_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such outbox entry"}}
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "the entry's status does not allow it"}
}


@router.get(
    "/outbox",
    response_model=OutboxPage,
    summary="List write-back outbox entries, newest first (admin)",
    responses={400: {"description": "invalid cursor"}},
)
def list_outbox(
    request: Request,
    _principal: Admin,
    status: Annotated[EntryStatus | None, Query(description="only entries in this status")] = None,
    item_id: Annotated[RowId | None, Query(description="only this item's Observations")] = None,
    observation_id: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> OutboxPage:
    filters = OutboxFilters(status=status, item_id=item_id, observation_id=observation_id)
    start = pagination.start_of(OUTBOX, cursor)
    with components(request).db.reader() as session:
        page = OUTBOX.read(session, entries_query(filters), start, limit)
        rows = with_observations(session, page.rows)
        entries = [OutboxEntryOut.of(entry, observation) for entry, observation in rows]
    return OutboxPage(entries=entries, next_cursor=page.next_cursor)


@router.get(
    "/outbox/{entry_id}",
    response_model=OutboxEntryOut,
    summary="One write-back outbox entry (admin)",
    responses=_NOT_FOUND,
)
def get_outbox_entry(request: Request, _principal: Admin, entry_id: RowId) -> OutboxEntryOut:
    with components(request).db.reader() as session:
        return OutboxEntryOut.of(*_found(session, entry_id))


@router.post(
    "/outbox/{entry_id}/retry",
    response_model=OutboxEntryOut,
    summary="Send a refused, discarded or waiting entry again, now (admin)",
    responses={**_NOT_FOUND, **_CONFLICT},
)
def retry_entry(request: Request, principal: Admin, entry_id: RowId) -> OutboxEntryOut:
    with components(request).db.transaction() as session:
        entry, observation = _found(session, entry_id, for_update=True)
        _conflict_as_409(lambda: retry(session, [entry]))
        out = OutboxEntryOut.of(entry, observation)
    log.info("outbox entry %d queued again by %s", entry_id, principal.name)
    return out


@router.post(
    "/outbox/{entry_id}/discard",
    response_model=OutboxEntryOut,
    summary="Never send a pending or refused entry (admin)",
    responses={**_NOT_FOUND, **_CONFLICT},
)
def discard_entry(request: Request, principal: Admin, entry_id: RowId) -> OutboxEntryOut:
    with components(request).db.transaction() as session:
        entry, observation = _found(session, entry_id, for_update=True)
        _conflict_as_409(lambda: discard(session, entry, principal.name))
        out = OutboxEntryOut.of(entry, observation)
    log.info("outbox entry %d discarded by %s", entry_id, principal.name)
    return out


@router.post(
    "/outbox/retry-refused",
    response_model=OutboxCount,
    summary="Send every refused entry again (of one item, or all) (admin)",
)
def retry_all_refused(
    request: Request,
    principal: Admin,
    item_id: Annotated[RowId | None, Query(description="only this item's Observations")] = None,
) -> OutboxCount:
    with components(request).db.transaction() as session:
        count = retry_refused(session, item_id=item_id)
    log.info("%d refused outbox entries queued again by %s", count, principal.name)
    return OutboxCount(count=count)


@router.post(
    "/outbox/backfill",
    response_model=OutboxCount,
    summary="Queue every Observation the hospital server has not received (admin)",
    responses={409: {"description": "write-back is off (RADQC_FHIR_WRITEBACK_URL is empty)"}},
)
def backfill_outbox(request: Request, principal: Admin) -> OutboxCount:
    comps = components(request)
    if not comps.settings.fhir_writeback_url:
        raise HTTPException(http.HTTP_409_CONFLICT, "write-back is off: nothing would send them")
    total = run_backfill(comps.db)
    log.info("backfill: %d observations queued for write-back by %s", total, principal.name)
    return OutboxCount(count=total)


def _found(
    session: Session, entry_id: int, *, for_update: bool = False
) -> tuple[OutboxEntry, Observation]:
    try:
        return lock_entry(session, entry_id) if for_update else get_entry(session, entry_id)
    except NotFoundError as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, str(exc)) from exc


def _conflict_as_409(action: Callable[[], object]) -> None:
    try:
        action()
    except OutboxConflict as exc:
        raise HTTPException(http.HTTP_409_CONFLICT, str(exc)) from exc
