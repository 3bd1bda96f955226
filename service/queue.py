"""A durable job queue in the database (our own small module; see README "Job queue").

- ``enqueue`` is idempotent by ``key``: one job per item however often the item arrives. With
  ``requeue=True`` a finished job is queued again, a queued one is moved to the new ``run_at``, and
  a running one is marked to run once more when it finishes (the study stable-time rule and
  write-back of a changed Observation need this).
- ``claim`` takes the next due job with a lease in one statement (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL; SQLite serialises writers with ``BEGIN IMMEDIATE``). A job whose lease ran out (its
  worker died) is due again. The statement is two index-ordered lookups of one row each, so its
  cost does not grow with the backlog or with finished jobs (see :func:`claim`).
- ``fail`` retries with exponential backoff (:func:`backoff_delay`, a pure function) and
  dead-letters the job (status ``failed``) after ``max_attempts``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, case, func, literal_column, or_, select, union_all, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.models import Job, JobStatus, utcnow
from service.retry import backoff_delay

QC = "qc"
STUDY = "study"
WRITEBACK = "writeback"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff between attempts. How many attempts a job gets is its own ``max_attempts``
    (None: retried until it succeeds, as write-back is)."""

    base_seconds: float = 2.0
    max_seconds: float = 300.0


def enqueue(
    session: Session,
    kind: str,
    key: str,
    *,
    item_id: int | None = None,
    study_id: int | None = None,
    target: str | None = None,
    run_at: dt.datetime | None = None,
    max_attempts: int | None = None,
    requeue: bool = False,
) -> None:
    """Insert the job for ``key`` unless it exists; see the module doc for ``requeue``."""
    now = utcnow()
    values = {
        "kind": kind,
        "key": key,
        "item_id": item_id,
        "study_id": study_id,
        "target": target,
        "status": JobStatus.QUEUED,
        "attempts": 0,
        "max_attempts": max_attempts,
        "rerun": False,
        "run_at": run_at or now,
        "created_at": now,
        "updated_at": now,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(Job).values(**values)
    if not requeue:
        session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
        return
    # ONE statement, an upsert, so that it and complete() (also one statement) are serialised
    # by the row lock: with two (one for a running job, one for the rest), a job completed
    # between them was missed by both, and a changed Observation was never written back; and
    # with an insert then an update, a finished job deleted by retention between the two was
    # neither inserted nor updated. ``jobs.*`` is the stored row, ``excluded.*`` the new one.
    running = Job.status == JobStatus.RUNNING
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "status": case((running, Job.status), else_=JobStatus.QUEUED.value),
                "rerun": case((running, True), else_=Job.rerun),
                "attempts": case((running, Job.attempts), else_=0),
                "last_error": case((running, Job.last_error), else_=None),
                "run_at": stmt.excluded.run_at,
                "updated_at": stmt.excluded.updated_at,
            },
        )
    )


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job as claimed by one worker: what the handler needs, detached from any session."""

    id: int
    kind: str
    key: str
    item_id: int | None
    study_id: int | None
    target: str | None
    attempts: int
    max_attempts: int | None
    locked_by: str


ABANDONED = "worker lost during the last allowed attempt"
# What a claimed job's handler needs, read back in the statement that claims (or fails) it.
_CLAIMED_COLUMNS = (
    Job.id,
    Job.kind,
    Job.key,
    Job.item_id,
    Job.study_id,
    Job.target,
    Job.attempts,
    Job.max_attempts,
    Job.locked_by,
)


def _claimed(row: Any) -> ClaimedJob:  # a Row of _CLAIMED_COLUMNS
    return ClaimedJob(
        id=row.id,
        kind=row.kind,
        key=row.key,
        item_id=row.item_id,
        study_id=row.study_id,
        target=row.target,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        locked_by=row.locked_by or "",
    )


# The job statuses as SQL literals, not bound parameters: the partial indexes ``ix_jobs_due``
# (``status = 'queued'``) and ``ix_jobs_lease`` (``status = 'running'``) can only serve a query
# whose condition names the same constant, also in a prepared statement's generic plan.
_QUEUED: ColumnElement[str] = literal_column("'queued'")
_RUNNING: ColumnElement[str] = literal_column("'running'")


def _expired_lease(now: dt.datetime) -> Select[int]:
    """The running job whose lease ran out first (its worker died), if it may run again; on
    ``ix_jobs_lease``, which holds only running jobs (a few per worker)."""
    return (
        select(Job.id)
        .where(
            Job.status == _RUNNING,
            Job.lease_expires_at < now,
            or_(Job.max_attempts.is_(None), Job.attempts < Job.max_attempts),
        )
        .order_by(Job.lease_expires_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def _next_queued(now: dt.datetime) -> Select[int]:
    """The first due queued job in ``(run_at, id)`` order, walked on ``ix_jobs_due``, which
    holds only queued jobs: finished jobs cost nothing, and the scan stops at the first row
    no other worker holds, however long the backlog."""
    return (
        select(Job.id)
        .where(Job.status == _QUEUED, Job.run_at <= now)
        .order_by(Job.run_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


def claim(session: Session, worker_id: str, lease_seconds: float) -> ClaimedJob | None:
    """Claim the next due job (or one whose lease expired) for ``worker_id``.

    One statement: ``UPDATE jobs ... WHERE id = (<expired lease> UNION ALL <next queued> LIMIT
    1) RETURNING ...``. Each branch is an index-ordered ``LIMIT 1 FOR UPDATE SKIP LOCKED`` on
    its own partial index (PostgreSQL refuses ``FOR UPDATE`` directly under ``UNION``, so each
    is a subquery); the second runs only when the first finds nothing. A job whose worker died
    on its last allowed attempt is left to :func:`dead_letter_abandoned`. (Before, one ``OR``
    of the two conditions kept PostgreSQL from walking an index in order: every claim sorted
    every due job.) On SQLite ``FOR UPDATE`` is not rendered; ``BEGIN IMMEDIATE`` serialises
    the claims instead.
    """
    now = utcnow()
    expired = _expired_lease(now).subquery("expired")
    queued = _next_queued(now).subquery("queued")
    candidate = union_all(select(expired.c.id), select(queued.c.id)).limit(1).scalar_subquery()
    stmt = (
        update(Job)
        .where(Job.id == candidate)
        .values(
            status=JobStatus.RUNNING,
            locked_by=worker_id,
            attempts=Job.attempts + 1,
            lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(stmt).one_or_none()
    return None if row is None else _claimed(row)


def extend_lease(session: Session, job_id: int, worker_id: str, lease_seconds: float) -> bool:
    """Heartbeat: push the lease forward; False if the job is no longer ours."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.locked_by == worker_id, Job.status == JobStatus.RUNNING)
        .values(lease_expires_at=now + dt.timedelta(seconds=lease_seconds))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _owned(job: ClaimedJob) -> ColumnElement[bool]:
    """Still this worker's claim: a worker whose lease ran out and was reclaimed changes nothing."""
    return and_(Job.id == job.id, Job.locked_by == job.locked_by, Job.status == JobStatus.RUNNING)


