"""Ingest: every adapter turns what it received into one record here and makes one call.

Each ``store_*`` function runs in the caller's transaction: the row, its item and its job are
committed together, or not at all. Nothing here knows DICOM networking or FHIR HTTP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service import queue
from service.db import Database
from service.models import Instance, Item, ItemStatus, Report, ReportVersion, Study, utcnow

_R = TypeVar("_R", "ReceivedInstance", "ReceivedReport")


class Outcome(StrEnum):
    CREATED = "created"  # new object, new item, job queued
    DUPLICATE = "duplicate"  # the same content again: nothing new
    NEW_VERSION = "new_version"  # same identifier, different content: kept as a new version


@dataclass(frozen=True, slots=True)
class IngestResult:
    outcome: Outcome
    item_id: int
    version: int


@dataclass(frozen=True, slots=True)
class ReceivedInstance:
    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str | None
    modality: str | None
    accession: str | None
    patient_id: str | None
    transfer_syntax_uid: str
    path: str
    sha256: str
    size_bytes: int
    calling_ae: str | None
    expected_study_instances: int | None = None


@dataclass(frozen=True, slots=True)
class ReceivedReport:
    report_id: str
    content_hash: str
    resource_json: str
    text: str
    sections: dict[str, Any]
    status: str
    patient_sex: str | None
    subject_reference: str | None
    exam_code: str | None
    exam_display: str | None
    accession: str | None
    study_instance_uid: str | None


@dataclass(frozen=True, slots=True)
class QueueOptions:
    max_attempts: int
    study_stable_seconds: float


def _study_for(session: Session, received: ReceivedInstance, now: dt.datetime) -> Study:
    study = session.scalars(
        select(Study).where(Study.study_instance_uid == received.study_instance_uid)
    ).one_or_none()
    if study is None:
        study = Study(
            study_instance_uid=received.study_instance_uid,
            accession=received.accession,
            first_received_at=now,
            last_received_at=now,
        )
        session.add(study)
        session.flush()
    study.last_received_at = now
    study.accession = study.accession or received.accession
    if received.expected_study_instances:
        study.expected_instances = received.expected_study_instances
    return study


def _schedule_study_check(
    session: Session, study: Study, options: QueueOptions, now: dt.datetime
) -> None:
    """Study-level checks run once no image arrived for the stable time, or all are here."""
    run_at = now + dt.timedelta(seconds=options.study_stable_seconds)
    if study.expected_instances:
        count = session.scalar(
            select(func.count(func.distinct(Instance.sop_instance_uid))).where(
                Instance.study_id == study.id
            )
        )
        if (count or 0) >= study.expected_instances:
            run_at = now
    queue.enqueue(
        session,
        queue.STUDY,
        f"study:{study.study_instance_uid}",
        study_id=study.id,
        run_at=run_at,
        max_attempts=options.max_attempts,
        requeue=True,
    )


def _queue_item(session: Session, options: QueueOptions, **fields: Any) -> Item:
    """A new queued item with ``fields`` and its QC job, in the caller's transaction."""
    item = Item(status=ItemStatus.QUEUED, **fields)
    session.add(item)
    session.flush()
    queue.enqueue(
        session, queue.QC, f"item:{item.id}", item_id=item.id, max_attempts=options.max_attempts
    )
    return item


