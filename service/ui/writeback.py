"""Where an item's findings stand in the hospital's FHIR world: each Observation radqc publishes
for it, and whether its current version reached the hospital FHIR server.

The state of each Observation is the outbox's own (:func:`service.outbox.writeback_states`, what
the item's REST view shows too): ``refused``, ``discarded`` and ``superseded`` entries are shown
as such, ``retrying`` is a pending entry tried before. This module only gathers the Observations
of the items a page lists and summarises them in a line.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.models import Observation
from service.outbox import WritebackState, writeback_states

# The order a summary names the states in: what needs attention first.
_ORDER = (
    "refused",
    "retrying",
    "waiting",
    "not queued",
    "discarded",
    "superseded",
    "delivered",
    "off",
)


@dataclass(frozen=True, slots=True)
class WritebackRow:
    item_id: int
    observation_id: str
    code: str
    status: str  # preliminary | final | cancelled
    delivery: WritebackState


def _rows(session: Session, item_ids: Sequence[int], enabled: bool) -> list[WritebackRow]:
    if not item_ids:
        return []
    observations = session.execute(
        select(Observation.item_id, Observation.id, Observation.code, Observation.status)
        .where(Observation.item_id.in_(list(item_ids)))
        .order_by(Observation.item_id, Observation.code, Observation.id)
    ).all()
    states = writeback_states(session, [o.id for o in observations], enabled)
    return [
        WritebackRow(o.item_id, o.id, o.code, o.status, states[o.id])
        for o in observations
        if o.id in states
    ]


def writeback_rows(session: Session, item_id: int, enabled: bool) -> list[WritebackRow]:
    """The item's Observations (findings and the QC summary) and their delivery."""
    return _rows(session, [item_id], enabled)


def writeback_summary(session: Session, item_ids: Sequence[int], enabled: bool) -> dict[int, str]:
    """One line per item for a list: ``delivered 3/3``, ``1 retrying, 2 delivered`` ..."""
    counts: dict[int, Counter[str]] = {}
    for row in _rows(session, item_ids, enabled):
        counts.setdefault(row.item_id, Counter())[row.delivery.state] += 1
    out = {}
    for item_id in item_ids:
        seen = counts.get(item_id)
        if not seen:
            out[item_id] = "nothing published yet"
        elif set(seen) == {"off"}:
            out[item_id] = "write-back off"
        elif set(seen) == {"delivered"}:
            out[item_id] = f"delivered {seen['delivered']}/{seen['delivered']}"
        else:
            known = [s for s in _ORDER if seen[s]] + sorted(set(seen) - set(_ORDER))
            out[item_id] = ", ".join(f"{seen[s]} {s}" for s in known)
    return out
