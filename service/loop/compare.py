"""Champion against challenger on the same audited items (issue 5 §4).

The truth is the audited sample's (:func:`load_sample`). What a configuration flagged on an item
is, in order of preference:

1. its shadow or replay result for the item (``shadow_results``);
2. for a configuration that has run live (the champion, or a retired one that once was): the
   findings as audited, restricted to its engine versions. An item is taken as processed by it
   when no finding from another engine version is in the audit snapshot. A challenger that never
   ran live has only its shadow and replay results.

Only items both configurations cover are compared. Per code: precision, recall and F1 of each
(with their intervals, from :func:`service.loop.scores.evaluate`) and the paired difference of
F1 (challenger minus champion) with a paired bootstrap 95% interval; the same for macro-F1.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Database
from service.errors import InvalidInputError
from service.loop.audited_sample import (
    CODE_INDEX,
    CODE_LIST,
    AuditedSample,
    SampleQuery,
    load_sample,
)
from service.loop.engine_configs import CHAMPION, RETIRED, EngineRegistry
from service.loop.evaluation import json_safe
from service.loop.models import EngineConfig, ShadowResult
from service.loop.scores import evaluate
from service.loop.stats import BOOTSTRAP_REPLICATES, BoolArray, paired_f1_differences

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Predictions:
    flags: BoolArray  # items x CODE_LIST
    covered: BoolArray  # items this configuration has a prediction for


def predictions(session: Session, config: EngineConfig, sample: AuditedSample) -> Predictions:
    n = sample.size
    flags = np.zeros((n, len(CODE_LIST)), dtype=bool)
    covered = np.zeros(n, dtype=bool)
    own = set(config.engine_versions) if config.role in (CHAMPION, RETIRED) else set()
    if own:  # live findings as audited, for items no other engine version touched
        others = [name for name in sample.configurations() if name not in own]
        touched_by_others = np.zeros(n, dtype=bool)
        for name in others:
            touched_by_others |= sample.flags(name).any(axis=1)
        covered = ~touched_by_others
        for name in own & set(sample.configurations()):
            flags |= sample.flags(name)
        flags[~covered] = False
    row_of = {item_id: row for row, item_id in enumerate(sample.item_ids)}
    stored = session.execute(
        select(ShadowResult.item_id, ShadowResult.codes, ShadowResult.error).where(
            ShadowResult.config_id == config.id
        )
    )
    for item_id, codes, error in stored:
        row = row_of.get(item_id)
        if row is None or error is not None:
            continue
        flags[row] = False
        for code in codes:
            if code in CODE_INDEX:
                flags[row, CODE_INDEX[code]] = True
        covered[row] = True
    return Predictions(flags, covered)


def _describe(config: EngineConfig) -> dict[str, Any]:
    return {
        "id": config.id,
        "name": config.name,
        "version": config.version,
        "role": config.role,
    }


def _figure(value: float | None, interval: tuple[float, float] | None) -> dict[str, Any]:
    low, high = interval if interval is not None else (None, None)
    return {"value": value, "low": low, "high": high}


def compare_on(
    truth: BoolArray,
    flags_a: BoolArray,
    flags_b: BoolArray,
    weights: Any,
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
) -> dict[str, Any]:
    """The comparison's figures from arrays (A: champion, B: challenger); no database."""
    present = [
        j for j in range(truth.shape[1]) if (truth[:, j] | flags_a[:, j] | flags_b[:, j]).any()
    ]
    first = evaluate(truth, flags_a, weights, CODE_LIST, replicates=replicates, seed=seed)
    second = evaluate(truth, flags_b, weights, CODE_LIST, replicates=replicates, seed=seed)
    paired = paired_f1_differences(
        truth, flags_a, flags_b, weights, present, replicates=replicates, seed=seed
    )
    per_code: dict[str, Any] = {}
    empty = {"precision": None, "recall": None, "f1": None, "tp": 0, "fp": 0, "fn": 0}
    for position, j in enumerate(present):
        code = CODE_LIST[j]
        rows = []
        for figures in (first, second):
            row = figures["per_code"].get(code)
            keys = ("tp", "fp", "fn", "precision", "recall", "f1")
            rows.append({key: row[key] for key in keys} if row else dict(empty))
        value, interval = paired.per_code[position]
        per_code[code] = {
            "champion": rows[0],
            "challenger": rows[1],
            "f1_difference": _figure(value, interval),
        }
    return {
        "n_items": int(truth.shape[0]),
        "per_code": per_code,
        "macro_f1": {
            "champion": first["macro_f1"],
            "challenger": second["macro_f1"],
            "difference": _figure(*paired.macro),
        },
        "micro_f1": {"champion": first["micro_f1"], "challenger": second["micro_f1"]},
    }


def compare(
    db: Database,
    champion_id: int,
    challenger_id: int,
    query: SampleQuery | None = None,
    *,
    weighted: bool = True,
    replicates: int = BOOTSTRAP_REPLICATES,
) -> dict[str, Any]:
    """Champion against challenger on the audited items both cover."""
    if champion_id == challenger_id:
        raise InvalidInputError("compare two different configurations")
    registry = EngineRegistry(db)
    champion, challenger = registry.get(champion_id), registry.get(challenger_id)
    with db.reader() as session:
        sample = load_sample(session, query or SampleQuery())
        a = predictions(session, champion, sample)
        b = predictions(session, challenger, sample)
    common = np.flatnonzero(a.covered & b.covered)
    weights = sample.weights if weighted else np.ones(sample.size)
    report = compare_on(
        sample.truth[common],
        a.flags[common],
        b.flags[common],
        weights[common],
        replicates=replicates,
    )
    report.update(
        champion=_describe(champion),
        challenger=_describe(challenger),
        weighted=weighted,
        n_audited=sample.size,
        item_ids=[sample.item_ids[i] for i in common],
    )
    log.info(
        "compared configurations %s and %s on %d of %d audited items",
        champion_id,
        challenger_id,
        len(common),
        sample.size,
    )
    safe: dict[str, Any] = json_safe(report)
    return safe