def store_instance(
    session: Session, received: ReceivedInstance, options: QueueOptions
) -> IngestResult:
    """Record a received DICOM object (its file is already durable) and queue its QC job."""
    existing = session.scalars(
        select(Instance)
        .where(Instance.sop_instance_uid == received.sop_instance_uid)
        .order_by(Instance.version.desc())
    ).all()
    for instance in existing:
        if instance.sha256 == received.sha256:
            item_id = session.scalar(select(Item.id).where(Item.instance_id == instance.id))
            assert item_id is not None
            return IngestResult(Outcome.DUPLICATE, item_id, instance.version)
    now = utcnow()
    version = existing[0].version + 1 if existing else 1
    study = _study_for(session, received, now)
    instance = Instance(
        sop_instance_uid=received.sop_instance_uid,
        version=version,
        sha256=received.sha256,
        sop_class_uid=received.sop_class_uid,
        study_id=study.id,
        series_instance_uid=received.series_instance_uid,
        modality=received.modality,
        patient_id=received.patient_id,
        transfer_syntax_uid=received.transfer_syntax_uid,
        path=received.path,
        size_bytes=received.size_bytes,
        calling_ae=received.calling_ae,
        received_at=now,
    )
    session.add(instance)
    session.flush()
    item = _queue_item(
        session,
        options,
        kind="image",
        instance_id=instance.id,
        study_id=study.id,
        sop_instance_uid=received.sop_instance_uid,
        study_instance_uid=received.study_instance_uid,
        accession=received.accession,
        conflict=version > 1,
        received_at=now,
    )
    _schedule_study_check(session, study, options, now)
    outcome = Outcome.NEW_VERSION if version > 1 else Outcome.CREATED
    return IngestResult(outcome, item.id, version)


def store_report(session: Session, received: ReceivedReport, options: QueueOptions) -> IngestResult:
    """Record a received report: the same content again is a no-op; changed content is a new
    version with its own item and job."""
    report = session.scalars(
        select(Report).where(Report.report_id == received.report_id).with_for_update()
    ).one_or_none()
    now = utcnow()
    if report is None:
        report = Report(report_id=received.report_id, latest_version=0, created_at=now)
        session.add(report)
        session.flush()
    else:
        latest = session.scalars(
            select(ReportVersion).where(
                ReportVersion.report_pk == report.id, ReportVersion.version == report.latest_version
            )
        ).one()
        if latest.content_hash == received.content_hash:
            item_id = session.scalar(select(Item.id).where(Item.report_version_id == latest.id))
            assert item_id is not None
            return IngestResult(Outcome.DUPLICATE, item_id, latest.version)
    version = report.latest_version + 1
    report.latest_version = version
    row = ReportVersion(
        report_pk=report.id,
        version=version,
        content_hash=received.content_hash,
        resource_json=received.resource_json,
        text=received.text,
        sections=received.sections,
        status=received.status,
        patient_sex=received.patient_sex,
        subject_reference=received.subject_reference,
        exam_code=received.exam_code,
        exam_display=received.exam_display,
        accession=received.accession,
        study_instance_uid=received.study_instance_uid,
        received_at=now,
    )
    session.add(row)
    session.flush()
    item = _queue_item(
        session,
        options,
        kind="report",
        report_version_id=row.id,
        report_id=received.report_id,
        report_version=version,
        accession=received.accession,
        study_instance_uid=received.study_instance_uid,
        received_at=now,
    )
    outcome = Outcome.NEW_VERSION if version > 1 else Outcome.CREATED
    return IngestResult(outcome, item.id, version)


def ingest_many(
    db: Database,
    store: Callable[[Session, _R, QueueOptions], IngestResult],
    received: Sequence[_R],
    options: QueueOptions,
    *,
    attempts: int = 3,
) -> list[IngestResult]:
    """Run ``store`` for every record in ONE transaction: all are committed, or none.

    Two senders racing with the same new UID or report id collide on a unique constraint; the
    loser's transaction is retried whole and then finds the winner's rows.
    """
    for attempt in range(1, attempts + 1):
        try:
            with db.transaction() as session:
                return [store(session, record, options) for record in received]
        except IntegrityError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def ingest(
    db: Database,
    store: Callable[[Session, _R, QueueOptions], IngestResult],
    received: _R,
    options: QueueOptions,
) -> IngestResult:
    """Store one received record in its own transaction (see :func:`ingest_many`)."""
    return ingest_many(db, store, [received], options)[0]
