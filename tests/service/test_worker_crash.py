"""A worker process killed with SIGKILL in the middle of a job loses nothing and duplicates nothing.

Real worker processes (``radqc worker``) on the real database: reports are queued, a worker is
killed while it holds a job, and after a restart every item is processed once, with its
Observations once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service import ingest
from service.config import Settings
from service.db import Database
from service.models import FindingRow, Item, ItemStatus, Job, JobStatus, Observation
from service.reports.sections import sections_dict

N_REPORTS = 80
TEXTS = [
    "FINDINGS: The lungs are clear. No pleural effusion.\nIMPRESSION: No acute disease.",
    "FINDINGS: Heart size is normal. [***]\nIMPRESSION: Normal chest.",
    "FINDINGS: Mild cardiomegaly. Small left pleural effusion.",
]


def _seed(db: Database, settings: Settings) -> None:
    options = ingest.QueueOptions(settings.job_max_attempts, settings.study_stable_seconds)
    with db.transaction() as session:
        for i in range(N_REPORTS):
            text = TEXTS[i % len(TEXTS)] + f" (case {i})."
            ingest.store_report(
                session,
                ingest.ReceivedReport(
                    report_id=f"crash-{i}",
                    content_hash=f"{i:064x}",
                    resource_json="{}",
                    text=text,
                    sections=sections_dict(text),
                    status="final",
                    patient_sex=None,
                    subject_reference=f"Patient/p{i}",
                    exam_code=None,
                    exam_display="XR CHEST",
                    accession=None,
                    study_instance_uid=None,
                ),
                options,
            )


def _env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "RADQC_DATABASE_URL": settings.effective_database_url,
            "RADQC_DATA_DIR": str(settings.data_dir),
            "RADQC_JOB_LEASE_SECONDS": "2",
            "RADQC_WORKER_POLL_SECONDS": "0.05",
            "RADQC_LOG_LEVEL": "WARNING",
        }
    )
    return env


@pytest.fixture
def workers(settings: Settings) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _spawn(settings: Settings, procs: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "worker"],
        env=_env(settings),
        cwd=Path(__file__).resolve().parents[2],
    )
    procs.append(proc)
    return proc


def _count(db: Database, *where: object) -> int:
    with db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(Job).where(*where)) or 0)


def _wait(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.01)
    return False


def test_sigkill_mid_job_then_restart_processes_each_item_once(
    db: Database, settings: Settings, workers: list[subprocess.Popen[bytes]]
) -> None:
    _seed(db, settings)
    orphan: Job | None = None
    for _ in range(10):  # kill until a kill lands while the worker holds a job
        target = _count(db, Job.status == JobStatus.DONE) + 3
        proc = _spawn(settings, workers)
        assert _wait(lambda: _count(db, Job.status == JobStatus.DONE) >= target, 30)  # noqa: B023
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with db.reader() as session:
            orphan = session.scalars(
                select(Job).where(
                    Job.status == JobStatus.RUNNING, Job.locked_by.like(f"%:{proc.pid}:%")
                )
            ).one_or_none()
        if orphan is not None:
            break
    assert orphan is not None, "no SIGKILL landed in the middle of a job"
    assert _count(db, Job.status != JobStatus.DONE) > 0

    survivor = _spawn(settings, workers)
    assert _wait(lambda: _count(db, Job.status == JobStatus.DONE) == N_REPORTS, 60)
    survivor.send_signal(signal.SIGTERM)
    assert survivor.wait(30) == 0

    with db.reader() as session:
        reclaimed = session.get(Job, orphan.id)
        assert reclaimed is not None
        assert reclaimed.status == JobStatus.DONE and reclaimed.attempts == 2
        assert session.scalar(select(func.count()).select_from(Job)) == N_REPORTS
        items = session.scalars(select(Item)).all()
        assert len(items) == N_REPORTS
        assert all(item.status == ItemStatus.DONE for item in items)
        for item in items:
            findings = session.scalars(
                select(FindingRow).where(FindingRow.item_id == item.id)
            ).all()
            observations = session.scalars(
                select(Observation).where(Observation.item_id == item.id)
            ).all()
            codes = [o.code for o in observations]
            assert codes.count("qc.summary") == 1
            assert len(observations) == len(findings) + 1
            assert len({o.id for o in observations}) == len(observations)


def test_sigterm_stops_a_worker_cleanly(
    db: Database, settings: Settings, workers: list[subprocess.Popen[bytes]]
) -> None:
    _seed(db, settings)
    proc = _spawn(settings, workers)
    assert _wait(lambda: _count(db, Job.status == JobStatus.DONE) >= 1, 30)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    # Nothing is left claimed by the stopped worker: its job in hand was finished.
    assert _count(db, Job.status == JobStatus.RUNNING) == 0
    assert _count(db, Job.status == JobStatus.FAILED) == 0
