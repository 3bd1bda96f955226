"""Driving write-back in tests: a real worker, a publisher, waiting, and what the hospital
server must have received."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import func, select

from fhir_adapter.publisher import ObservationPublisher
from fhir_adapter.references import ReferenceMode, for_hospital, targets_of
from fhir_adapter.writeback import WritebackClient
from service import queue
from service.db import Database
from service.models import Item, Job, JobStatus, Observation, OutboxEntry
from service.worker import Worker, WorkerConfig
from tests.fhir_adapter.fhir_server import RecordingFHIRServer
from tests.fhir_adapter.support import add_report_item, finding, store_findings

CONFIG = WorkerConfig(
    lease_seconds=5, poll_seconds=0.02, retry=queue.RetryPolicy(base_seconds=0.05, max_seconds=0.3)
)
PUBLISHER = ObservationPublisher(writeback_enabled=True)


@contextmanager
def running_worker(db: Database, client: WritebackClient) -> Iterator[Worker]:
    worker = Worker(db, {queue.WRITEBACK: client.deliver}, CONFIG)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()


def wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def all_delivered(db: Database) -> bool:
    with db.reader() as session:
        pending = session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.status != "delivered")
        )
        busy = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.kind == queue.WRITEBACK, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
            )
        )
    return pending == 0 and busy == 0


def stored(db: Database) -> dict[str, Observation]:
    with db.reader() as session:
        return {row.id: row for row in session.scalars(select(Observation))}


def publish_reports(db: Database, count: int) -> list[int]:
    items = []
    for n in range(count):
        item_id = add_report_item(db, f"r{n}", subject=f"Patient/p{n}")
        store_findings(
            db, item_id, [finding("report.laterality"), finding("report.typo")], publisher=PUBLISHER
        )
        items.append(item_id)
    return items


def assert_each_version_accepted_once(
    db: Database, server: RecordingFHIRServer, versions: int = 1
) -> None:
    for obs_id, row in stored(db).items():
        accepted = server.accepted_puts(obs_id)
        assert len(accepted) == versions, obs_id
        assert accepted[-1].json() == as_sent(db, row)
        assert "_history" not in accepted[-1].body.decode()
        assert accepted[-1].content_type == "application/fhir+json"
        assert accepted[-1].path == f"/fhir/Observation/{obs_id}"


def as_sent(db: Database, row: Observation, mode: ReferenceMode = "identifier") -> Any:
    """The stored Observation as write-back sends it: references for the hospital server."""
    with db.reader() as session:
        item = session.get(Item, row.item_id)
        assert item is not None
        return for_hospital(json.loads(row.resource_json), targets_of(item), mode)


def settled(db: Database) -> bool:
    """Nothing pending and no write-back job left to run (delivered, refused or discarded)."""
    with db.reader() as session:
        pending = session.scalar(
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.status == "pending")
        )
        busy = session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.kind == queue.WRITEBACK, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
            )
        )
    return pending == 0 and busy == 0


def assert_summaries_after_their_members(db: Database, server: RecordingFHIRServer) -> None:
    """A summary that reached the server did so after every finding it refers to."""
    for obs_id, row in stored(db).items():
        members = [m["reference"] for m in json.loads(row.resource_json).get("hasMember", [])]
        if not members:
            continue
        accepted = server.accepted_puts(obs_id)
        if not accepted:  # refused
            continue
        sent = accepted[0].at
        for member in members:
            assert server.accepted_puts(member.split("/")[1])[0].at <= sent


def claim_writeback(db: Database) -> queue.ClaimedJob:
    with db.transaction() as session:
        job = queue.claim(session, "test-worker", 30)
    assert job is not None
    assert job.kind == queue.WRITEBACK
    return job


def release_writeback(db: Database, job: queue.ClaimedJob) -> None:
    """Give a job claimed with :func:`claim_writeback` back to the queue."""
    with db.transaction() as session:
        queue.release(session, job)
