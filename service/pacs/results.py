"""A study's QC results as sent to PACS, and the job that sends them.

``PacsPublisher`` is a :class:`service.pipeline.Publisher`: whenever an image item is published,
it (re)queues its study's one job (``pacs_results:<study id>``), due after
``RADQC_PACS_DELAY_SECONDS`` so that the images of a study and its study checks go in one
document. The job's handler (the ``dicom_results`` adapter) reads :func:`study_results` when it
runs, so it always sends the latest results; the documents' UIDs come from their content
(:func:`document_uid`), so a retry or a re-run with unchanged results sends the same instance
again, never a second copy, and changed results a new instance in the same series.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service import queue
from service.canonical import content_hash
from service.errors import NotFoundError
from service.models import FindingRow, Instance, Item, ItemStatus, Study, latest_versions, utcnow
from service.pacs.models import PacsDelivery

JOB_KIND: Final = "pacs_results"
DELIVERED: Final = "delivered"
REFUSED: Final = "refused"
REFUSING: Final = "refusing"  # refused fewer than max_refusals times: sent again


def job_key(study_id: int) -> str:
    return f"{JOB_KIND}:{study_id}"


@dataclass(frozen=True, slots=True)
class FindingResult:
    code: str
    severity: str
    message: str
    evidence: list[Any]
    confidence: float
    engine_version: str
    scope: str
    problem_key: str


@dataclass(frozen=True, slots=True)
class ImageResult:
    item_id: int
    sop_instance_uid: str
    path: str | None  # None: the stored file was removed by retention
    flagged: bool
    findings: tuple[FindingResult, ...]


@dataclass(frozen=True, slots=True)
class StudyResults:
    study_id: int
    study_instance_uid: str
    accession: str | None
    images: tuple[ImageResult, ...]
    processed_at: dt.datetime | None  # the newest QC time of its images
    engine_versions: tuple[str, ...] = field(default=())

    @property
    def flagged(self) -> tuple[ImageResult, ...]:
        return tuple(image for image in self.images if image.flagged)

    def content_hash(self) -> str:
        """The hash of what the documents say (not when they were made)."""
        return content_hash(
            {
                "study": self.study_instance_uid,
                "images": [
                    {
                        "uid": image.sop_instance_uid,
                        "flagged": image.flagged,
                        "findings": [
                            [f.code, f.severity, f.message, f.evidence, f.scope, f.problem_key]
                            for f in image.findings
                        ],
                    }
                    for image in self.images
                ],
                "engines": list(self.engine_versions),
            }
        )


def derived_uid(*parts: str) -> str:
    """A UID that only ``parts`` decide: ``2.25.`` and 128 bits of their SHA-256 as a decimal
    integer (PS3.5 B.2; pydicom's ``generate_uid(prefix=None)`` is random whatever its entropy)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:16]
    return f"2.25.{int.from_bytes(digest, 'big')}"


def document_uid(study_instance_uid: str, document: str, content: str) -> str:
    """A UID derived from the study, the document kind and its content hash."""
    return derived_uid(study_instance_uid, document, content)


def series_uid(study_instance_uid: str, document: str) -> str:
    """The one series of radqc's ``document`` documents in a study."""
    return derived_uid(study_instance_uid, document, "series")


def study_results(session: Session, study_id: int) -> StudyResults | None:
    """The processed images of a study (latest version of each), with their findings; None when
    none is processed yet."""
    study = session.get(Study, study_id)
    if study is None:
        return None
    latest, is_latest = latest_versions(Instance.study_id == study_id)
    rows = session.execute(
        select(Item, Instance)
        .join(Instance, Item.instance_id == Instance.id)
        .join(latest, is_latest)
        .where(Item.status == ItemStatus.DONE.value)
        .order_by(Instance.sop_instance_uid)
    ).all()
    if not rows:
        return None
    found: dict[int, list[FindingRow]] = {item.id: [] for item, _ in rows}
    for row in session.scalars(
        select(FindingRow).where(FindingRow.item_id.in_(found)).order_by(FindingRow.id)
    ):
        found[row.item_id].append(row)
    images = []
    versions: set[str] = set()
    for item, instance in rows:
        findings = found[item.id]
        versions.update(f.engine_version for f in findings)
        images.append(
            ImageResult(
                item_id=item.id,
                sop_instance_uid=instance.sop_instance_uid,
                path=None if instance.file_removed_at is not None else instance.path,
                flagged=item.flagged,
                findings=tuple(
                    FindingResult(
                        f.code, f.severity, f.message, list(f.evidence or []), f.confidence,
                        f.engine_version, f.scope, f.problem_key,
                    )
                    for f in findings
                ),
            )
        )  # fmt: skip
    processed = [item.processed_at for item, _ in rows if item.processed_at is not None]
    return StudyResults(
        study_id=study.id,
        study_instance_uid=study.study_instance_uid,
        accession=study.accession,
        images=tuple(images),
        processed_at=max(processed) if processed else None,
        engine_versions=tuple(sorted(versions)),
    )


def delivered(session: Session, sop_instance_uid: str) -> bool:
    found = session.scalar(
        select(PacsDelivery.status).where(PacsDelivery.sop_instance_uid == sop_instance_uid)
    )
    return found == DELIVERED


def refusals(session: Session, sop_instance_uid: str) -> int:
    """How many times the PACS has refused this document so far (outages do not count)."""
    row = session.scalar(
        select(PacsDelivery).where(PacsDelivery.sop_instance_uid == sop_instance_uid)
    )
    return row.attempts if row is not None and row.status in (REFUSING, REFUSED) else 0


def record(
    session: Session,
    results: StudyResults,
    document: str,
    sop_instance_uid: str,
    content: str,
    *,
    status: str,
    dimse_status: int | None,
    detail: str | None,
    attempts: int,
) -> None:
    """Record what the PACS answered for one document (one row per SOP Instance UID)."""
    row = session.scalar(
        select(PacsDelivery).where(PacsDelivery.sop_instance_uid == sop_instance_uid)
    )
    if row is None:
        row = PacsDelivery(
            study_id=results.study_id,
            document=document,
            sop_instance_uid=sop_instance_uid,
            content_hash=content,
        )
        session.add(row)
    row.status, row.dimse_status, row.detail = status, dimse_status, detail
    row.attempts, row.updated_at = attempts, utcnow()


def deliveries(session: Session, study_id: int) -> Sequence[PacsDelivery]:
    return session.scalars(
        select(PacsDelivery).where(PacsDelivery.study_id == study_id).order_by(PacsDelivery.id)
    ).all()


def deliveries_query(status: str | None = None, study_id: int | None = None) -> Any:
    """The deliveries, filtered, for a keyset-paged list."""
    stmt = select(PacsDelivery)
    if status is not None:
        stmt = stmt.where(PacsDelivery.status == status)
    if study_id is not None:
        stmt = stmt.where(PacsDelivery.study_id == study_id)
    return stmt


def send_again(session: Session, study_id: int) -> int:
    """Send a study's results again, now: its refused documents and their refusal counts are
    forgotten (they are tried afresh, ``max_refusals`` times) and its job is queued; returns how
    many were refused for good.
    Delivered documents are still not sent twice."""
    if session.get(Study, study_id) is None:
        raise NotFoundError(f"no study {study_id}")
    refused = session.scalar(
        select(func.count()).where(
            PacsDelivery.study_id == study_id, PacsDelivery.status == REFUSED
        )
    )
    session.execute(
        delete(PacsDelivery).where(
            PacsDelivery.study_id == study_id, PacsDelivery.status.in_((REFUSED, REFUSING))
        )
    )
    queue.enqueue(session, JOB_KIND, job_key(study_id), study_id=study_id, requeue=True)
    return int(refused or 0)


@dataclass(frozen=True, slots=True)
class PacsPublisher:
    """Queues the study's send-to-PACS job whenever one of its images is published."""

    delay_seconds: float = 0.0

    def publish(self, session: Session, item: Item) -> None:
        if item.kind != "image" or item.study_id is None:
            return
        queue.enqueue(
            session,
            JOB_KIND,
            job_key(item.study_id),
            study_id=item.study_id,
            run_at=utcnow() + dt.timedelta(seconds=self.delay_seconds),
            requeue=True,
        )
