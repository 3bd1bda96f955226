"""Recording an auditor's verdicts on an item (DESIGN §6 ``POST /api/v1/items/{id}/audit``).

An audit is validated whole before anything is stored: every verdict must name a finding of this
item, every finding of the item must have one (a finding left unjudged is refused, never stored
as a verdict), every missed error a known code of the item's kind. The audit, a snapshot of the
item's findings with their verdicts, and the missed errors are stored in one transaction with
whatever ``on_audited`` does there; the composition root hands in a callback that republishes the
item's Observations (``final`` when confirmed, ``cancelled`` when rejected) and queues their
write-back, so the core never imports the FHIR adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from service.db import Database
from service.errors import InvalidInputError, NotFoundError
from service.loop.models import Audit, AuditFinding, AuditMissed
from service.models import FindingRow, Item
from service.taxonomy import CODES

log = logging.getLogger(__name__)

CONFIRMED = "confirmed"
REJECTED = "rejected"
VERDICTS = (CONFIRMED, REJECTED)

ObservationStatus = Literal["preliminary", "final", "cancelled"]
OnAudited = Callable[[Session, Item], None]
"""Called in the audit's transaction once it is stored (e.g. republish the Observations)."""


@dataclass(frozen=True, slots=True)
class VerdictIn:
    finding_id: int
    verdict: str
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class MissedIn:
    code: str
    evidence: Any = None


@dataclass(frozen=True, slots=True)
class AuditRequest:
    verdicts: Sequence[VerdictIn] = ()
    missed: Sequence[MissedIn] = ()


def _nothing(_session: Session, _item: Item) -> None:
    return None


class AuditService:
    """Validates and stores audits; one transaction per audit."""

    def __init__(self, db: Database, on_audited: OnAudited = _nothing) -> None:
        self.db = db
        self.on_audited = on_audited

    def submit(self, item_id: int, auditor: str, request: AuditRequest) -> Audit:
        """Store the audit; raises NotFoundError (no item) or InvalidInputError (bad content)."""
        with self.db.transaction() as session:
            item = session.get(Item, item_id, with_for_update=True)
            if item is None:
                raise NotFoundError(f"item {item_id} does not exist")
            findings = {f.id: f for f in item.findings}
            verdicts = _check_verdicts(session, item, findings, request.verdicts)
            _check_missed(item, findings, verdicts, request.missed)
            _check_complete(findings, verdicts)
            audit = Audit(item_id=item.id, version=_next_version(session, item.id), auditor=auditor)
            audit.findings = [_snapshot(f, verdicts.get(f.id)) for f in findings.values()]
            audit.missed = [AuditMissed(code=m.code, evidence=m.evidence) for m in request.missed]
            session.add(audit)
            session.flush()
            self.on_audited(session, item)
        log.info(
            "item %s audited by %s: %d verdicts, %d missed",
            item_id,
            auditor,
            len(request.verdicts),
            len(request.missed),
        )
        return audit


def _check_verdicts(
    session: Session, item: Item, findings: dict[int, FindingRow], verdicts: Sequence[VerdictIn]
) -> dict[int, VerdictIn]:
    checked: dict[int, VerdictIn] = {}
    for index, verdict in enumerate(verdicts):
        where = f"verdicts[{index}]"
        if verdict.verdict not in VERDICTS:
            raise InvalidInputError(
                f"{where}.verdict: {verdict.verdict!r} is not one of {', '.join(VERDICTS)}",
                location=f"{where}.verdict",
            )
        if verdict.finding_id not in findings:
            owner = session.scalar(
                select(FindingRow.item_id).where(FindingRow.id == verdict.finding_id)
            )
            problem = (
                f"finding {verdict.finding_id} does not exist"
                if owner is None
                else f"finding {verdict.finding_id} belongs to item {owner}, not item {item.id}"
            )
            raise InvalidInputError(
                f"{where}.finding_id: {problem}", location=f"{where}.finding_id"
            )
        if verdict.finding_id in checked:
            raise InvalidInputError(
                f"{where}.finding_id: finding {verdict.finding_id} has two verdicts",
                location=f"{where}.finding_id",
            )
        checked[verdict.finding_id] = verdict
    return checked


def _check_complete(findings: dict[int, FindingRow], verdicts: dict[int, VerdictIn]) -> None:
    """A finding without a verdict is no verdict (issue 15): stored, it would count as a false
    positive nobody judged. Every finding of the item is confirmed or rejected."""
    unjudged = sorted(set(findings) - set(verdicts))
    if unjudged:
        listed = ", ".join(str(i) for i in unjudged)
        raise InvalidInputError(
            f"verdicts: findings {listed} have no verdict; confirm or reject every finding",
            location="verdicts",
        )


def _check_missed(
    item: Item,
    findings: dict[int, FindingRow],
    verdicts: dict[int, VerdictIn],
    missed: Sequence[MissedIn],
) -> None:
    confirmed = {findings[i].code for i, v in verdicts.items() if v.verdict == CONFIRMED}
    seen: set[str] = set()
    for index, entry in enumerate(missed):
        where = f"missed[{index}].code"
        known = CODES.get(entry.code)
        if known is None:
            raise InvalidInputError(f"{where}: unknown finding code {entry.code!r}", location=where)
        if known.kind != item.kind:
            raise InvalidInputError(
                f"{where}: {entry.code} is for {known.kind}s; item {item.id} is a {item.kind}",
                location=where,
            )
        if entry.code in confirmed:
            raise InvalidInputError(
                f"{where}: {entry.code} was flagged and confirmed; it was not missed",
                location=where,
            )
        if entry.code in seen:
            raise InvalidInputError(f"{where}: {entry.code} is listed twice", location=where)
        seen.add(entry.code)


def _next_version(session: Session, item_id: int) -> int:
    latest = session.scalar(select(func.max(Audit.version)).where(Audit.item_id == item_id))
    return (latest or 0) + 1


def _snapshot(finding: FindingRow, verdict: VerdictIn | None) -> AuditFinding:
    return AuditFinding(
        finding_id=finding.id,
        code=finding.code,
        engine=finding.engine,
        engine_version=finding.engine_version,
        severity=finding.severity,
        confidence=finding.confidence,
        verdict=verdict.verdict if verdict else None,
        reason=(verdict.reason or None) if verdict else None,
    )


def observation_status(session: Session, finding: FindingRow) -> ObservationStatus:
    """The status of a finding's Observation: its latest verdict, ``preliminary`` without one.

    Handed to the Observation publisher, so that an item processed again keeps its verdicts.
    """
    if finding.id is None:
        return "preliminary"
    verdict = session.scalar(
        select(AuditFinding.verdict)
        .join(Audit, Audit.id == AuditFinding.audit_id)
        .where(AuditFinding.finding_id == finding.id, AuditFinding.verdict.is_not(None))
        .order_by(Audit.version.desc())
        .limit(1)
    )
    if verdict == CONFIRMED:
        return "final"
    if verdict == REJECTED:
        return "cancelled"
    return "preliminary"


def audits_of(session: Session, item_id: int) -> list[Audit]:
    """The item's audits, oldest first, with their findings and missed errors loaded."""
    return list(
        session.scalars(
            select(Audit)
            .where(Audit.item_id == item_id)
            .order_by(Audit.version)
            .options(selectinload(Audit.findings), selectinload(Audit.missed))
        )
    )


def true_codes(audit: Audit) -> set[str]:
    """The item's true error codes per this audit: confirmed findings plus missed errors."""
    confirmed = {f.code for f in audit.findings if f.verdict == CONFIRMED}
    return confirmed | {m.code for m in audit.missed}
