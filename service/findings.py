"""Storing an engine's findings on an item: one row per distinct problem (issue 15, "one problem,
one verdict").

A problem is its code and its *problem key*: where its evidence points, never what it says. The
key names the DICOM keywords (``ViewPosition+PatientPosition``), the text spans
(``impression@120-134``) or the image regions and what was measured there
(``PixelData@0,0,512,1024[apex_width_at_edge]``) of the finding's evidence, in order; values,
messages, confidences and what an LLM adds to the evidence later (its verdict, its agreement
between samples) are left out. So the key of a problem stays the same when its item is processed
again (the row, its id, its verdicts and its Observation id are kept), and two problems of one
code on one item (ViewPosition missing, PatientSex missing) are two rows an auditor judges
separately. Two findings of one code that point at the same place are one problem: they are
folded into one row (highest severity and confidence, every message).

A check that reports several problems gives each its own evidence; evidence shared by two
problems would fold them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.engines.base import Finding
from service.models import FindingRow, Item
from service.taxonomy import Severity

MAX_KEY_CHARS = 128
_QUOTE_KEYS = ("quote", "text")


def problem_key(evidence: Iterable[Any]) -> str:
    """Where ``evidence`` points: the anchors of its entries joined by ``+`` ("" when nothing in
    it points anywhere); longer than ``MAX_KEY_CHARS``, a hash of them."""
    key = "+".join(anchor for anchor in map(_anchor, evidence) if anchor)
    if len(key) <= MAX_KEY_CHARS:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:40]


def _anchor(entry: Any) -> str:
    """One evidence entry's place: its DICOM keyword or report field, its text span, its image
    region and the metric measured there; "" for an entry that names no place."""
    if not isinstance(entry, Mapping):
        return ""
    name = str(entry.get("keyword") or entry.get("field") or "")
    if entry.get("start") is not None and entry.get("end") is not None:
        name = f"{entry.get('section') or name}@{entry['start']}-{entry['end']}"
    elif not name:
        quote = next((entry[k] for k in _QUOTE_KEYS if entry.get(k)), None)
        if quote is not None:  # a span without offsets: the quote stands for it, hashed
            digest = hashlib.sha256(str(quote).encode()).hexdigest()[:12]
            name = f"{entry.get('section') or ''}#{digest}"
    region = entry.get("region")
    if isinstance(region, list | tuple) and region:
        name += "@" + ",".join(str(v) for v in region)
    if entry.get("metric"):
        name += f"[{entry['metric']}]"
    if entry.get("duplicate_of_item") is not None:
        name += f"[duplicate_of_item={entry['duplicate_of_item']}]"
    return name


def by_problem(findings: Iterable[Finding]) -> dict[tuple[str, str], Finding]:
    """The findings to store, by (code, problem key); findings of one problem folded into one."""
    wanted: dict[tuple[str, str], Finding] = {}
    for finding in findings:
        key = (finding.code, problem_key(finding.evidence))
        seen = wanted.get(key)
        wanted[key] = finding if seen is None else _fold(seen, finding)
    return wanted


def _fold(seen: Finding, other: Finding) -> Finding:
    """One finding for two of one problem: the highest severity and confidence, every message,
    the first one's evidence plus what the second adds that points nowhere (an LLM's verdict),
    so the folded finding keeps the problem key of each."""
    top = seen if seen.severity.rank >= other.severity.rank else other
    messages = [seen.message] if other.message in seen.message else [seen.message, other.message]
    added = [e for e in other.evidence if not _anchor(e) and e not in seen.evidence]
    return Finding(
        code=seen.code,
        severity=top.severity,
        message=" ".join(messages),
        evidence=[*seen.evidence, *added],
        confidence=max(seen.confidence, other.confidence),
        engine=seen.engine,
        engine_version=seen.engine_version,
        scope=seen.scope,
    )


def replace_findings(
    session: Session, item: Item, engine: str, scope: str, findings: Iterable[Finding]
) -> None:
    """Make the item's stored findings of ``engine`` and ``scope`` equal to ``findings``: a
    problem found again keeps its row (and so its id, verdicts and Observation), a problem no
    longer found loses it, a new problem gets one."""
    wanted = by_problem(findings)
    rows = session.scalars(
        select(FindingRow).where(
            FindingRow.item_id == item.id, FindingRow.engine == engine, FindingRow.scope == scope
        )
    ).all()
    for row in rows:
        new = wanted.pop((row.code, row.problem_key), None)
        if new is None:
            session.delete(row)
            continue
        row.severity, row.message, row.evidence = new.severity, new.message, new.evidence
        row.confidence, row.engine_version = new.confidence, new.engine_version
    for (code, key), new in wanted.items():
        session.add(
            FindingRow(
                item_id=item.id,
                code=code,
                severity=new.severity,
                message=new.message,
                evidence=new.evidence,
                confidence=new.confidence,
                engine=new.engine,
                engine_version=new.engine_version,
                scope=scope,
                problem_key=key,
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
