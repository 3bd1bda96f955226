"""Publishing an item's findings as stored Observations, and queueing their write-back.

:class:`ObservationPublisher` is the pipeline's :class:`service.pipeline.Publisher`. It runs in the
worker's transaction, after the item's findings were stored, so the findings, the Observations,
the outbox entries and the write-back jobs are committed together or not at all.

It also keeps the lifecycle of :mod:`fhir_adapter.lifecycle`: publishing a newer version of a
report or image retires the still-current Observations of its older versions (``cancelled``, or
``entered-in-error`` when the report was withdrawn), each as one new version written back once;
publishing an older version after a newer one stores its Observations retired.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from pydicom.dataset import Dataset
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from fhir_adapter.effective import effective_key, kept_effective
from fhir_adapter.lifecycle import (
    Retirement,
    SourceVersion,
    audited_summary,
    retirement,
    source_versions,
    withdrawn_note,
)
from fhir_adapter.observations import (
    CANCELLED,
    ENTERED_IN_ERROR,
    PRELIMINARY,
    TERMINAL_STATUSES,
    ItemContext,
    Status,
    build_finding_observation,
    build_summary_observation,
    content_hash,
    item_context,
    retimed,
    to_json,
    with_status,
)
from service.dicom_files import read_header
from service.errors import InvalidInputError
from service.models import FindingRow, Item, ItemStatus, Observation, OutboxEntry, utcnow
from service.outbox import enqueue_writeback, writeback_job_key
from service.storage import FileStore
from service.taxonomy import SUMMARY_CODE

log = logging.getLogger(__name__)

__all__ = ["ObservationPublisher", "StatusOf", "SummaryStatusOf", "unaudited", "writeback_job_key"]

StatusOf = Callable[[Session, FindingRow], Status]
"""The status of a finding's Observation: ``preliminary`` until an auditor's verdict."""
SummaryStatusOf = Callable[[Session, Item], Status]
"""The status of an item's ``qc.summary``: ``final`` once audited (the default)."""


def unaudited(session: Session, finding: FindingRow) -> Status:
    return PRELIMINARY


@dataclass(frozen=True, slots=True)
class _Wanted:
    """One Observation as it should now be stored."""

    id: str
    code: str
    finding_id: int | None
    resource: dict[str, Any]