def complete(session: Session, job: ClaimedJob) -> None:
    """Mark a job done, or queue it again if it was re-requested while it ran."""
    rerun = Job.rerun.is_(True)
    session.execute(  # one statement: see enqueue()
        update(Job)
        .where(_owned(job))
        .values(
            status=case((rerun, JobStatus.QUEUED.value), else_=JobStatus.DONE.value),
            attempts=case((rerun, 0), else_=Job.attempts),
            rerun=False,
            locked_by=None,
            lease_expires_at=None,
            last_error=None,
            updated_at=utcnow(),
        )
    )


def fail(
    session: Session, job: ClaimedJob, error: str, policy: RetryPolicy, *, retry_after: float = 0.0
) -> bool:
    """Record a failed attempt. Returns True when the job is dead-lettered (status ``failed``)."""
    now = utcnow()
    dead = job.max_attempts is not None and job.attempts >= job.max_attempts
    delay = max(retry_after, backoff_delay(job.attempts, policy.base_seconds, policy.max_seconds))
    session.execute(
        update(Job)
        .where(_owned(job))
        .values(
            status=JobStatus.FAILED if dead else JobStatus.QUEUED,
            run_at=now if dead else now + dt.timedelta(seconds=delay),
            locked_by=None,
            lease_expires_at=None,
            last_error=error[:2000],
            updated_at=now,
        )
    )
    return dead


def release(session: Session, job: ClaimedJob) -> None:
    """Give a claimed job back unchanged (clean shutdown): the attempt does not count."""
    session.execute(
        update(Job)
        .where(_owned(job))
        .values(
            status=JobStatus.QUEUED,
            attempts=Job.attempts - 1,
            locked_by=None,
            lease_expires_at=None,
            updated_at=utcnow(),
        )
    )


def dead_letter_abandoned(session: Session) -> list[ClaimedJob]:
    """Jobs whose worker died during their last allowed attempt are failed, not run again.

    Returns them, so that the caller runs its dead-letter hook for each (an item whose QC job
    is failed this way must not stay ``processing``)."""
    now = utcnow()
    rows = session.execute(
        update(Job)
        .where(
            Job.status == _RUNNING,  # on ix_jobs_lease: a few rows, not the table
            Job.lease_expires_at < now,
            Job.max_attempts.is_not(None),
            Job.attempts >= Job.max_attempts,
        )
        .values(
            status=JobStatus.FAILED,
            lease_expires_at=None,
            last_error=ABANDONED,
            updated_at=now,
        )
        .returning(*_CLAIMED_COLUMNS)
        .execution_options(synchronize_session=False)
    ).all()
    return [_claimed(row) for row in rows]


def queue_depth(session: Session) -> int:
    """Jobs queued or running: two counts, each on its partial index (finished jobs, however
    many are kept, are not read)."""
    queued = select(func.count()).select_from(Job).where(Job.status == _QUEUED)
    running = select(func.count()).select_from(Job).where(Job.status == _RUNNING)
    return int(session.scalar(select(queued.scalar_subquery() + running.scalar_subquery())) or 0)
