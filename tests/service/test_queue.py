"""The job queue against real SQLite and PostgreSQL: idempotent enqueue, leases, retries."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from sqlalchemy import event, select, text

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
        # The requeue's one statement (an upsert), then the completion, in the same moment.
        if (
            statement.lstrip().upper().startswith(("INSERT INTO JOBS", "UPDATE JOBS"))
            and not started
        ):
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


def _seed_jobs(db: Database, rows: list[dict[str, Any]]) -> None:
    now = utcnow()
    defaults = {"attempts": 0, "rerun": False, "created_at": now, "updated_at": now,
                "locked_by": None, "lease_expires_at": None, "max_attempts": None}  # fmt: skip
    with db.transaction() as session:
        session.execute(Job.__table__.insert(), [{**defaults, **row} for row in rows])


def test_claim_order_expired_lease_first_then_due_jobs_by_time(db: Database) -> None:
    """An expired lease is taken before due jobs; due jobs go by run_at, then id; finished,
    failed and not-yet-due jobs are never claimed; a job whose worker died on its last allowed
    attempt is left to the dead-letter sweep, not run again."""
    now = utcnow()
    ago = lambda seconds: now - dt.timedelta(seconds=seconds)  # noqa: E731
    _seed_jobs(
        db,
        [
            {"kind": "qc", "key": "late", "status": "queued", "run_at": ago(10)},
            {"kind": "qc", "key": "early", "status": "queued", "run_at": ago(20)},
            {"kind": "qc", "key": "tie-b", "status": "queued", "run_at": ago(10)},
            {"kind": "qc", "key": "future", "status": "queued", "run_at": ago(-3600)},
            {"kind": "qc", "key": "done", "status": "done", "run_at": ago(99)},
            {"kind": "qc", "key": "failed", "status": "failed", "run_at": ago(99)},
            {"kind": "qc", "key": "held", "status": "running", "run_at": ago(99),
             "locked_by": "alive", "lease_expires_at": ago(-60)},
            {"kind": "qc", "key": "orphan", "status": "running", "run_at": ago(1),
             "locked_by": "dead", "lease_expires_at": ago(5), "attempts": 1, "max_attempts": 3},
            {"kind": "qc", "key": "last-try", "status": "running", "run_at": ago(99),
             "locked_by": "dead", "lease_expires_at": ago(50), "attempts": 3, "max_attempts": 3},
        ],
    )  # fmt: skip
    order = []
    while True:
        with db.transaction() as session:
            job = queue.claim(session, "w", 30)
        if job is None:
            break
        order.append(job.key)
    assert order == ["orphan", "early", "late", "tie-b"]
    assert _job(db, "last-try").status == JobStatus.RUNNING  # for dead_letter_abandoned
    with db.transaction() as session:
        assert [j.key for j in queue.dead_letter_abandoned(session)] == ["last-try"]


def test_requeue_of_a_job_deleted_by_retention_queues_it_again(db: Database) -> None:
    with db.transaction() as session:
        queue.enqueue(session, queue.STUDY, "study:9", max_attempts=3)
    with db.transaction() as session:
        job = queue.claim(session, "w1", 30)
        assert job is not None
        queue.complete(session, job)
    with db.transaction() as session:
        session.execute(Job.__table__.delete().where(Job.key == "study:9"))
        queue.enqueue(session, queue.STUDY, "study:9", max_attempts=3, requeue=True)
    row = _job(db, "study:9")
    assert (row.status, row.attempts, row.rerun) == (JobStatus.QUEUED, 0, False)


def test_queue_depth_counts_queued_and_running_only(db: Database) -> None:
    now = utcnow()
    _seed_jobs(
        db,
        [{"kind": "qc", "key": f"k{i}", "status": s, "run_at": now}
         for i, s in enumerate(["queued", "queued", "running", "done", "failed"])],
    )  # fmt: skip
    with db.reader() as session:
        assert queue.queue_depth(session) == 3


@pytest.mark.postgres
def test_claim_walks_the_due_index_whatever_the_backlog(postgres_url: str) -> None:
    """On PostgreSQL the claim is two index-ordered lookups: with 30,000 finished and 5,000
    queued jobs it reads a handful of index entries, never sorts, never scans the table."""
    db = Database(postgres_url)
    try:
        with db.transaction() as session:
            session.execute(Job.__table__.delete())
            session.execute(
                text(
                    "INSERT INTO jobs (kind, key, status, attempts, rerun, run_at, created_at,"
                    " updated_at) SELECT 'qc', 'k' || g, CASE WHEN g <= 30000 THEN 'done'"
                    " ELSE 'queued' END, 0, false, now() - g * interval '1 second', now(), now()"
                    " FROM generate_series(1, 35000) g"
                )
            )
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE jobs"))
        plans: list[Any] = []

        def explain(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            if statement.lstrip().upper().startswith("UPDATE JOBS") and not plans:
                raw = conn.exec_driver_sql(
                    "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
                )
                plans.append(raw.scalar_one()[0]["Plan"])

        event.listen(db.engine, "before_cursor_execute", explain)
        try:
            with db.transaction() as session:
                assert queue.claim(session, "w", 30) is not None
        finally:
            event.remove(db.engine, "before_cursor_execute", explain)
        nodes = _plan_nodes(plans[0])
        assert not any(n["Node Type"] in ("Sort", "Seq Scan", "Bitmap Heap Scan") for n in nodes)
        scans = {n.get("Index Name"): n for n in nodes if n["Node Type"] == "Index Scan"}
        assert {"ix_jobs_lease", "ix_jobs_due"} <= set(scans)
        assert scans["ix_jobs_due"]["Actual Rows"] <= 2  # the first due job, not the backlog
    finally:
        with db.transaction() as session:
            session.execute(Job.__table__.delete())
        db.dispose()


def _plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node.get("Plans", []) for n in _plan_nodes(child))]