class ObservationPublisher:
    """Stores the Observations of an item; a new or changed one is versioned and written back.

    ``status_of`` decides a finding Observation's status (the audit module may hand in one that
    reads verdicts); by default every finding is ``preliminary``. ``summary_status_of`` decides
    the ``qc.summary``'s: by default ``final`` once the item has an audit. ``files``: where the
    images are stored, to read an image's study time for ``effective[x]``; without it an image's
    ``effective`` is its QC time. An image whose file retention removed is never read: its
    Observations keep the study time they were given (``effective.kept_effective``).
    """

    def __init__(
        self,
        writeback_enabled: bool,
        *,
        status_of: StatusOf = unaudited,
        summary_status_of: SummaryStatusOf = audited_summary,
        files: FileStore | None = None,
    ) -> None:
        self.writeback_enabled = writeback_enabled
        self.status_of = status_of
        self.summary_status_of = summary_status_of
        self.files = files

    def publish(self, session: Session, item: Item) -> None:
        # Versions of one source (and one item: its own QC and a study check) take turns here.
        versions = source_versions(session, item)
        mine = next(v for v in versions if v.item_id == item.id)
        newer = [v for v in versions if v.version > mine.version and v.published]
        if newer:  # a newer version is published: this one is retired
            how = retirement(item.kind, mine.version, newer[-1])
            changed = self._publish_superseded(session, item, how)
        else:
            changed, published = self._publish_current(session, item, mine)
            if published:
                for older in (v for v in versions if v.version < mine.version and v.published):
                    how = retirement(item.kind, older.version, mine)
                    changed += self._retire(session, older.item_id, how)
        if changed:
            log.info("item %s: %d observations new or changed", item.id, changed)

    def _publish_current(
        self, session: Session, item: Item, mine: SourceVersion
    ) -> tuple[int, bool]:
        """Store the item's Observations as they are now; returns (new versions, whether the
        item has any Observation)."""
        context = self._context(session, item)
        stored = {
            row.id: row
            for row in session.scalars(select(Observation).where(Observation.item_id == item.id))
        }
        published = bool(stored)
        changed = 0
        for wanted in self._wanted(session, item, context):
            if mine.withdrawn:
                wanted = _withdrawn(wanted, mine.version)
            changed += self._store(session, stored.pop(wanted.id, None), wanted, context)
            published = True
        for row in stored.values():
            if row.code != SUMMARY_CODE:  # its finding is gone: cancel it
                changed += self._cancel(session, row, context)
        return changed, published

    def _publish_superseded(self, session: Session, item: Item, how: Retirement) -> int:
        """A superseded item: its still-current Observations are retired; one it has not
        published yet (an older version processed after the newer one, a late finding) is
        stored retired at once, so every processed item keeps its findings and summary (DESIGN
        §4); one it has is otherwise left as it is."""
        changed = self._retire(session, item.id, how)
        context = self._context(session, item)
        have = set(session.scalars(select(Observation.id).where(Observation.item_id == item.id)))
        for wanted in self._wanted(session, item, context):
            if wanted.id in have:
                continue
            if wanted.resource["status"] not in TERMINAL_STATUSES:
                resource = with_status(wanted.resource, how.status, how.note)
                wanted = _Wanted(wanted.id, wanted.code, wanted.finding_id, resource)
            changed += self._store(session, None, wanted, context)
        return changed

    def _wanted(self, session: Session, item: Item, context: ItemContext) -> Iterator[_Wanted]:
        now = utcnow()
        findings = list(item.findings)
        for finding in findings:
            resource = build_finding_observation(
                context, finding, status=self.status_of(session, finding), now=now
            )
            yield _Wanted(resource["id"], finding.code, finding.id, resource)
        if item.status == ItemStatus.DONE:  # a study check before the item's own QC: no summary
            resource = build_summary_observation(
                context,
                findings,
                status=self.summary_status_of(session, item),
                now=now,
                failed=item.flagged,
            )
            yield _Wanted(resource["id"], SUMMARY_CODE, None, resource)

    def _context(self, session: Session, item: Item) -> ItemContext:
        context = item_context(item, self._header(item))
        if context.effective is None and _file_removed(item):
            kept = kept_effective(self._stored_resources(session, item.id))
            if kept is not None:
                context = replace(context, effective=kept)
        return context

    def _stored_resources(self, session: Session, item_id: int) -> Iterator[dict[str, Any]]:
        """The item's stored Observations: the current versions, then the past ones (newest
        first), read only as far as they are wanted."""
        current = select(Observation.resource_json).where(Observation.item_id == item_id)
        for text in session.scalars(current.order_by(Observation.id)):
            yield json.loads(text)
        history = Observation.history.c
        past = (
            select(history.resource_json)
            .join(Observation, Observation.id == history.observation_id)
            .where(Observation.item_id == item_id)
            .order_by(history.version.desc(), history.observation_id)
        )
        for text in session.scalars(past):
            yield json.loads(text)

    def _header(self, item: Item) -> Dataset | None:
        """An image's stored DICOM header (for its study time); ``None`` if it cannot be read or
        retention removed it (never read again)."""
        if item.kind != "image" or item.instance is None or self.files is None:
            return None
        if _file_removed(item):
            return None
        try:
            return read_header(self.files.path(item.instance.path))
        except InvalidInputError:
            log.warning("item %s: DICOM header unreadable, effective is the QC time", item.id)
            return None

    def _cancel(self, session: Session, row: Observation, context: ItemContext) -> int:
        if row.status in TERMINAL_STATUSES:
            return 0
        resource = with_status(json.loads(row.resource_json), CANCELLED)
        return self._store(session, row, _Wanted(row.id, row.code, None, resource), context)

    def _retire(self, session: Session, item_id: int, how: Retirement) -> int:
        """Give each still-current Observation of the item ``how.status`` and its note, as a new
        version; a cancelled or entered-in-error one stays as it is."""
        rows = session.scalars(
            select(Observation).where(Observation.item_id == item_id).order_by(Observation.id)
        ).all()
        retired = 0
        for row in rows:
            if row.status in TERMINAL_STATUSES:
                continue
            self._new_version(
                session, row, with_status(json.loads(row.resource_json), how.status, how.note)
            )
            retired += 1
        return retired

    def _store(
        self, session: Session, row: Observation | None, wanted: _Wanted, context: ItemContext
    ) -> int:
        """Insert or update one row; returns 1 when a new version was stored.

        A resource that differs from the stored one only in its times (the item was processed
        again with the same result) is not a new version.
        """
        if row is not None:
            stored = json.loads(row.resource_json)
            if content_hash(retimed(wanted.resource, stored)) == row.content_hash:
                row.finding_id = wanted.finding_id  # e.g. a finding row re-created, same content
                return 0
        if row is None:
            row = Observation(id=wanted.id, item_id=context.item_id, version=0)
            session.add(row)
        row.finding_id = wanted.finding_id
        row.code = wanted.code
        row.subject = context.subject_key
        row.derived_from = context.derived_from_key
        self._new_version(session, row, wanted.resource)
        return 1

    def _new_version(self, session: Session, row: Observation, resource: dict[str, Any]) -> None:
        """Store ``resource`` as the row's next version and queue it for write-back; the
        version it replaces goes to the Observation's history (vread)."""
        if row.version > 0:
            session.execute(
                insert(Observation.history).values(
                    observation_id=row.id,
                    version=row.version,
                    status=row.status,
                    resource_json=row.resource_json,
                    updated_at=row.updated_at,
                )
            )
        row.status = resource["status"]
        row.resource_json = to_json(resource)
        row.content_hash = content_hash(resource)
        row.effective_at = effective_key(row.resource_json)
        row.version += 1
        row.updated_at = utcnow()
        session.flush()  # the outbox entry refers to the row
        if self.writeback_enabled:
            self._queue_writeback(session, row)

    def _queue_writeback(self, session: Session, row: Observation) -> None:
        session.add(OutboxEntry(observation_id=row.id, observation_version=row.version))
        enqueue_writeback(session, row.id)


def _file_removed(item: Item) -> bool:
    """An image whose stored file ``radqc retention`` removed (``instances.file_removed_at``)."""
    instance = item.instance if item.kind == "image" else None
    return instance is not None and instance.file_removed_at is not None


def _withdrawn(wanted: _Wanted, version: int) -> _Wanted:
    """``wanted`` as an Observation of a report version the RIS sent as entered-in-error."""
    resource = with_status(wanted.resource, ENTERED_IN_ERROR, withdrawn_note(version))
    return _Wanted(wanted.id, wanted.code, wanted.finding_id, resource)
