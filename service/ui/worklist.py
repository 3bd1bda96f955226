"""The reads behind the audit pages: the worklist of items drawn for audit, and one item.

Kept apart from the routes so the pages stay thin and the bench can time the same queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload

from service.findings import worst_severity
from service.loop.audit import audits_of
from service.loop.models import Audit, AuditSelection
from service.models import FindingRow, Item
from service.ui.evidence import related_ids
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
    accession: str | None
    report_id: str | None
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
        stmt = stmt.where(Item.findings.any(FindingRow.code == filters.code))
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
                accession=item.accession,
                report_id=item.report_id,
                strategy=selection.strategy,
                inclusion_probability=selection.inclusion_probability,
                codes=sorted({f.code for f in item.findings}),
                worst=worst.value if worst else None,
                audited=bool(is_audited),
            )
        )
    return rows


def progress(session: Session) -> tuple[int, int]:
    """``(audited, drawn)`` over every item drawn for audit, whatever the page's filters."""
    audited = exists().where(Audit.item_id == AuditSelection.item_id)
    drawn = session.scalar(select(func.count()).select_from(AuditSelection)) or 0
    done = session.scalar(select(func.count()).select_from(AuditSelection).where(audited)) or 0
    return int(done), int(drawn)


def next_pending(session: Session, after_item: int) -> int | None:
    """The next item down the worklist still waiting for an audit (the 'next' shortcut): the
    list's order is the order items were drawn in; past its end, the first one left."""
    audited = exists().where(Audit.item_id == AuditSelection.item_id)
    order = (AuditSelection.selected_at, AuditSelection.item_id)
    pending = select(AuditSelection.item_id).where(~audited, AuditSelection.item_id != after_item)
    here = session.scalar(
        select(AuditSelection.selected_at).where(AuditSelection.item_id == after_item)
    )
    if here is not None:
        below = pending.where(
            or_(
                AuditSelection.selected_at > here,
                and_(AuditSelection.selected_at == here, AuditSelection.item_id > after_item),
            )
        )
        found = session.scalar(below.order_by(*order).limit(1))
        if found is not None:
            return found
    return session.scalar(pending.order_by(*order).limit(1))


@dataclass(frozen=True, slots=True)
class RelatedItem:
    item_id: int
    kind: str
    why: str


RELATED_LIMIT = 20


def related_items(session: Session, item: Item, named: list[int]) -> list[RelatedItem]:
    """Items an auditor may want beside this one: the other versions of the same image or
    report, items the evidence names (a duplicate), and the other items of the accession."""
    reasons: list[tuple[Any, str]] = []
    if item.sop_instance_uid:
        reasons.append((Item.sop_instance_uid == item.sop_instance_uid, "other version"))
    if item.report_id:
        reasons.append((Item.report_id == item.report_id, "other version"))
    if named:
        reasons.append((Item.id.in_(named), "named in the evidence"))
    if item.accession:
        reasons.append((Item.accession == item.accession, "same accession"))
    if not reasons:
        return []
    rows = session.scalars(
        select(Item)
        .where(or_(*(condition for condition, _ in reasons)), Item.id != item.id)
        .order_by(Item.id)
        .limit(RELATED_LIMIT)
    ).all()
    out = []
    for row in rows:
        if row.id in named:
            why = "named in the evidence"
        elif row.kind == item.kind and (
            (item.sop_instance_uid and row.sop_instance_uid == item.sop_instance_uid)
            or (item.report_id and row.report_id == item.report_id)
        ):
            version = row.report_version if row.kind == "report" else None
            why = f"other version{f' (v{version})' if version else ''}"
        else:
            why = "same accession"
        out.append(RelatedItem(row.id, row.kind, why))
    return out


@dataclass
class ItemPage:
    item: Item
    verdicts: dict[int, tuple[str, str | None]]  # finding id -> (verdict, reason) of last audit
    audits: list[Audit]
    text: str | None = None
    text_segments: list[Segment] = field(default_factory=list)
    selection: AuditSelection | None = None
    related: list[RelatedItem] = field(default_factory=list)

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
    named = [i for f in item.findings for i in related_ids(f.evidence or [])]
    page.related = related_items(session, item, named)
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
