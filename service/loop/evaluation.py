"""Evaluation runs (DESIGN §7): evaluate the audited sample, store the run, list and read runs.

A run records what was evaluated (engine configuration, kind, time window), which audits formed
the sample, and the metrics: for the chosen configuration (every engine together by default),
for each configuration found in the sample, and sliced by modality, month, station and site.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select

from service.db import Database
from service.errors import NotFoundError
from service.loop.metrics import evaluate
from service.loop.models import EvaluationRun
from service.loop.sample import ALL_ENGINES, CODE_LIST, AuditedSample, SampleQuery, load_sample
from service.loop.stats import paired_micro_f1_difference

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""(step, done, total): called as the run advances (the CLI draws a progress bar)."""

SLICE_REPLICATES = 200


def quiet(_step: str, _done: int, _total: int) -> None:
    return None


@dataclass(frozen=True, slots=True)
class EvaluationRequest:
    engine: str | None = None  # "rules", "rules@<version>" or None/"all": every engine together
    kind: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    weighted: bool = True


def compute(
    sample: AuditedSample, request: EvaluationRequest, progress: Progress = quiet
) -> dict[str, Any]:
    """Every figure of the run, from a loaded sample (no database access)."""
    weights = sample.weights if request.weighted else np.ones(sample.size)
    configurations = sample.configurations()
    total = 1 + len(configurations) + 2
    progress("overall", 0, total)
    metrics = evaluate(
        sample.truth,
        sample.flags(request.engine),
        weights,
        CODE_LIST,
        reference=sample.reference,
    )
    progress("overall", 1, total)
    by_configuration: dict[str, Any] = {}
    for done, name in enumerate(configurations, start=2):
        by_configuration[name] = evaluate(
            sample.truth, sample.flags(name), weights, CODE_LIST, reference=sample.reference
        )
        progress(name, done, total)
    metrics["engine"] = request.engine or ALL_ENGINES
    metrics["by_configuration"] = by_configuration
    metrics["comparisons"] = _comparisons(sample, configurations, weights)
    # Slices of different dimensions often hold the same items (the "report" station is the
    # "report" modality; one site is one station): each distinct set is evaluated once.
    seen: dict[bytes, dict[str, Any]] = {}
    months = [t.strftime("%Y-%m") for t in sample.received_at]
    metrics["slices"] = {
        "modality": _slices(sample, request, weights, sample.modality, seen),
        "month": _slices(sample, request, weights, months, seen),
        "station": _slices(sample, request, weights, sample.station, seen),
        "site": _slices(sample, request, weights, sample.site, seen),
    }
    progress("slices", total, total)
    return metrics


def _comparisons(
    sample: AuditedSample, configurations: list[str], weights: Any
) -> list[dict[str, Any]]:
    """Every pair of configurations on the same audited items: micro-F1 difference with a
    paired bootstrap interval (an interval excluding 0 means one is better on this sample)."""
    out = []
    for i, first in enumerate(configurations):
        for second in configurations[i + 1 :]:
            value, interval = paired_micro_f1_difference(
                sample.truth, sample.flags(first), sample.flags(second), weights
            )
            low, high = interval if interval is not None else (None, None)
            out.append(
                {"a": first, "b": second, "micro_f1_difference": value, "low": low, "high": high}
            )
    return out


def _slices(
    sample: AuditedSample,
    request: EvaluationRequest,
    weights: Any,
    labels: list[str],
    seen: dict[bytes, dict[str, Any]],
) -> dict[str, Any]:
    rows: dict[str, list[int]] = defaultdict(list)
    for position, label in enumerate(labels):
        rows[label].append(position)
    flags = sample.flags(request.engine)
    out: dict[str, Any] = {}
    for label in sorted(rows):
        index = np.asarray(rows[label], dtype=np.int64)
        key = hashlib.sha256(index.tobytes()).digest()
        if key in seen:
            out[label] = seen[key]
            continue
        figures = evaluate(
            sample.truth[index],
            flags[index],
            weights[index],
            CODE_LIST,
            reference=sample.reference[index],
            replicates=SLICE_REPLICATES,
        )
        out[label] = seen[key] = {
            name: figures[name] for name in ("n_items", "macro_f1", "micro_f1", "detection_rate")
        }
    return out


class EvaluationService:
    """Runs and stores evaluations; one read transaction to load, one write to store."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def run(
        self, request: EvaluationRequest, created_by: str, progress: Progress = quiet
    ) -> EvaluationRun:
        query = SampleQuery(kind=request.kind, since=request.since, until=request.until)
        with self.db.reader() as session:
            sample = load_sample(session, query)
        progress("loaded", sample.size, sample.size)
        metrics = compute(sample, request, progress)
        run = EvaluationRun(
            created_by=created_by,
            engine=request.engine,
            kind=request.kind,
            since=request.since,
            until=request.until,
            weighted=request.weighted,
            n_items=sample.size,
            metrics=json_safe(metrics),
            sample=sample.audit_ids,
        )
        with self.db.transaction() as session:
            session.add(run)
        log.info("evaluation run %s: %d audited items", run.id, sample.size)
        return run

    def get(self, run_id: int) -> EvaluationRun:
        with self.db.reader() as session:
            run = session.get(EvaluationRun, run_id)
        if run is None:
            raise NotFoundError(f"evaluation run {run_id} does not exist")
        return run

    def list(self, limit: int = 50, before: int | None = None) -> list[EvaluationRun]:
        stmt = select(EvaluationRun).order_by(EvaluationRun.id.desc()).limit(limit)
        if before is not None:
            stmt = stmt.where(EvaluationRun.id < before)
        with self.db.reader() as session:
            return list(session.scalars(stmt))


def json_safe(value: Any) -> Any:
    """Metrics with numpy scalars and NaN turned into JSON numbers and nulls."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
