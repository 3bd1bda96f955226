"""Ingest: one item and one job per object however often it arrives; new content, new version."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import replace

from sqlalchemy import func, select

from service import ingest, queue
from service.db import Database
from service.models import Instance, Item, Job, JobStatus, ReportVersion, Study, utcnow

OPTIONS = ingest.QueueOptions(max_attempts=3, study_stable_seconds=30)
IMAGE = ingest.ReceivedInstance(
    sop_instance_uid="1.2.3.4.1",
    sop_class_uid="1.2.840.10008.5.1.4.1.1.1",
    study_instance_uid="1.2.3.4",
    series_instance_uid="1.2.3.4.0",
    modality="CR",
    accession="ACC1",
    patient_id="P1",
    transfer_syntax_uid="1.2.840.10008.1.2.1",
    path="aa/bb/aabb.dcm",
    sha256="a" * 64,
    size_bytes=10,
    calling_ae="PACS",
)
REPORT = ingest.ReceivedReport(
    report_id="r1",
    content_hash="c" * 64,
    resource_json="{}",
    text="FINDINGS: clear.",
    sections={"sections": []},
    status="final",
    patient_sex="female",
    subject_reference="Patient/p1",
    exam_code="36643-5",
    exam_display="XR chest",
    accession="ACC1",
    study_instance_uid=None,
)


def _count(db: Database, model: type) -> int:
    with db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_same_image_twice_creates_nothing_new(db: Database) -> None:
    first = ingest.ingest(db, ingest.store_instance, IMAGE, OPTIONS)
    again = ingest.ingest(db, ingest.store_instance, IMAGE, OPTIONS)
    assert first.outcome == ingest.Outcome.CREATED
    assert again.outcome == ingest.Outcome.DUPLICATE and again.item_id == first.item_id
    assert (_count(db, Instance), _count(db, Item)) == (1, 1)
    with db.reader() as session:
        kinds = sorted(session.scalars(select(Job.kind)).all())
    assert kinds == [queue.QC, queue.STUDY]


def test_same_uid_other_bytes_is_a_flagged_new_version(db: Database) -> None:
    ingest.ingest(db, ingest.store_instance, IMAGE, OPTIONS)
    changed = ingest.ingest(db, ingest.store_instance, replace(IMAGE, sha256="b" * 64), OPTIONS)
    assert changed.outcome == ingest.Outcome.NEW_VERSION and changed.version == 2
    with db.reader() as session:
        item = session.get(Item, changed.item_id)
        assert item is not None and item.conflict is True
        assert (
            session.scalar(select(func.count()).select_from(Job).where(Job.kind == queue.QC)) == 2
        )
    # The original bytes again are still a duplicate of version 1.
    assert ingest.ingest(db, ingest.store_instance, IMAGE, OPTIONS).version == 1


def test_study_check_waits_for_the_stable_time_and_moves_with_new_images(db: Database) -> None:
    before = utcnow()
    ingest.ingest(db, ingest.store_instance, IMAGE, OPTIONS)
    with db.reader() as session:
        job = session.scalars(select(Job).where(Job.kind == queue.STUDY)).one()
        first_run_at = job.run_at
    assert first_run_at >= before + dt.timedelta(seconds=29)
    second = replace(IMAGE, sop_instance_uid="1.2.3.4.2", sha256="d" * 64)
    ingest.ingest(db, ingest.store_instance, second, OPTIONS)
    with db.reader() as session:
        jobs = session.scalars(select(Job).where(Job.kind == queue.STUDY)).all()
        assert len(jobs) == 1 and jobs[0].run_at >= first_run_at
        assert session.scalar(select(func.count()).select_from(Study)) == 1


def test_study_check_is_due_when_the_expected_images_are_in(db: Database) -> None:
    ingest.ingest(db, ingest.store_instance, replace(IMAGE, expected_study_instances=2), OPTIONS)
    second = replace(
        IMAGE, sop_instance_uid="1.2.3.4.2", sha256="d" * 64, expected_study_instances=2
    )
    ingest.ingest(db, ingest.store_instance, second, OPTIONS)
    with db.reader() as session:
        job = session.scalars(select(Job).where(Job.kind == queue.STUDY)).one()
    assert job.status == JobStatus.QUEUED and job.run_at <= utcnow()


def test_report_versions(db: Database) -> None:
    first = ingest.ingest(db, ingest.store_report, REPORT, OPTIONS)
    same = ingest.ingest(db, ingest.store_report, REPORT, OPTIONS)
    changed = ingest.ingest(
        db, ingest.store_report, replace(REPORT, content_hash="e" * 64), OPTIONS
    )
    assert (first.version, same.version, changed.version) == (1, 1, 2)
    assert same.outcome == ingest.Outcome.DUPLICATE and same.item_id == first.item_id
    assert changed.outcome == ingest.Outcome.NEW_VERSION and changed.item_id != first.item_id
    assert (_count(db, ReportVersion), _count(db, Item), _count(db, Job)) == (2, 2, 2)


def test_racing_senders_store_one_report(db: Database) -> None:
    results: list[ingest.IngestResult] = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            results.append(ingest.ingest(db, ingest.store_report, REPORT, OPTIONS))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {r.item_id for r in results} == {results[0].item_id}
    assert (_count(db, ReportVersion), _count(db, Item), _count(db, Job)) == (1, 1, 1)
