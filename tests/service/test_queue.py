"""The job queue against real SQLite and PostgreSQL: idempotent enqueue, leases, retries."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select

from service import queue
from service.db import Database
from service.models import Job, JobStatus, utcnow
from service.retry import backoff_delay

POLICY = queue.RetryPolicy(base_seconds=10, max_seconds=60)


@pytest.mark.parametrize(
    ("attempt", "expected"),
    [(0, 0.0), (1, 10.0), (2, 20.0), (3, 40.0), (4, 60.0), (50, 60.0), (10_000, 60.0)],
)
def test_backoff_delay_table(attempt: int, expected: float) -> None:
    assert backoff_delay(attempt, 10, 60) == expected


def _job(db: Database, key: str) -> Job:
    with db.reader() as session:
        return session.scalars(select(Job).where(Job.key == key)).one()


def test_enqueue_is_idempotent_by_key(db: Database) -> None:
    for _ in range(3):
        with db.transaction() as session:
            queue.enqueue(session, queue.QC, "item:1", max_attempts=3)
    with db.reader() as session:
        assert len(session.scalars(select(Job)).all()) == 1


def test_claim_complete_and_nothing_left(db: Database) -> None:
    with db.transaction() as session:
        queue.enqueue(session, queue.QC, "item:1", max_attempts=3)
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None and job.attempts == 1 and job.locked_by == "w1"
        assert queue.claim(session, "w2", 30) is None
    with db.transaction() as session:
        queue.complete(session, job)
    assert _job(db, "item:1").status == JobStatus.DONE
    with db.transaction() as session:
        assert queue.claim(session, "w1", 30) is None


def test_failed_job_backs_off_then_dead_letters(db: Database) -> None:
    with db.transaction() as session:
        queue.enqueue(session, queue.QC, "item:1", max_attempts=2)
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None
    with db.transaction() as session:
        assert queue.fail(session, job, "boom", POLICY) is False
    stored = _job(db, "item:1")
    assert stored.status == JobStatus.QUEUED and stored.last_error == "boom"
    assert stored.run_at > utcnow() + dt.timedelta(seconds=8)
    with db.transaction() as session:  # not due yet
        assert queue.claim(session, "w1", 30) is None
        session.execute(Job.__table__.update().values(run_at=utcnow()))
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None and job.attempts == 2
    with db.transaction() as session:
        assert queue.fail(session, job, "boom again", POLICY) is True
    stored = _job(db, "item:1")
    assert stored.status == JobStatus.FAILED and stored.last_error == "boom again"


def test_expired_lease_is_reclaimed(db: Database) -> None:
    with db.transaction() as session:
        queue.enqueue(session, queue.QC, "item:1", max_attempts=3)
    with db.transaction() as session:
        first = queue.claim(session, "dead-worker", 0.01)
        assert first is not None
    time.sleep(0.05)
    with db.transaction() as session:
        again = queue.claim(session, "w2", 30)
        assert again is not None and again.id == first.id
        assert again.locked_by == "w2" and again.attempts == 2
    with db.transaction() as session:  # the dead worker's late completion changes nothing
        queue.complete(session, first)
    assert _job(db, "item:1").status == JobStatus.RUNNING


def test_worker_lost_on_last_attempt_is_dead_lettered(db: Database) -> None:
    with db.transaction() as session:
        queue.enqueue(session, queue.QC, "item:1", max_attempts=1)
    with db.transaction() as session:
        assert queue.claim(session, "dead-worker", 0.01) is not None
    time.sleep(0.05)
    with db.transaction() as session:
        [lost] = queue.dead_letter_abandoned(session)
        assert (lost.key, lost.locked_by) == ("item:1", "dead-worker")
        assert queue.claim(session, "w2", 30) is None
    assert _job(db, "item:1").status == JobStatus.FAILED


def test_requeue_while_running_runs_once_more(db: Database) -> None:
    with db.transaction() as session:
        queue.enqueue(session, queue.STUDY, "study:1", max_attempts=3)
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None
    with db.transaction() as session:
        queue.enqueue(session, queue.STUDY, "study:1", max_attempts=3, requeue=True)
    with db.transaction() as session:
        queue.complete(session, job)
    assert _job(db, "study:1").status == JobStatus.QUEUED
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None
        queue.complete(session, job)
    assert _job(db, "study:1").status == JobStatus.DONE


def test_release_gives_the_attempt_back(db: Database) -> None:
    with db.transaction() as session:
        queue.enqueue(session, queue.QC, "item:1", max_attempts=3)
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None
    with db.transaction() as session:
        queue.release(session, job)
    stored = _job(db, "item:1")
    assert stored.status == JobStatus.QUEUED and stored.attempts == 0 and stored.locked_by is None


def test_concurrent_claims_never_share_a_job(db: Database) -> None:
    import threading

    with db.transaction() as session:
        for i in range(40):
            queue.enqueue(session, queue.QC, f"item:{i}", max_attempts=3)
    claimed: list[int] = []
    lock = threading.Lock()

    def drain(name: str) -> None:
        while True:
            with db.transaction() as session:
                job = queue.claim(session, name, 30)
                if job is None:
                    return
                queue.complete(session, job)
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 40


def test_a_requeue_racing_the_completion_of_the_running_job_is_not_lost(
    db: Database, database_url: str
) -> None:
    """A changed Observation is requeued while its write-back job runs; the worker completes the
    job right after the requeue's UPDATE. The job must run again (status queued), not end done:
    with two UPDATE statements in the requeue (one for a running job, one for the rest), a
    completion between them was missed by both and the new version was never written back."""
    with db.transaction() as session:
        queue.enqueue(session, queue.WRITEBACK, "writeback:obs-1")
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None
    worker_db = Database(database_url)  # the worker: its own connection
    completed = threading.Event()

    def complete() -> None:
        with worker_db.transaction() as session:
            queue.complete(session, job)
        completed.set()

    finisher = threading.Thread(target=complete)
    started: list[str] = []

    def after_update(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE JOBS") and not started:
            started.append(statement)
            finisher.start()  # completes at once, or waits for this transaction's row lock
            finisher.join(timeout=1.0)

    event.listen(db.engine, "after_cursor_execute", after_update)
    try:
        with db.transaction() as session:
            queue.enqueue(session, queue.WRITEBACK, "writeback:obs-1", requeue=True)
    finally:
        event.remove(db.engine, "after_cursor_execute", after_update)
    finisher.join(timeout=30)
    worker_db.dispose()
    assert completed.is_set()
    row = _job(db, "writeback:obs-1")
    assert (row.status, row.rerun, row.locked_by) == (JobStatus.QUEUED, False, None)
