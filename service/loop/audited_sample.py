"""The audited sample as arrays: what the evaluation computes on (DESIGN §7).

One row per audited item (its latest audit): the true codes, the codes each engine configuration
had flagged when the item was audited, the item's weight (the inverse of the probability with
which it was drawn for audit; 1 when it was not drawn by the sampler), and what it is sliced by.
Read with Core selects in a few queries, so 100k audited items load in about a second.
(Choosing which items get audited is :mod:`service.loop.audit_draw`.)
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from service.loop.audit import CONFIRMED
from service.loop.models import Audit, AuditFinding, AuditMissed, AuditSelection, ItemSite
from service.loop.sites import label
from service.loop.stats import BoolArray, FloatArray
from service.models import Instance, Item
from service.taxonomy import CODES

CODE_LIST: tuple[str, ...] = tuple(CODES)
CODE_INDEX = {code: i for i, code in enumerate(CODE_LIST)}
ALL_ENGINES = "all"


@dataclass(frozen=True, slots=True)
class SampleQuery:
    """Which audited items to evaluate: kind and a window on the time the item was received."""

    kind: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass
class AuditedSample:
    audit_ids: list[int]
    item_ids: list[int]
    received_at: list[dt.datetime]
    modality: list[str]
    weights: FloatArray
    truth: BoolArray
    reference: BoolArray  # the truth as first audited: the reference set (for ADR)
    predicted: dict[str, BoolArray] = field(default_factory=dict)  # configuration -> flags
    station: list[str] = field(default_factory=list)  # DICOM StationName; "report" for reports
    site: list[str] = field(default_factory=list)  # DICOM InstitutionName

    @property
    def size(self) -> int:
        return len(self.item_ids)

    def flags(self, configuration: str | None) -> BoolArray:
        """The flags of one configuration (``engine@version``), one engine (any version), or
        of every engine together (None or ``all``)."""
        if configuration in self.predicted:
            return self.predicted[configuration]
        out = np.zeros_like(self.truth)
        for name, flags in self.predicted.items():
            if configuration in (None, ALL_ENGINES) or name.split("@", 1)[0] == configuration:
                out |= flags
        return out

    def configurations(self) -> list[str]:
        return sorted(self.predicted)


# An audit stored before every finding needed a verdict may hold findings nobody judged: it is
# incomplete and counts nowhere (issue 15).
_has_unjudged_finding = exists().where(
    AuditFinding.audit_id == Audit.id, AuditFinding.verdict.is_(None)
)


def _latest_audits(
    query: SampleQuery,
) -> Select[int, int, dt.datetime, str | None, str, str | None, str | None]:
    latest = (
        select(Audit.item_id, func.max(Audit.version).label("version"))
        .group_by(Audit.item_id)
        .subquery()
    )
    stmt = (
        select(
            Audit.id,
            Item.id,
            Item.received_at,
            Instance.modality,
            Item.kind,
            ItemSite.station,
            ItemSite.institution,
        )
        .join(latest, and_(latest.c.item_id == Audit.item_id, latest.c.version == Audit.version))
        .join(Item, Item.id == Audit.item_id)
        .where(~_has_unjudged_finding)
        .outerjoin(Instance, Instance.id == Item.instance_id)
        .outerjoin(ItemSite, ItemSite.item_id == Item.id)
        .order_by(Item.id)
    )
    if query.kind:
        stmt = stmt.where(Item.kind == query.kind)
    if query.since:
        stmt = stmt.where(Item.received_at >= query.since)
    if query.until:
        stmt = stmt.where(Item.received_at < query.until)
    return stmt


def load_sample(session: Session, query: SampleQuery) -> AuditedSample:
    rows = session.execute(_latest_audits(query)).all()
    row_of = {int(row[0]): i for i, row in enumerate(rows)}
    n, c = len(rows), len(CODE_LIST)
    sample = AuditedSample(
        audit_ids=[r[0] for r in rows],
        item_ids=[r[1] for r in rows],
        received_at=[r[2] for r in rows],
        modality=[r[3] or ("report" if r[4] == "report" else "unknown") for r in rows],
        weights=np.ones(n),
        truth=np.zeros((n, c), dtype=bool),
        reference=np.zeros((n, c), dtype=bool),
        station=[label(r[4], r[5]) for r in rows],
        site=[label(r[4], r[6]) for r in rows],
    )
    if n == 0:
        return sample
    latest_ids = set(row_of)
    item_row = {item_id: i for i, item_id in enumerate(sample.item_ids)}
    _fill_findings(session, sample, row_of, latest_ids, n)
    for audit_id, code in session.execute(select(AuditMissed.audit_id, AuditMissed.code)):
        if audit_id in row_of and code in CODE_INDEX:
            sample.truth[row_of[audit_id], CODE_INDEX[code]] = True
    _fill_reference(session, sample, item_row)
    for item_id, probability in session.execute(
        select(AuditSelection.item_id, AuditSelection.inclusion_probability)
    ):
        if item_id in item_row and probability > 0:
            sample.weights[item_row[item_id]] = 1.0 / probability
    return sample


def _fill_findings(
    session: Session, sample: AuditedSample, row_of: dict[int, int], latest: set[int], n: int
) -> None:
    flags: dict[str, BoolArray] = defaultdict(lambda: np.zeros((n, len(CODE_LIST)), dtype=bool))
    stmt = select(
        AuditFinding.audit_id,
        AuditFinding.code,
        AuditFinding.engine,
        AuditFinding.engine_version,
        AuditFinding.verdict,
    )
    for audit_id, code, engine, version, verdict in session.execute(stmt):
        if audit_id not in latest or code not in CODE_INDEX:
            continue
        row, col = row_of[audit_id], CODE_INDEX[code]
        flags[f"{engine}@{version}"][row, col] = True
        if verdict == CONFIRMED:
            sample.truth[row, col] = True
    sample.predicted = dict(flags)


def _fill_reference(session: Session, sample: AuditedSample, item_row: dict[int, int]) -> None:
    """The truth of each item's first audit (for items audited once, the truth itself)."""
    sample.reference[:] = sample.truth
    first = (
        select(Audit.id, Audit.item_id)
        .where(
            Audit.version == 1, Audit.item_id.in_(select(Audit.item_id).where(Audit.version > 1))
        )
        .subquery()
    )
    reaudited: dict[int, int] = {}
    for audit_id, item_id in session.execute(select(first.c.id, first.c.item_id)):
        if item_id in item_row:
            reaudited[audit_id] = item_row[item_id]
            sample.reference[item_row[item_id]] = False
    if not reaudited:
        return
    confirmed = select(AuditFinding.audit_id, AuditFinding.code).where(
        AuditFinding.audit_id.in_(reaudited), AuditFinding.verdict == CONFIRMED
    )
    missed = select(AuditMissed.audit_id, AuditMissed.code).where(
        AuditMissed.audit_id.in_(reaudited)
    )
    for stmt in (confirmed, missed):
        for audit_id, code in session.execute(stmt):
            if code in CODE_INDEX:
                sample.reference[reaudited[audit_id], CODE_INDEX[code]] = True
