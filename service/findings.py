"""Storing an engine's findings on an item: one row per item, engine, code and scope."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.engines.base import Finding
from service.models import Finding as FindingRow
from service.models import Item
from service.taxonomy import Severity


def merge_by_code(findings: Iterable[Finding]) -> list[Finding]:
    """Fold several findings of one code into one: the highest severity and confidence, every
    message and every piece of evidence."""
    merged: dict[str, Finding] = {}
    for finding in findings:
        seen = merged.get(finding.code)
        if seen is None:
            merged[finding.code] = finding
            continue
        top = seen if seen.severity.rank >= finding.severity.rank else finding
        messages = (
            [seen.message] if finding.message in seen.message else [seen.message, finding.message]
        )
        merged[finding.code] = Finding(
            code=finding.code,
            severity=top.severity,
            message=" ".join(messages),
            evidence=[*seen.evidence, *finding.evidence],
            confidence=max(seen.confidence, finding.confidence),
            engine=seen.engine,
            engine_version=seen.engine_version,
            scope=seen.scope,
        )
    return list(merged.values())


def replace_findings(
    session: Session, item: Item, engine: str, scope: str, findings: Iterable[Finding]
) -> None:
    """Make the item's stored findings of ``engine`` and ``scope`` equal to ``findings``."""
    wanted = {f.code: f for f in merge_by_code(findings)}
    rows = session.scalars(
        select(FindingRow).where(
            FindingRow.item_id == item.id, FindingRow.engine == engine, FindingRow.scope == scope
        )
    ).all()
    for row in rows:
        if row.code not in wanted:
            session.delete(row)
            continue
        new = wanted.pop(row.code)
        row.severity, row.message, row.evidence = new.severity, new.message, new.evidence
        row.confidence, row.engine_version = new.confidence, new.engine_version
    for new in wanted.values():
        session.add(
            FindingRow(
                item_id=item.id,
                code=new.code,
                severity=new.severity,
                message=new.message,
                evidence=new.evidence,
                confidence=new.confidence,
                engine=new.engine,
                engine_version=new.engine_version,
                scope=scope,
            )
        )
    session.flush()
    session.refresh(item, ["findings"])


def flag(item: Item, min_confidence: float) -> None:
    """Set ``item.flagged``: a finding at or above ``min_confidence`` flags the item (issue 9,
    precision first); findings below it are stored and shown but flag nothing, and the item's
    ``qc.summary`` follows ``flagged``."""
    item.flagged = any(f.confidence >= min_confidence for f in item.findings)


def worst_severity(rows: Iterable[FindingRow]) -> Severity | None:
    severities = [Severity(row.severity) for row in rows]
    return max(severities, key=lambda s: s.rank) if severities else None
