"""What a worker does with a QC job: load the item, run the engines, store findings, publish.

The engines run outside any database transaction (an LLM call may take seconds); the findings,
the item's status and its Observations are then written in one transaction.

An image whose stored file retention removed (``instances.file_removed_at``) is never read: its
own QC job finishes without running the engines (the item, its findings and Observations stay
as they are), study checks and a report's checks leave it out (logged, no finding), and
:meth:`Pipeline.stored_input` raises :class:`~service.storage.FileRemovedError` (a
``NotFoundError``) for it, so re-runs on past items skip it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from pydicom.dataset import Dataset
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service import queue
from service.db import Database
from service.dicom_files import read_header
from service.engines.base import (
    Engine,
    Finding,
    ImageInput,
    QCInput,
    ReportInput,
    StudyEngine,
    StudyInput,
)
from service.errors import EngineError, NotFoundError
from service.findings import flag, replace_findings
from service.models import (
    Instance,
    Item,
    ItemStatus,
    ReportVersion,
    Study,
    latest_versions,
    utcnow,
)
from service.phi.known import KnownIdentifiers, from_dicom, from_fhir, from_ids
from service.storage import FileRemovedError, FileStore

log = logging.getLogger(__name__)

_MAX_RELATED = 50  # report versions read for an image's known identifiers


def _known_from_reports(resources: Iterable[str]) -> KnownIdentifiers:
    """The identifiers in stored FHIR resources (as received)."""
    known = KnownIdentifiers()
    for text in resources:
        try:
            resource = json.loads(text)
        except ValueError:  # stored only after validation; never expected
            continue
        if isinstance(resource, dict):
            known = known | from_fhir(resource)
    return known


class Publisher(Protocol):
    """Turns an item's stored findings into published results (Observations, write-back)."""

    def publish(self, session: Session, item: Item) -> None: ...


class NullPublisher:
    def publish(self, session: Session, item: Item) -> None:
        return None


