"""Evaluation runs (DESIGN §7): evaluate the audited sample, store the run, list and read runs.

A run records what was evaluated (engine configuration, kind, time window), which audits formed
the sample, and the metrics: for the chosen configuration (every engine together by default),
for each configuration found in the sample, and sliced by modality, month, station and site.

The figures of DESIGN §7 are per item and code: a code is true on an item when the auditor
confirmed one of its findings or listed it as missed. An item may hold several findings of one
code (one per problem, issue 15), each with its own verdict; ``findings`` counts those verdicts
as they were given (confirmed, rejected, and the share confirmed: the precision of the findings
themselves), per code (``per_code[code]["findings"]``) and pooled, so a rejected problem beside a
confirmed one of the same code is counted.
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
from sqlalchemy.orm import Session

from service.db import Database
from service.errors import NotFoundError
from service.loop.audit import CONFIRMED
from service.loop.audited_sample import (
    ALL_ENGINES,
    CODE_LIST,
    AuditedSample,
    SampleQuery,
    load_sample,
)
from service.loop.models import AuditFinding, EvaluationRun
from service.loop.scores import evaluate
from service.loop.stats import BoolArray, FloatArray, paired_micro_f1_difference, ratio

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


@dataclass(frozen=True, slots=True)
class Verdicts:
    """Every verdict of the sample's audits, one per judged finding: the sample row of its
    item, its code, its engine configuration (``engine@version``) and whether it was confirmed."""

    rows: list[int]
    codes: list[str]
    configurations: list[str]
    confirmed: list[bool]


def load_verdicts(session: Session, sample: AuditedSample) -> Verdicts:
    row_of = {audit_id: row for row, audit_id in enumerate(sample.audit_ids)}
    verdicts = Verdicts([], [], [], [])
    stmt = select(
        AuditFinding.audit_id,
        AuditFinding.code,
        AuditFinding.engine,
        AuditFinding.engine_version,
        AuditFinding.verdict,
    ).where(AuditFinding.verdict.is_not(None))
    for audit_id, code, engine, version, verdict in session.execute(stmt):
        if audit_id in row_of:
            verdicts.rows.append(row_of[audit_id])
            verdicts.codes.append(code)
            verdicts.configurations.append(f"{engine}@{version}")
            verdicts.confirmed.append(verdict == CONFIRMED)
    return verdicts


def per_finding(
    verdicts: Verdicts, weights: FloatArray, configuration: str | None
) -> dict[str, Any]:
    """The verdicts on the findings of one configuration (as :meth:`AuditedSample.flags`
    chooses them), per code and pooled: how many were confirmed and rejected, and the share
    confirmed with its interval (each finding weighted by its item's weight)."""
    known = set(verdicts.configurations)
    chosen = [
        i
        for i, name in enumerate(verdicts.configurations)
        if configuration in (None, ALL_ENGINES)
        or name == configuration
        or (configuration not in known and name.split("@", 1)[0] == configuration)
    ]
    by_code: dict[str, list[int]] = defaultdict(list)
    for i in chosen:
        by_code[verdicts.codes[i]].append(i)
    per_code = {code: _judged(by_code[code], verdicts, weights) for code in sorted(by_code)}
    return {"per_code": per_code, **_judged(chosen, verdicts, weights)}


def _judged(chosen: list[int], verdicts: Verdicts, weights: FloatArray) -> dict[str, Any]:
    confirmed: BoolArray = np.array([verdicts.confirmed[i] for i in chosen], dtype=bool)
    w: FloatArray = np.array([weights[verdicts.rows[i]] for i in chosen], dtype=np.float64)
    share = ratio(confirmed.astype(np.float64), np.ones(len(chosen)), w)
    return {
        "confirmed": int(confirmed.sum()),
        "rejected": int((~confirmed).sum()),
        "precision": share.as_dict(),
    }


def _add_verdicts(
    metrics: dict[str, Any], verdicts: Verdicts, weights: FloatArray, configuration: str | None
) -> None:
    """The verdicts per finding into ``metrics``: per code beside its item figures (a judged
    finding's code is flagged, so it has them), and pooled under ``findings``."""
    judged = per_finding(verdicts, weights, configuration)
    for code, figures in judged.pop("per_code").items():
        if code in metrics["per_code"]:
            metrics["per_code"][code]["findings"] = figures
    metrics["findings"] = judged


def compute(
    sample: AuditedSample,
    request: EvaluationRequest,
    progress: Progress = quiet,
    verdicts: Verdicts | None = None,
) -> dict[str, Any]:
    """Every figure of the run, from a loaded sample (no database access); with ``verdicts``,
    also the verdicts per finding (``findings``)."""
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
    if verdicts is not None:
        _add_verdicts(metrics, verdicts, weights, request.engine)
    progress("overall", 1, total)
    by_configuration: dict[str, Any] = {}
    for done, name in enumerate(configurations, start=2):
        by_configuration[name] = evaluate(
            sample.truth, sample.flags(name), weights, CODE_LIST, reference=sample.reference
        )
        if verdicts is not None:
            _add_verdicts(by_configuration[name], verdicts, weights, name)
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
            verdicts = load_verdicts(session, sample)
        progress("loaded", sample.size, sample.size)
        metrics = compute(sample, request, progress, verdicts)
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
