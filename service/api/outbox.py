"""The write-back outbox (issue 11): what the hospital FHIR server has received, refused or is
still to receive, and the admin's levers: retry, discard, backfill.

An outbox entry is one Observation version to PUT. Its ``status``:

- ``pending``: waiting for its write-back job, or retrying after an outage (5xx, 408, 409, 429,
  no answer): retried with backoff for as long as the server is away;
- ``delivered``: the server accepted this version (or a later one, sent in its place);
- ``refused``: the server answered another 4xx ``RADQC_FHIR_WRITEBACK_MAX_REFUSALS`` times;
  ``http_status`` and ``outcome`` (its OperationOutcome) say why. It is not tried again until an
  admin retries it (after fixing the server's configuration or radqc's);
- ``discarded``: an admin decided it is not to be sent;
- ``superseded``: it was refused, and a later version of the Observation was delivered since.

The first part of this module is the data layer (also used by ``radqc outbox`` and by the
write-back client); the routes at the end are thin and need the ``admin`` role.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import status as http
from pydantic import BaseModel, Field
from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.orm import Session

from service import queue
from service.api.auth import Principal, require_roles
from service.api.deps import components
from service.api.params import RowId, parse_row_id
from service.db import Database
from service.errors import InvalidInputError, NotFoundError, RadqcError
from service.models import Observation, OutboxEntry

log = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
REFUSED = "refused"
DISCARDED = "discarded"
SUPERSEDED = "superseded"
EntryStatus = Literal["pending", "delivered", "refused", "discarded", "superseded"]
RETRYABLE = (PENDING, REFUSED, DISCARDED)
DISCARDABLE = (PENDING, REFUSED)
BACKFILL_BATCH = 500


class OutboxConflict(RadqcError):
    """The entry is not in a status that allows what was asked (e.g. discard a delivered one)."""


# -- data layer ------------------------------------------------------------------------------
def writeback_job_key(observation_id: str) -> str:
    """The one write-back job of an Observation: its versions are sent one after another."""
    return f"writeback:{observation_id}"


def enqueue_writeback(session: Session, observation_id: str) -> None:
    """Queue (or queue again, now) the write-back job of an Observation."""
    queue.enqueue(
        session,
        queue.WRITEBACK,
        writeback_job_key(observation_id),
        target=observation_id,
        max_attempts=None,
        requeue=True,
    )


@dataclass(frozen=True, slots=True)
class OutboxFilters:
    status: EntryStatus | None = None
    item_id: int | None = None
    observation_id: str | None = None


def list_entries(
    session: Session, filters: OutboxFilters, *, before: int | None, limit: int
) -> list[tuple[OutboxEntry, Observation]]:
    """Entries newest first (by id), at most ``limit``, with ids below ``before``."""
    stmt = select(OutboxEntry, Observation).join(
        Observation, Observation.id == OutboxEntry.observation_id
    )
    if filters.status is not None:
        stmt = stmt.where(OutboxEntry.status == filters.status)
    if filters.item_id is not None:
        stmt = stmt.where(Observation.item_id == filters.item_id)
    if filters.observation_id is not None:
        stmt = stmt.where(OutboxEntry.observation_id == filters.observation_id)
    if before is not None:
        stmt = stmt.where(OutboxEntry.id < before)
    rows = session.execute(stmt.order_by(OutboxEntry.id.desc()).limit(limit)).all()
    return [(entry, observation) for entry, observation in rows]


def get_entry(session: Session, entry_id: int) -> tuple[OutboxEntry, Observation]:
    row = session.execute(
        select(OutboxEntry, Observation)
        .join(Observation, Observation.id == OutboxEntry.observation_id)
        .where(OutboxEntry.id == entry_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"outbox entry {entry_id} does not exist")
    return row[0], row[1]


def retry(session: Session, entries: Iterable[OutboxEntry]) -> int:
    """Send these entries again from scratch (refusals counted anew); returns how many.

    A pending entry is sent now instead of at its backoff time."""
    retried = 0
    for entry in entries:
        if entry.status not in RETRYABLE:
            raise OutboxConflict(f"outbox entry {entry.id} is {entry.status}: nothing to retry")
        if _delivered_since(session, entry):
            raise OutboxConflict(f"outbox entry {entry.id}: a later version was delivered")
        entry.status = PENDING
        entry.refusals = 0
        entry.http_status = None
        entry.outcome_json = None
        entry.last_error = None
        enqueue_writeback(session, entry.observation_id)
        retried += 1
    return retried


def _delivered_since(session: Session, entry: OutboxEntry) -> bool:
    """A later version of the entry's Observation reached the server (sending would repeat it)."""
    later = session.scalar(
        select(OutboxEntry.id)
        .where(
            OutboxEntry.observation_id == entry.observation_id,
            OutboxEntry.status == DELIVERED,
            OutboxEntry.observation_version > entry.observation_version,
        )
        .limit(1)
    )
    return later is not None


def retry_refused(
    session: Session, *, item_id: int | None = None, observation_ids: Sequence[str] = ()
) -> int:
    """Retry every refused entry (of an item, or of these Observations); returns how many."""
    stmt = select(OutboxEntry).where(OutboxEntry.status == REFUSED)
    if item_id is not None:
        stmt = stmt.where(
            OutboxEntry.observation_id.in_(
                select(Observation.id).where(Observation.item_id == item_id)
            )
        )
    if observation_ids:
        stmt = stmt.where(OutboxEntry.observation_id.in_(list(observation_ids)))
    return retry(session, session.scalars(stmt.order_by(OutboxEntry.id).with_for_update()).all())


