"""Retention against real SQLite and PostgreSQL and real files: finished jobs, stored files by
age and by a disk watermark, never a file pending work may still read, and the dry run."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from service import cli, ingest, retention
from service.config import Settings, load_settings
from service.db import Database
from service.errors import ConfigurationError
from service.loop.models import Audit, AuditSelection
from service.models import FindingRow, Instance, Item, Job, Observation, Study, utcnow
from service.retention import RetentionPolicy, run_retention
from service.storage import FileStore

OPTIONS = ingest.QueueOptions(max_attempts=3, study_stable_seconds=0)
IMAGE = ingest.ReceivedInstance(
    sop_instance_uid="",
    sop_class_uid="1.2.840.10008.5.1.4.1.1.1",
    study_instance_uid="",
    series_instance_uid=None,
    modality="CR",
    accession=None,
    patient_id="P1",
    transfer_syntax_uid="1.2.840.10008.1.2.1",
    path="",
    sha256="",
    size_bytes=0,
    calling_ae="PACS",
)
REPORT = ingest.ReceivedReport(
    report_id="",
    content_hash="c" * 64,
    resource_json="{}",
    text="FINDINGS: clear.",
    sections={},
    status="final",
    patient_sex=None,
    subject_reference="Patient/p1",
    exam_code=None,
    exam_display=None,
    accession=None,
    study_instance_uid=None,
)


def _ago(days: float) -> dt.datetime:
    return utcnow() - dt.timedelta(days=days)


def _image(
    db: Database, store: FileStore, name: str, days_old: float, *, study: str | None = None,
    status: str = "done", size: int = 1000,
) -> int:  # fmt: skip
    """A received image with a real stored file, processed (``status``), received
    ``days_old`` days ago, its jobs finished; returns the item id."""
    stored = store.put([name.encode().ljust(size, b".")])
    number = int(stored.sha256[:8], 16)
    received = replace(
        IMAGE, sop_instance_uid=f"1.2.3.{number}", study_instance_uid=study or f"9.9.{number}",
        accession=f"ACC-{study or name}", path=stored.relpath, sha256=stored.sha256,
        size_bytes=stored.size,
    )  # fmt: skip
    item_id = ingest.ingest(db, ingest.store_instance, received, OPTIONS).item_id
    when = _ago(days_old)
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == item_id).values(
            status=status, received_at=when, processed_at=when))  # fmt: skip
        session.execute(update(Instance).where(Instance.path == stored.relpath).values(
            received_at=when))  # fmt: skip
        study_id = session.scalar(select(Item.study_id).where(Item.id == item_id))
        mine = (Job.item_id == item_id) | (Job.study_id == study_id)
        session.execute(update(Job).where(mine).values(status="done", updated_at=when))
        if status != "done":
            session.execute(update(Job).where(Job.item_id == item_id).values(status="queued"))
    return item_id


def _report(db: Database, accession: str, *, status: str) -> int:
    received = replace(REPORT, report_id=f"r-{accession}-{status}", accession=accession)
    item_id = ingest.ingest(db, ingest.store_report, received, OPTIONS).item_id
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == item_id).values(status=status))
        session.execute(
            update(Job).where(Job.item_id == item_id).values(
                status="queued" if status != "done" else "done")
        )  # fmt: skip
    return item_id


def _file_of(db: Database, store: FileStore, item_id: int) -> tuple[Path, dt.datetime | None]:
    with db.reader() as session:
        path, removed = session.execute(
            select(Instance.path, Instance.file_removed_at)
            .join(Item, Item.instance_id == Instance.id)
            .where(Item.id == item_id)
        ).one()
    return store.path(path), removed


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    return FileStore(tmp_path / "dicom")


def _scenario(db: Database, store: FileStore) -> dict[str, int]:
    """One item per rule; each image in a study of its own unless said."""
    items = {
        "old": _image(db, store, "old", 40),
        "young": _image(db, store, "young", 5),
        "not done": _image(db, store, "not done", 40, status="queued"),
        "own job": _image(db, store, "own job", 40),  # done, a shadow run still queued
        "study busy": _image(db, store, "study busy", 40, study="S-busy"),
        "report pending": _image(db, store, "report pending", 40, study="S-rep"),
        "report job": _image(db, store, "report job", 40, study="S-repjob"),
        "awaiting audit": _image(db, store, "awaiting audit", 40),
        "audited": _image(db, store, "audited", 40),
        "missing": _image(db, store, "missing", 41),
    }
    _report(db, "ACC-S-rep", status="queued")
    done_report = _report(db, "ACC-S-repjob", status="done")
    with db.transaction() as session:
        study = session.scalar(select(Study.id).where(Study.study_instance_uid == "S-busy"))
        session.execute(update(Job).where(Job.study_id == study).values(status="queued"))
        session.add(Job(kind="shadow", key="shadow:1:y", item_id=items["own job"]))
        session.add(
            Job(
                kind="shadow",
                key="shadow:1:x",
                item_id=done_report,
                status="running",
                lease_expires_at=utcnow() + dt.timedelta(minutes=1),
                locked_by="w",
            )
        )
        for name in ("awaiting audit", "audited"):
            session.add(
                AuditSelection(
                    item_id=items[name],
                    strategy="flagged",
                    inclusion_probability=0.5,
                    selected_on="2026-01-01",
                )
            )
        session.add(Audit(item_id=items["audited"], version=1, auditor="a"))
        session.add(FindingRow(item_id=items["old"], code="cxr.exposure", severity="major",
                            message="m", evidence=[], confidence=0.9, engine="rules",
                            engine_version="r"))  # fmt: skip
        session.add(
            Observation(
                id="obs-old",
                item_id=items["old"],
                code="qc.summary",
                status="preliminary",
                resource_json="{}",
                content_hash="h",
            )
        )
    _file_of(db, store, items["missing"])[0].unlink()  # a run that crashed after the unlink
    return items


def test_files_by_age_never_those_pending_work_may_read(db: Database, store: FileStore) -> None:
    items = _scenario(db, store)
    policy = RetentionPolicy(file_days=30, dry_run=True)

    planned = run_retention(db, store, policy)
    assert (planned.files_deleted, planned.bytes_freed) == (3, 3000)  # old, audited, missing
    assert all(_file_of(db, store, i)[1] is None for i in items.values())  # nothing marked

    report = run_retention(db, store, replace(policy, dry_run=False))
    assert (report.files_deleted, report.files_missing, report.bytes_freed) == (2, 1, 2000)
    gone = {name for name, i in items.items() if not _file_of(db, store, i)[0].exists()}
    assert gone == {"old", "audited", "missing"}
    marked = {name for name, i in items.items() if _file_of(db, store, i)[1] is not None}
    assert marked == gone
    with db.reader() as session:  # the item and what was found on it stay
        assert session.get(Item, items["old"]) is not None
        assert session.scalar(select(func.count()).where(FindingRow.item_id == items["old"])) == 1
        assert session.get(Observation, "obs-old") is not None
    again = run_retention(db, store, replace(policy, dry_run=False))
    assert (again.files_deleted, again.files_missing) == (0, 0)


def test_finished_jobs_older_than_the_limit_go_in_batches(
    db: Database, store: FileStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retention, "JOB_BATCH", 3)
    with db.transaction() as session:
        for n in range(10):
            session.add(Job(kind="qc", key=f"old-done-{n}", status="done", updated_at=_ago(40)))
        for key, status, age in (
            ("recent", "done", 5),
            ("queued", "queued", 40),
            ("failed", "failed", 40),
            ("running", "running", 40),
        ):
            session.add(Job(kind="qc", key=key, status=status, updated_at=_ago(age)))
    assert run_retention(db, store, RetentionPolicy(job_days=30, dry_run=True)).jobs_deleted == 10
    assert run_retention(db, store, RetentionPolicy(job_days=30)).jobs_deleted == 10
    with db.reader() as session:
        left = sorted(session.scalars(select(Job.key)))
    assert left == ["failed", "queued", "recent", "running"]


class _Disk:
    """A disk of ``total`` bytes holding ``base`` bytes besides the store's real files."""

    def __init__(self, root: Path, total: int, base: int) -> None:
        self.root, self.total, self.base = root, total, base

    def __call__(self, _folder: Path) -> tuple[int, int]:
        files = sum(p.stat().st_size for p in self.root.rglob("*.dcm"))
        return self.total, self.base + files


