"""The ``pacs_results`` job: build a study's documents from its latest results and C-STORE the
ones the PACS does not hold yet.

Never lost: the job is durable and is retried with backoff for as long as the PACS is away or
busy. Never duplicated: a document's UID comes from its content, and one already delivered is
not sent again. Never retried for ever on a refusal: each document's refusals are counted
(``refusing``; not the job's attempts, which include the PACS's outages), and after
``max_refusals`` of them the document is recorded ``refused`` with the PACS's status and
comment, counted, and the job ends; new results (a new document) are tried afresh.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydicom import dcmread
from pydicom.dataset import Dataset
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dicom_results.documents import Document, build
from dicom_results.scu import PacsTarget, PacsUnavailable, StoreAnswer, store
from service import metrics, queue
from service.config import Settings
from service.db import Database
from service.errors import DeliveryError
from service.pacs.models import PacsDelivery
from service.pacs.results import (
    DELIVERED,
    REFUSED,
    REFUSING,
    StudyResults,
    delivered,
    record,
    refusals,
    study_results,
)
from service.storage import FileStore

log = logging.getLogger(__name__)


class PacsRefused(DeliveryError):
    """The PACS refused a document; sent again until it has been refused ``max_refusals`` times."""


@dataclass
class PacsResultsSender:
    db: Database
    files: FileStore
    target: PacsTarget
    max_refusals: int = 3

    def deliver(self, job: queue.ClaimedJob) -> None:
        assert job.study_id is not None
        with self.db.reader() as session:
            results = study_results(session, job.study_id)
            if results is None:
                return  # nothing processed yet: a later publish queues the job again
            numbers = _instance_numbers(session, results.study_id)
        documents = build(results, self._headers(results), instance_numbers=numbers)
        with self.db.reader() as session:
            pending = [d for d in documents if not delivered(session, d.sop_instance_uid)]
        if not pending:
            return
        answers = store(self.target, [d.dataset for d in pending])
        self._record(job, results, pending, answers)

    def _headers(self, results: StudyResults) -> dict[str, Dataset]:
        headers: dict[str, Dataset] = {}
        for image in results.images:
            if image.path is None:
                continue
            try:
                headers[image.sop_instance_uid] = dcmread(
                    self.files.path(image.path), stop_before_pixels=True
                )
            except FileNotFoundError:
                log.warning("PACS results: the stored file of item %d is gone", image.item_id)
        return headers

    def _record(
        self,
        job: queue.ClaimedJob,
        results: StudyResults,
        documents: list[Document],
        answers: list[StoreAnswer],
    ) -> None:
        """What the PACS answered, per document. Refusals are counted per document, so the
        attempts a job spent waiting for a PACS that was away do not count as refusals."""
        retrying: list[str] = []
        given_up: list[str] = []
        busy = False
        with self.db.transaction() as session:
            for document, answer in zip(documents, answers, strict=True):
                sent = refusals(session, document.sop_instance_uid) + 1
                if answer.busy:
                    busy = True
                    metrics.PACS_DOCUMENTS.labels(document.kind, "busy").inc()
                    continue
                if answer.stored:
                    status = DELIVERED
                    metrics.PACS_DOCUMENTS.labels(document.kind, "delivered").inc()
                else:
                    status = REFUSED if sent >= self.max_refusals else REFUSING
                    why = f"{document.kind} 0x{answer.status:04X} {answer.comment or ''}".strip()
                    (given_up if status == REFUSED else retrying).append(why)
                    metrics.PACS_DOCUMENTS.labels(document.kind, "refused").inc()
                record(
                    session, results, document.kind, document.sop_instance_uid,
                    document.content_hash, status=status, dimse_status=answer.status,
                    detail=answer.comment, attempts=sent,
                )  # fmt: skip
        if given_up:
            log.error(
                "PACS results of study %d refused %d times, not sent again: %s",
                results.study_id,
                self.max_refusals,
                "; ".join(given_up),
            )
        if busy:
            raise PacsUnavailable("the PACS is out of resources (0xA7xx): trying again later")
        if retrying:
            raise PacsRefused(f"the PACS refused: {'; '.join(retrying)}")


def _instance_numbers(session: Session, study_id: int) -> dict[str, int]:
    """Each document kind's next Instance Number: one more than those delivered for the study."""
    counted = session.execute(
        select(PacsDelivery.document, func.count())
        .where(PacsDelivery.study_id == study_id, PacsDelivery.status == DELIVERED)
        .group_by(PacsDelivery.document)
    ).all()
    return {document: int(n) + 1 for document, n in counted}


def build_pacs_sender(db: Database, files: FileStore, settings: Settings) -> PacsResultsSender:
    """The sender for ``RADQC_PACS_*``; logs where results go."""
    target = PacsTarget(
        host=settings.pacs_host,
        port=settings.pacs_port,
        called_ae_title=settings.pacs_ae_title,
        calling_ae_title=settings.pacs_calling_ae_title or settings.dicom_ae_title,
        timeout_seconds=settings.pacs_timeout_seconds,
    )
    log.info(
        "QC results go to PACS %s@%s:%d as SR and KOS (%s s after a study's last image)",
        target.called_ae_title,
        target.host,
        target.port,
        settings.pacs_delay_seconds,
    )
    return PacsResultsSender(db, files, target, settings.pacs_max_refusals)
