"""Publishing an item's findings as stored Observations, and queueing their write-back.

:class:`ObservationPublisher` is the pipeline's :class:`service.pipeline.Publisher`. It runs in the
worker's transaction, after the item's findings were stored, so the findings, the Observations,
the outbox entries and the write-back jobs are committed together or not at all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fhir_adapter.observations import (
    CANCELLED,
    PRELIMINARY,
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
from service.models import Finding, Item, ItemStatus, Observation, OutboxEntry, utcnow
from service.outbox import enqueue_writeback, writeback_job_key
from service.taxonomy import SUMMARY_CODE

log = logging.getLogger(__name__)

__all__ = ["ObservationPublisher", "StatusOf", "unaudited", "writeback_job_key"]

StatusOf = Callable[[Session, Finding], Status]
"""The status of a finding's Observation: ``preliminary`` until an auditor's verdict."""


def unaudited(session: Session, finding: Finding) -> Status:
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
    reads verdicts); by default every finding is ``preliminary``.
    """

    def __init__(self, writeback_enabled: bool, *, status_of: StatusOf = unaudited) -> None:
        self.writeback_enabled = writeback_enabled
        self.status_of = status_of

    def publish(self, session: Session, item: Item) -> None:
        # Two workers publishing one item (its own QC and a study check) take turns here.
        session.execute(select(Item.id).where(Item.id == item.id).with_for_update())
        context = item_context(item)
        stored = {
            row.id: row
            for row in session.scalars(select(Observation).where(Observation.item_id == item.id))
        }
        changed = 0
        for wanted in self._wanted(session, item, context):
            changed += self._store(session, stored.pop(wanted.id, None), wanted, context)
        for row in stored.values():
            if row.code != SUMMARY_CODE:  # its finding is gone: cancel it
                changed += self._cancel(session, row, context)
        if changed:
            log.info("item %s: %d observations new or changed", item.id, changed)

    def _wanted(self, session: Session, item: Item, context: ItemContext) -> Iterator[_Wanted]:
        now = utcnow()
        findings = list(item.findings)
        for finding in findings:
            resource = build_finding_observation(
                context, finding, status=self.status_of(session, finding), now=now
            )
            yield _Wanted(resource["id"], finding.code, finding.id, resource)
        if item.status == ItemStatus.DONE:  # a study check before the item's own QC: no summary
            resource = build_summary_observation(context, findings, now=now, failed=item.flagged)
            yield _Wanted(resource["id"], SUMMARY_CODE, None, resource)

    def _cancel(self, session: Session, row: Observation, context: ItemContext) -> int:
        resource = with_status(json.loads(row.resource_json), CANCELLED)
        return self._store(session, row, _Wanted(row.id, row.code, None, resource), context)

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
        digest = content_hash(wanted.resource)
        if row is None:
            row = Observation(id=wanted.id, item_id=context.item_id, version=0)
            session.add(row)
        row.finding_id = wanted.finding_id
        row.code = wanted.code
        row.status = wanted.resource["status"]
        row.subject = context.subject_key
        row.derived_from = context.derived_from_key
        row.resource_json = to_json(wanted.resource)
        row.content_hash = digest
        row.version += 1
        row.updated_at = utcnow()
        session.flush()  # the outbox entry refers to the row
        if self.writeback_enabled:
            self._queue_writeback(session, row)
        return 1

    def _queue_writeback(self, session: Session, row: Observation) -> None:
        session.add(OutboxEntry(observation_id=row.id, observation_version=row.version))
        enqueue_writeback(session, row.id)
