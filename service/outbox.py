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

This is the data layer, shared by the admin REST routes (:mod:`service.api.outbox`), the
``radqc outbox`` commands and the write-back client (:mod:`fhir_adapter`), and the pages and the
item view that show each Observation's write-back state (:func:`writeback_states`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import Select, and_, exists, or_, select, update
from sqlalchemy.orm import Session

from service import queue
from service.db import Database
from service.errors import NotFoundError, RadqcError
from service.models import Observation, OutboxEntry

PENDING = "pending"
DELIVERED = "delivered"
REFUSED = "refused"
DISCARDED = "discarded"
SUPERSEDED = "superseded"
EntryStatus = Literal["pending", "delivered", "refused", "discarded", "superseded"]
RETRYABLE = (PENDING, REFUSED, DISCARDED)
DISCARDABLE = (PENDING, REFUSED)
BACKFILL_BATCH = 500
RETIRED = ("cancelled", "entered-in-error")  # Observation statuses that are never current again


class OutboxConflict(RadqcError):
    """The entry is not in a status that allows what was asked (e.g. discard a delivered one)."""


# -- queueing --------------------------------------------------------------------------------
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


# -- reading ---------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OutboxFilters:
    status: EntryStatus | None = None
    item_id: int | None = None
    observation_id: str | None = None


def entries_query(filters: OutboxFilters) -> Select[OutboxEntry]:
    """The entries matching ``filters``, in no order yet (the REST list pages through it)."""
    stmt = select(OutboxEntry)
    if filters.status is not None:
        stmt = stmt.where(OutboxEntry.status == filters.status)
    if filters.item_id is not None:
        stmt = stmt.where(
            OutboxEntry.observation_id.in_(
                select(Observation.id).where(Observation.item_id == filters.item_id)
            )
        )
    if filters.observation_id is not None:
        stmt = stmt.where(OutboxEntry.observation_id == filters.observation_id)
    return stmt


def with_observations(
    session: Session, entries: Sequence[OutboxEntry]
) -> list[tuple[OutboxEntry, Observation]]:
    """Each entry with its Observation (one query), in the entries' order."""
    ids = {entry.observation_id for entry in entries}
    found = {
        row.id: row for row in session.scalars(select(Observation).where(Observation.id.in_(ids)))
    }
    return [(entry, found[entry.observation_id]) for entry in entries]  # a foreign key


def list_entries(
    session: Session, filters: OutboxFilters, limit: int
) -> list[tuple[OutboxEntry, Observation]]:
    """The newest ``limit`` entries (by id) matching ``filters``, with their Observations."""
    stmt = entries_query(filters).order_by(OutboxEntry.id.desc()).limit(limit)
    return with_observations(session, session.scalars(stmt).all())


def get_entry(session: Session, entry_id: int) -> tuple[OutboxEntry, Observation]:
    row = session.execute(
        select(OutboxEntry, Observation)
        .join(Observation, Observation.id == OutboxEntry.observation_id)
        .where(OutboxEntry.id == entry_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"outbox entry {entry_id} does not exist")
    return row[0], row[1]


def lock_entry(session: Session, entry_id: int) -> tuple[OutboxEntry, Observation]:
    """:func:`get_entry`, its row locked: the worker may be updating it, so take turns."""
    session.execute(select(OutboxEntry.id).where(OutboxEntry.id == entry_id).with_for_update())
    return get_entry(session, entry_id)


# -- state transitions -----------------------------------------------------------------------
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


# -- backfill --------------------------------------------------------------------------------
def backfill(session: Session, limit: int = BACKFILL_BATCH) -> int:
    """Queue up to ``limit`` Observations whose current version has no outbox entry (published
    while write-back was off); returns how many. Call until it returns 0.

    An Observation cancelled before it ever reached the server is left out: there is nothing
    on the server to cancel; so is a cancelled or entered-in-error one whose content the server
    holds already (``Observation.delivered_hash``)."""
    current = exists().where(
        OutboxEntry.observation_id == Observation.id,
        OutboxEntry.observation_version == Observation.version,
    )
    ever_delivered = exists().where(
        OutboxEntry.observation_id == Observation.id,
        OutboxEntry.status.in_([DELIVERED, SUPERSEDED]),
    )
    held = and_(  # retired, and the server holds this content already
        Observation.status.in_(RETIRED),
        Observation.delivered_hash.is_not(None),
        Observation.delivered_hash == Observation.content_hash,
    )
    rows = session.execute(
        select(Observation.id, Observation.version)
        .where(~current, or_(Observation.status != "cancelled", ever_delivered), ~held)
        .order_by(Observation.item_id, Observation.id)
        .limit(limit)
    ).all()
    for observation_id, version in rows:
        session.add(OutboxEntry(observation_id=observation_id, observation_version=version))
        enqueue_writeback(session, observation_id)
    return len(rows)


def run_backfill(db: Database) -> int:
    """:func:`backfill` in batches, one transaction each, until nothing is left."""
    total = 0
    while True:
        with db.transaction() as session:
            queued = backfill(session)
        total += queued
        if queued < BACKFILL_BATCH:
            return total


# -- what an item shows ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class WritebackState:
    """Where the current version of one Observation stands with the hospital FHIR server.

    ``state``: ``off`` (write-back not configured), ``not queued`` (published while write-back
    was off: see :func:`backfill`), ``waiting``, ``retrying`` (a pending entry tried before),
    or the entry's own status: ``delivered``, ``refused``, ``discarded``, ``superseded``.
    """

    state: str
    version: int  # the Observation's current version
    entry_id: int | None  # its outbox entry, for retry or discard
    attempts: int
    refusals: int
    http_status: int | None  # the server's last answer, when not accepted
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
) -> dict[str, WritebackState]:
    """The write-back state of each Observation's current version (``enabled``: whether
    ``RADQC_FHIR_WRITEBACK_URL`` is set). An Observation that does not exist is left out."""
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
        observation_id: WritebackState(
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