def discard(session: Session, entry: OutboxEntry, who: str) -> None:
    """Never send this entry (its job, if queued, then finds nothing pending)."""
    if entry.status not in DISCARDABLE:
        raise OutboxConflict(f"outbox entry {entry.id} is {entry.status}: it cannot be discarded")
    entry.status = DISCARDED
    entry.last_error = f"discarded by {who}"


def backfill(session: Session, limit: int = BACKFILL_BATCH) -> int:
    """Queue up to ``limit`` Observations whose current version has no outbox entry (published
    while write-back was off); returns how many. Call until it returns 0.

    An Observation cancelled before it ever reached the server is left out: there is nothing
    on the server to cancel."""
    current = exists().where(
        OutboxEntry.observation_id == Observation.id,
        OutboxEntry.observation_version == Observation.version,
    )
    ever_delivered = exists().where(
        OutboxEntry.observation_id == Observation.id,
        OutboxEntry.status.in_([DELIVERED, SUPERSEDED]),
    )
    rows = session.execute(
        select(Observation.id, Observation.version)
        .where(~current, or_(Observation.status != "cancelled", ever_delivered))
        .order_by(Observation.item_id, Observation.id)
        .limit(limit)
    ).all()
    for observation_id, version in rows:
        session.add(OutboxEntry(observation_id=observation_id, observation_version=version))
        enqueue_writeback(session, observation_id)
    return len(rows)


def supersede_refused(session: Session, observation_id: str, delivered_version: int) -> None:
    """A version was delivered: older refused versions of the Observation no longer matter."""
    session.execute(
        update(OutboxEntry)
        .where(
            OutboxEntry.observation_id == observation_id,
            OutboxEntry.status == REFUSED,
            OutboxEntry.observation_version < delivered_version,
        )
        .values(status=SUPERSEDED)
    )


# -- what an item shows ----------------------------------------------------------------------
class WritebackStateOut(BaseModel):
    """Where the current version of one Observation stands with the hospital FHIR server."""

    state: str = Field(
        description="off (write-back not configured) | not queued (published while write-back "
        "was off: see backfill) | waiting | retrying | delivered | refused | discarded"
    )
    version: int = Field(description="the Observation's current version")
    entry_id: int | None = Field(description="its outbox entry, for retry or discard")
    attempts: int
    refusals: int
    http_status: int | None = Field(description="the server's last answer, when not accepted")
    last_error: str | None
    delivered_at: dt.datetime | None


def _state(entry: OutboxEntry | None, enabled: bool) -> str:
    if entry is None:
        return "not queued" if enabled else "off"
    if entry.status == PENDING:
        return "retrying" if entry.attempts else "waiting"
    return entry.status


def writeback_states(
    session: Session, observation_ids: Sequence[str], enabled: bool
) -> dict[str, WritebackStateOut]:
    """The write-back state of each Observation's current version (for the item's API view:
    ``enabled`` is whether ``RADQC_FHIR_WRITEBACK_URL`` is set)."""
    if not observation_ids:
        return {}
    current = and_(
        OutboxEntry.observation_id == Observation.id,
        OutboxEntry.observation_version == Observation.version,
    )
    rows = session.execute(
        select(Observation.id, Observation.version, OutboxEntry)
        .outerjoin(OutboxEntry, current)
        .where(Observation.id.in_(list(observation_ids)))
    ).all()
    return {
        observation_id: WritebackStateOut(
            state=_state(entry, enabled),
            version=version,
            entry_id=entry.id if entry else None,
            attempts=entry.attempts if entry else 0,
            refusals=entry.refusals if entry else 0,
            http_status=entry.http_status if entry else None,
            last_error=entry.last_error if entry else None,
            delivered_at=entry.delivered_at if entry else None,
        )
        for observation_id, version, entry in rows
    }


# -- HTTP ------------------------------------------------------------------------------------
router = APIRouter()
Admin = Annotated[Principal, require_roles("admin")]
DEFAULT_LIMIT = 50
MAX_LIMIT = 500


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


def _cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        return parse_row_id(cursor, "cursor")
    except InvalidInputError as exc:
        raise HTTPException(http.HTTP_400_BAD_REQUEST, str(exc)) from exc


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
    with components(request).db.reader() as session:
        rows = list_entries(session, filters, before=_cursor(cursor), limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return OutboxPage(
        entries=[OutboxEntryOut.of(entry, observation) for entry, observation in rows],
        next_cursor=str(rows[-1][0].id) if more else None,
    )


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


def run_backfill(db: Database) -> int:
    """:func:`backfill` in batches, one transaction each, until nothing is left."""
    total = 0
    while True:
        with db.transaction() as session:
            queued = backfill(session)
        total += queued
        if queued < BACKFILL_BATCH:
            return total


def _found(
    session: Session, entry_id: int, *, for_update: bool = False
) -> tuple[OutboxEntry, Observation]:
    try:
        if for_update:  # the worker may be updating it: take turns
            session.execute(
                select(OutboxEntry.id).where(OutboxEntry.id == entry_id).with_for_update()
            )
        return get_entry(session, entry_id)
    except NotFoundError as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, str(exc)) from exc


def _conflict_as_409(action: Callable[[], object]) -> None:
    try:
        action()
    except OutboxConflict as exc:
        raise HTTPException(http.HTTP_409_CONFLICT, str(exc)) from exc