def test_watermark_deletes_the_oldest_until_under_the_low_mark(
    db: Database, store: FileStore
) -> None:
    ages = {"a": 50, "b": 40, "c": 3, "d": 1}  # files of 1000 bytes
    items = {name: _image(db, store, name, age) for name, age in ages.items()}
    busy = _image(db, store, "busy", 60, status="queued")  # the oldest, but not done
    disk = _Disk(store.root, total=10_000, base=4_000)  # 9,000 used: 90%
    policy = RetentionPolicy(disk_high_percent=80, disk_low_percent=65, dry_run=True)

    planned = run_retention(db, store, policy, usage=disk)
    assert (planned.files_deleted, planned.disk_percent_before) == (3, 90.0)
    assert planned.disk_percent_after == 60.0
    assert all(_file_of(db, store, i)[0].exists() for i in [*items.values(), busy])

    report = run_retention(db, store, replace(policy, dry_run=False), usage=disk)
    assert (report.files_deleted, report.disk_percent_after) == (3, 60.0)
    kept = {name for name, i in items.items() if _file_of(db, store, i)[0].exists()}
    assert kept == {"d"} and _file_of(db, store, busy)[0].exists()
    under = run_retention(db, store, replace(policy, dry_run=False), usage=disk)
    assert under.files_deleted == 0 and under.disk_percent_before == 60.0