@dataclass
class Pipeline:
    db: Database
    files: FileStore
    engines: Sequence[Engine]
    study_engines: Sequence[StudyEngine]
    publisher: Publisher
    # Item kinds whose LLM part runs as a separate durable job (kind "llm") after the rules.
    llm_kinds: frozenset[str] = frozenset()
    # An LLM outage must not dead-letter the LLM part: it waits (backoff capped by the queue).
    llm_max_attempts: int = 10_000
    # Findings below this confidence are stored and shown but do not flag the item
    # (RADQC_FLAG_MIN_CONFIDENCE).
    flag_min_confidence: float = 0.0

    # -- items ---------------------------------------------------------------------------
    def process_item(self, item_id: int) -> None:
        try:
            qc_input = self._start(item_id)
        except FileRemovedError as exc:  # rolled back: the item stays as it was
            log.warning("%s: QC not run again", exc)
            return
        results = self._run_engines(qc_input, item_id)
        self._finish(item_id, results)

    def _start(self, item_id: int) -> QCInput:
        with self.db.transaction() as session:
            item = session.get(Item, item_id)
            if item is None:
                raise NotFoundError(f"item {item_id} does not exist")
            item.status = ItemStatus.PROCESSING
            return self._load_input(session, item)

    def _load_input(self, session: Session, item: Item) -> QCInput:
        if item.kind == "image":
            instance = item.instance
            assert instance is not None
            if instance.file_removed_at is not None:
                raise FileRemovedError(item.id, instance.file_removed_at)
            previous = session.scalar(
                select(Instance.sha256).where(
                    Instance.sop_instance_uid == instance.sop_instance_uid,
                    Instance.version == instance.version - 1,
                )
            )
            return ImageInput(
                item_id=item.id,
                sop_instance_uid=instance.sop_instance_uid,
                version=instance.version,
                path=str(self.files.path(instance.path)),
                header=read_header(self.files.path(instance.path)),
                previous_sha256=previous,
            )
        version = item.report_version_row
        assert version is not None
        images = tuple(header for _, header in self._related_images(session, version))
        return ReportInput(
            item_id=item.id,
            report_id=item.report_id or "",
            version=version.version,
            text=version.text,
            sections=version.sections,
            patient_sex=version.patient_sex,
            exam_code=version.exam_code,
            exam_display=version.exam_display,
            status=version.status,
            accession=version.accession,
            image_headers=images,
        )

    def _known_identifiers(self, session: Session, item: Item, qc_input: QCInput) -> QCInput:
        """``qc_input`` with every identifier radqc holds for its patient and study: its own
        header or resource, the reports of an image's accession, the images of a report."""
        if isinstance(qc_input, ImageInput):
            accession = item.instance.study.accession if item.instance is not None else None
            reports = (
                session.scalars(
                    select(ReportVersion.resource_json)
                    .where(ReportVersion.accession == accession)
                    .limit(_MAX_RELATED)
                ).all()
                if accession
                else []
            )
            known = from_dicom(qc_input.header) | _known_from_reports(reports)
            return replace(qc_input, known_identifiers=known)
        version = item.report_version_row
        assert version is not None
        known = _known_from_reports([version.resource_json]) | from_ids(
            version.accession, version.study_instance_uid, item.report_id
        )
        for header in qc_input.image_headers:
            known = known | from_dicom(header)
        return replace(qc_input, known_identifiers=known)

    def _related_images(
        self, session: Session, version: ReportVersion
    ) -> list[tuple[int, Dataset]]:
        """The images of the report's accession or study (latest version of each)."""
        if version.accession:
            where = Instance.study.has(Study.accession == version.accession)
        elif version.study_instance_uid:
            where = Instance.study.has(Study.study_instance_uid == version.study_instance_uid)
        else:
            return []
        return [(item_id, header) for item_id, header, _ in self._latest_images(session, where)]

    def _run_engines(self, qc_input: QCInput, item_id: int) -> dict[str, list[Finding]]:
        kind = "image" if isinstance(qc_input, ImageInput) else "report"
        results: dict[str, list[Finding]] = {}
        for engine in self.engines:
            if kind not in engine.kinds:
                continue
            try:
                results[engine.name] = engine.review(qc_input)
            except Exception as exc:
                log.exception("engine %s failed on item %s", engine.name, item_id)
                raise EngineError(f"engine {engine.name} failed: {exc}") from exc
        return results

    def _finish(self, item_id: int, results: dict[str, list[Finding]]) -> None:
        with self.db.transaction() as session:
            item = session.get(Item, item_id)
            assert item is not None
            for engine_name, findings in results.items():
                replace_findings(session, item, engine_name, "item", findings)
            flag(item, self.flag_min_confidence)
            stored, flagged = len(item.findings), item.flagged
            # Done once every engine configured for the item has run (DESIGN section 4): with
            # an LLM part the item stays processing until the llm job finishes it.
            waits_for_llm = item.kind in self.llm_kinds
            item.status = ItemStatus.PROCESSING if waits_for_llm else ItemStatus.DONE
            item.processed_at = None if waits_for_llm else utcnow()
            item.error = None
            self.publisher.publish(session, item)
            if waits_for_llm:
                queue.enqueue(
                    session,
                    "llm",
                    f"llm:{item_id}",
                    item_id=item_id,
                    max_attempts=self.llm_max_attempts,
                    requeue=True,
                )
        # What the API shows: one stored finding per engine and code (issue 14).
        log.info("item %s done: %d findings, flagged %s", item_id, stored, flagged)

    def stored_input(self, item_id: int) -> QCInput:
        """The stored input of ``item_id``, as its engines saw it, read-only (the status is left
        as it is), with the patient's known identifiers: for the LLM part, shadow runs and
        canaries (the rules, on the hot path, do not need them)."""
        with self.db.reader() as session:
            item = session.get(Item, item_id)
            if item is None:
                raise NotFoundError(f"item {item_id} does not exist")
            return self._known_identifiers(session, item, self._load_input(session, item))

    def mark_failed(self, item_id: int, error: str) -> None:
        """The item's job was dead-lettered: show it as failed with the reason."""
        with self.db.transaction() as session:
            item = session.get(Item, item_id)
            if item is not None:
                item.status = ItemStatus.FAILED
                item.error = error[:2000]

    # -- studies -------------------------------------------------------------------------
    def process_study(self, study_id: int) -> None:
        with self.db.reader() as session:
            study = session.get(Study, study_id)
            if study is None:
                raise NotFoundError(f"study {study_id} does not exist")
            images = self._latest_images(session, Instance.study_id == study.id)
            study_input = StudyInput(
                study.study_instance_uid,
                images=[(item_id, header) for item_id, header, _ in images],
                paths={item_id: path for item_id, _, path in images},
            )
        # Every file of the study removed by retention: nothing to check, the findings stay.
        engines = self.study_engines if study_input.images else ()
        results = {engine.name: engine.review_study(study_input) for engine in engines}
        with self.db.transaction() as session:
            study = session.get(Study, study_id)
            assert study is not None
            for item_id, _ in study_input.images:
                item = session.get(Item, item_id)
                assert item is not None
                for engine_name, per_item in results.items():
                    replace_findings(session, item, engine_name, "study", per_item.get(item_id, []))
                flag(item, self.flag_min_confidence)
                self.publisher.publish(session, item)
            study.checked_at = utcnow()

    def _latest_images(
        self, session: Session, where: ColumnElement[bool]
    ) -> list[tuple[int, Dataset, str]]:
        """(item id, header, stored path) of the latest version of each image matching ``where``
        whose file is still stored (not removed by retention)."""
        latest, is_latest = latest_versions(where)
        rows = session.execute(
            select(Item.id, Instance.path, Instance.file_removed_at)
            .join(Instance, Item.instance_id == Instance.id)
            .join(latest, is_latest)
            .order_by(Item.id)
        ).all()
        images = []
        removed = [item_id for item_id, _, gone in rows if gone is not None]
        if removed:  # the checks run on the images still stored; no finding says so
            log.info(
                "%d image(s) left out of study/report checks, their files removed by "
                "retention: items %s",
                len(removed),
                ", ".join(map(str, removed[:20])),
            )
        for item_id, relpath, gone in rows:
            if gone is None:
                path = self.files.path(relpath)
                images.append((item_id, read_header(path), str(path)))
        return images
