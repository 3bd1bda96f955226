"""The reads behind the audit pages: the worklist of items drawn for audit, and one item.

Kept apart from the routes so the pages stay thin and the bench can time the same queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, selectinload

from service.findings import worst_severity
from service.loop.audit import audits_of
from service.loop.models import Audit, AuditSelection
from service.models import Finding, Item
from service.ui.highlight import Mark, Segment, locate, segments

WORKLIST_LIMIT = 200


@dataclass(frozen=True, slots=True)
class WorklistFilters:
    kind: str | None = None
    code: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    state: str = "pending"  # pending | audited | all


@dataclass(frozen=True, slots=True)
class WorklistRow:
    item_id: int
    kind: str
    received_at: dt.datetime
    strategy: str
    inclusion_probability: float
    codes: list[str]
    worst: str | None
    audited: bool


def worklist(session: Session, filters: WorklistFilters) -> list[WorklistRow]:
    audited = exists().where(Audit.item_id == Item.id)
    stmt = (
        select(Item, AuditSelection, audited.label("audited"))
        .join(AuditSelection, AuditSelection.item_id == Item.id)
        .options(selectinload(Item.findings))
        .order_by(AuditSelection.selected_at, Item.id)
        .limit(WORKLIST_LIMIT)
    )
    if filters.kind:
        stmt = stmt.where(Item.kind == filters.kind)
    if filters.code:
        stmt = stmt.where(Item.findings.any(Finding.code == filters.code))
    if filters.since:
        stmt = stmt.where(Item.received_at >= filters.since)
    if filters.until:
        stmt = stmt.where(Item.received_at < filters.until)
    if filters.state == "pending":
        stmt = stmt.where(~audited)
    elif filters.state == "audited":
        stmt = stmt.where(audited)
    rows = []
    for item, selection, is_audited in session.execute(stmt):
        worst = worst_severity(item.findings)
        rows.append(
            WorklistRow(
                item_id=item.id,
                kind=item.kind,
                received_at=item.received_at,
                strategy=selection.strategy,
                inclusion_probability=selection.inclusion_probability,
                codes=sorted({f.code for f in item.findings}),
                worst=worst.value if worst else None,
                audited=bool(is_audited),
            )
        )
    return rows


def next_pending(session: Session, after_item: int) -> int | None:
    """The next item of the worklist still waiting for an audit (for the 'next' shortcut)."""
    audited = exists().where(Audit.item_id == AuditSelection.item_id)
    stmt = select(AuditSelection.item_id).where(~audited, AuditSelection.item_id != after_item)
    return session.scalar(stmt.order_by(AuditSelection.selected_at, AuditSelection.item_id))


@dataclass
class ItemPage:
    item: Item
    verdicts: dict[int, tuple[str, str | None]]  # finding id -> (verdict, reason) of last audit
    audits: list[Audit]
    text: str | None = None
    text_segments: list[Segment] = field(default_factory=list)
    selection: AuditSelection | None = None

    @property
    def missed(self) -> list[dict[str, Any]]:
        """The missed errors of the latest audit: the page starts from them, so submitting
        again keeps them unless the auditor removes them (issue 15)."""
        if not self.audits:
            return []
        return [{"code": m.code, "evidence": m.evidence} for m in self.audits[-1].missed]


def item_page(session: Session, item_id: int) -> ItemPage | None:
    item = session.scalars(
        select(Item)
        .where(Item.id == item_id)
        .options(
            selectinload(Item.findings),
            selectinload(Item.report_version_row),
            selectinload(Item.instance),
        )
    ).one_or_none()
    if item is None:
        return None
    audits = audits_of(session, item_id)
    verdicts: dict[int, tuple[str, str | None]] = {}
    for audit in audits:
        for judged in audit.findings:
            if judged.finding_id is not None and judged.verdict is not None:
                verdicts[judged.finding_id] = (judged.verdict, judged.reason)
    page = ItemPage(item=item, verdicts=verdicts, audits=audits)
    page.selection = session.scalar(select(AuditSelection).where(AuditSelection.item_id == item_id))
    if item.report_version_row is not None:
        page.text = item.report_version_row.text
        spans = []
        for finding in item.findings:
            for evidence in finding.evidence:
                where = locate(page.text, evidence) if isinstance(evidence, dict) else None
                if where is not None:
                    spans.append((where[0], where[1], Mark(finding.id, finding.code)))
        page.text_segments = segments(page.text, spans)
    return page