def test_watermark_on_the_real_disk_stops_when_nothing_is_left(
    db: Database, store: FileStore
) -> None:
    done = [_image(db, store, f"f{n}", n) for n in range(3)]
    busy = _image(db, store, "busy", 9, status="processing")
    policy = RetentionPolicy(disk_high_percent=0.001, disk_low_percent=0.0005)
    report = run_retention(db, store, policy)  # the real disk is always above 0.001%
    assert report.files_deleted == 3 and report.disk_percent_before is not None
    assert not any(_file_of(db, store, i)[0].exists() for i in done)
    assert _file_of(db, store, busy)[0].exists()


def test_the_command_reports_and_the_settings_are_checked(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = Database(settings.effective_database_url)
    store = FileStore(settings.dicom_dir)
    try:
        old = _image(db, store, "old", 40)
    finally:
        db.dispose()
    monkeypatch.setenv("RADQC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADQC_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("RADQC_RETENTION_FILE_DAYS", "30")
    assert cli.main(["retention", "--dry-run", "--json"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (printed["files_deleted"], printed["dry_run"]) == (1, True)
    assert cli.main(["retention"]) == 0
    assert "deleted 1 stored files" in capsys.readouterr().out
    db = Database(settings.effective_database_url)
    try:
        assert not _file_of(db, store, old)[0].exists()
    finally:
        db.dispose()
    with pytest.raises(ConfigurationError, match="RETENTION_DISK_LOW_PERCENT"):
        load_settings(retention_disk_high_percent=80, retention_disk_low_percent=90)


def test_a_file_two_instances_store_stays_while_one_keeps_it(
    db: Database, store: FileStore
) -> None:
    """Files are content-addressed: should two rows ever name one file, it goes only when
    neither keeps it."""
    first = _image(db, store, "same bytes", 40)
    path, _ = _file_of(db, store, first)
    with db.reader() as session:
        relpath = session.scalar(select(Instance.path).join(Item).where(Item.id == first))
    received = replace(
        IMAGE, sop_instance_uid="7.7.7", study_instance_uid="7.7", accession="ACC-7",
        path=str(relpath), sha256="e" * 64, size_bytes=1000,
    )  # fmt: skip
    second = ingest.ingest(db, ingest.store_instance, received, OPTIONS).item_id  # queued
    policy = RetentionPolicy(file_days=30)
    assert run_retention(db, store, policy).files_deleted == 0
    assert path.exists()
    with db.transaction() as session:
        session.execute(update(Item).where(Item.id == second).values(status="done"))
        session.execute(update(Job).where(Job.item_id == second).values(status="done"))
        session.execute(update(Job).where(Job.study_id.is_not(None)).values(status="done"))
    assert run_retention(db, store, policy).files_deleted == 0  # the second is only 0 days old
    with db.transaction() as session:
        session.execute(update(Instance).values(received_at=_ago(40)))
    assert run_retention(db, store, policy).files_deleted == 1
    assert not path.exists()
