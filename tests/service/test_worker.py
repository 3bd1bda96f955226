"""The worker loop with the real pipeline: findings stored; failures retried, then dead-lettered."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service import ingest, queue
from service.db import Database
from service.engines.base import Finding, QCInput, ReportInput
from service.models import Item, ItemStatus, Job, JobStatus
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from service.taxonomy import Severity
from service.worker import Worker, WorkerConfig

OPTIONS = ingest.QueueOptions(max_attempts=3, study_stable_seconds=0)
CONFIG = WorkerConfig(
    lease_seconds=5,
    poll_seconds=0.01,
    retry=queue.RetryPolicy(base_seconds=0.0001, max_seconds=0.0001),
)


@dataclass
class ScriptedEngine:
    """An engine whose behaviour the test sets: a finding for 'BAD' text, or an exception."""

    fail_times: int = 0
    calls: list[int] = field(default_factory=list)
    name: str = "scripted"
    version: str = "1"
    kinds: frozenset[str] = frozenset({"report"})

    def review(self, item: QCInput) -> list[Finding]:
        self.calls.append(item.item_id)
        if len(self.calls) <= self.fail_times:
            raise RuntimeError("engine crashed")
        assert isinstance(item, ReportInput)
        if "BAD" not in item.text:
            return []
        start = item.text.index("BAD")
        return [
            Finding(
                "report.typo",
                Severity.MINOR,
                "A typo.",
                [{"section": "body", "start": start, "end": start + 3, "quote": "BAD"}],
                0.9,
                self.name,
                self.version,
            )
        ]


def _report(db: Database, report_id: str, text: str) -> int:
    received = ingest.ReceivedReport(
        report_id=report_id,
        content_hash=report_id.ljust(64, "0"),
        resource_json="{}",
        text=text,
        sections={"sections": []},
        status="final",
        patient_sex=None,
        subject_reference=None,
        exam_code=None,
        exam_display=None,
        accession=None,
        study_instance_uid=None,
    )
    return ingest.ingest(db, ingest.store_report, received, OPTIONS).item_id


def _drain(worker: Worker) -> None:
    for _ in range(100):
        if not worker.run_once():
            return


def _pipeline(db: Database, engine: ScriptedEngine, tmp_files: FileStore) -> Pipeline:
    return Pipeline(db, tmp_files, [engine], [], NullPublisher())  # type: ignore[list-item]


def test_findings_are_stored_and_the_item_flagged(db: Database, tmp_path: Path) -> None:
    engine = ScriptedEngine()
    pipeline = _pipeline(db, engine, FileStore(tmp_path / "files"))
    bad, good = _report(db, "a", "Heart BAD size."), _report(db, "b", "Normal.")
    worker = Worker(db, {queue.QC: lambda job: pipeline.process_item(job.item_id or 0)}, CONFIG)
    _drain(worker)
    with db.reader() as session:
        flagged, clean = session.get(Item, bad), session.get(Item, good)
        assert flagged is not None and clean is not None
        assert (flagged.status, flagged.flagged, clean.status, clean.flagged) == (
            ItemStatus.DONE,
            True,
            ItemStatus.DONE,
            False,
        )
        assert [(f.code, f.evidence[0]["quote"]) for f in flagged.findings] == [
            ("report.typo", "BAD")
        ]
    # Processing again (a retry after a crash) does not duplicate findings.
    pipeline.process_item(bad)
    with db.reader() as session:
        again = session.get(Item, bad)
        assert again is not None and len(again.findings) == 1


def test_failures_retry_then_dead_letter_with_the_reason(db: Database, tmp_path: Path) -> None:
    engine = ScriptedEngine(fail_times=100)
    pipeline = _pipeline(db, engine, FileStore(tmp_path / "files"))
    item_id = _report(db, "c", "text")
    worker = Worker(
        db,
        {queue.QC: lambda job: pipeline.process_item(job.item_id or 0)},
        CONFIG,
        on_dead_letter=lambda job, error: pipeline.mark_failed(job.item_id or 0, error),
    )
    _drain(worker)
    assert len(engine.calls) == OPTIONS.max_attempts
    with db.reader() as session:
        item = session.get(Item, item_id)
        job = session.scalars(select(Job).where(Job.item_id == item_id)).one()
    assert item is not None and item.status == ItemStatus.FAILED
    assert item.error is not None and "engine crashed" in item.error
    assert job.status == JobStatus.FAILED and job.attempts == OPTIONS.max_attempts


def test_a_worker_lost_on_the_last_attempt_fails_the_item_through_the_hook(
    db: Database, tmp_path: Path
) -> None:
    """Issue 14: the abandoned job was failed but its item stayed ``processing`` for ever."""
    pipeline = _pipeline(db, ScriptedEngine(), FileStore(tmp_path / "files"))
    item_id = _report(db, "lost", "text")
    with db.transaction() as session:  # a worker claims the last allowed attempt, then dies
        session.execute(update(Job).where(Job.item_id == item_id).values(attempts=2))
        claimed = queue.claim(session, "dead-worker", 0.01)
        assert claimed is not None and claimed.attempts == OPTIONS.max_attempts
        item = session.get(Item, item_id)
        assert item is not None
        item.status = ItemStatus.PROCESSING
    time.sleep(0.05)
    hooked: list[tuple[int, str]] = []

    def on_dead_letter(job: queue.ClaimedJob, error: str) -> None:
        hooked.append((job.id, error))
        pipeline.mark_failed(job.item_id or 0, error)

    worker = Worker(
        db,
        {queue.QC: lambda job: pipeline.process_item(job.item_id or 0)},
        CONFIG,
        on_dead_letter=on_dead_letter,
    )
    assert worker.run_once() is False  # nothing to run: the abandoned job is dead-lettered
    assert [job_id for job_id, _ in hooked] == [claimed.id]
    with db.reader() as session:
        item = session.get(Item, item_id)
        job = session.scalars(select(Job).where(Job.item_id == item_id)).one()
    assert job.status == JobStatus.FAILED
    assert item is not None and item.status == ItemStatus.FAILED
    assert item.error is not None and "worker lost" in item.error


def test_a_transient_failure_is_retried_to_success(db: Database, tmp_path: Path) -> None:
    engine = ScriptedEngine(fail_times=1)
    pipeline = _pipeline(db, engine, FileStore(tmp_path / "files"))
    item_id = _report(db, "d", "BAD")
    worker = Worker(db, {queue.QC: lambda job: pipeline.process_item(job.item_id or 0)}, CONFIG)
    _drain(worker)
    with db.reader() as session:
        item = session.get(Item, item_id)
        job = session.scalars(select(Job).where(Job.item_id == item_id)).one()
    assert item is not None and item.status == ItemStatus.DONE and item.flagged
    assert job.status == JobStatus.DONE and job.attempts == 2


def test_a_failing_after_job_hook_does_not_undo_the_completion(db: Database) -> None:
    """What a hook adds commits with the completion; a hook that fails is logged, its part rolled
    back to its savepoint, and the job is done all the same (not re-run at every lease expiry)."""
    with db.transaction() as session:
        queue.enqueue(session, queue.QC, "item:1")
        queue.enqueue(session, queue.QC, "item:2")

    def hook(session: Session, job: queue.ClaimedJob) -> None:
        if job.kind != queue.QC:
            return
        queue.enqueue(session, "follow-up", f"follow-up:{job.key}")
        if job.key == "item:2":
            raise RuntimeError("the hook fell over")

    handlers = {queue.QC: lambda job: None, "follow-up": lambda job: None}
    worker = Worker(db, handlers, CONFIG, on_done=hook)
    _drain(worker)

    with db.reader() as session:
        jobs = {job.key: job.status for job in session.scalars(select(Job))}
    assert jobs == {
        "item:1": JobStatus.DONE,
        "item:2": JobStatus.DONE,
        "follow-up:item:1": JobStatus.DONE,  # committed with the completion, then run
    }
