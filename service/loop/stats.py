"""Interval estimates for the evaluation (DESIGN §7): Wilson for proportions, bootstrap for F1.

Proportions from a weighted sample (inverse inclusion probabilities) are ratio estimators
``sum(w*y) / sum(w*x)``. Their interval is Wilson's with an effective sample size: the
linearised (Taylor) variance of the ratio, ``sum(w^2 (y - R x)^2) / sum(w x)^2``, turned into
the ``n`` a simple random sample would need for that variance. With every weight 1 this is the
plain count, so unweighted evaluations get the textbook Wilson interval.

F1 has no closed form; it is bootstrapped by resampling items. Items with identical rows (truth,
prediction, weight) are pooled first, so one multinomial draw per replicate over the distinct
rows replaces resampling 100k items one by one: the same bootstrap, a fraction of the cost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Z95 = 1.959963984540054
BOOTSTRAP_REPLICATES = 1000

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Estimate:
    """A figure with its 95% interval and the count it rests on (``n``: the denominator)."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {"value": self.value, "low": self.low, "high": self.high, "n": self.n}


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for ``successes`` out of ``n`` (both may be effective counts)."""
    if n <= 0:
        return (0.0, 1.0)
    p = min(max(successes / n, 0.0), 1.0)
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def ratio(y: FloatArray, x: FloatArray, w: FloatArray) -> Estimate:
    """Weighted proportion ``sum(w y) / sum(w x)`` (y <= x, both 0/1) with a Wilson interval."""
    count = int(np.count_nonzero(x))
    denominator = float(np.dot(w, x))
    if denominator <= 0:
        return Estimate(None, None, None, count)
    r = float(np.dot(w, y)) / denominator
    residual = w * (y - r * x)
    variance = float(np.dot(residual, residual)) / denominator**2
    if variance > 0:
        n_eff = r * (1 - r) / variance
    else:  # r is 0 or 1: Kish's effective size of the denominator's items
        wx = w * x
        n_eff = denominator**2 / float(np.dot(wx, wx))
    low, high = wilson(r * n_eff, n_eff)
    return Estimate(r, low, high, count)


def f1_value(tp: float, fp: float, fn: float) -> float | None:
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator > 0 else None


@dataclass(frozen=True, slots=True)
class BootstrapF1:
    """Percentile intervals of per-code F1, macro-F1 and micro-F1 from the same replicates."""

    per_code: list[tuple[float, float] | None]
    macro: tuple[float, float] | None
    micro: tuple[float, float] | None


def bootstrap_f1(
    truth: BoolArray,
    predicted: BoolArray,
    weights: FloatArray,
    columns: list[int],
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
) -> BootstrapF1:
    """Resample items with replacement; F1 of each code in ``columns``, macro and micro."""
    n = truth.shape[0]
    if n == 0 or not columns:
        return BootstrapF1([None] * len(columns), None, None)
    t = truth[:, columns]
    p = predicted[:, columns]
    rows = np.hstack([t, p, weights[:, None]]).astype(np.float64)
    distinct, counts = np.unique(rows, axis=0, return_counts=True)
    k = len(columns)
    dt, dp, dw = distinct[:, :k], distinct[:, k : 2 * k], distinct[:, 2 * k]
    tp_cell = (dt * dp) * dw[:, None]
    fp_cell = ((1 - dt) * dp) * dw[:, None]
    fn_cell = (dt * (1 - dp)) * dw[:, None]
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=replicates).astype(np.float64)  # B x K
    tp, fp, fn = draws @ tp_cell, draws @ fp_cell, draws @ fn_cell  # B x codes
    with np.errstate(invalid="ignore", divide="ignore"):
        per = 2 * tp / (2 * tp + fp + fn)  # nan where a code vanished from the replicate
        present = np.isfinite(per)
        macro = np.where(present, per, 0.0).sum(1) / present.sum(1)
        micro = 2 * tp.sum(1) / (2 * tp.sum(1) + fp.sum(1) + fn.sum(1))
    return BootstrapF1(
        per_code=[_percentiles(per[:, j]) for j in range(k)],
        macro=_percentiles(macro),
        micro=_percentiles(micro),
    )


def _percentiles(values: FloatArray) -> tuple[float, float] | None:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    low, high = np.percentile(finite, [2.5, 97.5])
    return (float(low), float(high))


def paired_micro_f1_difference(
    truth: BoolArray,
    flags_a: BoolArray,
    flags_b: BoolArray,
    weights: FloatArray,
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
) -> tuple[float | None, tuple[float, float] | None]:
    """Micro-F1 of A minus micro-F1 of B on the same items, with a paired bootstrap interval
    (the same resampled items score both configurations)."""
    n = truth.shape[0]
    if n == 0:
        return None, None
    w = weights[:, None]
    per_item = np.stack(
        [
            ((truth & flags_a) * w).sum(1),
            ((~truth & flags_a) * w).sum(1),
            ((truth & ~flags_a) * w).sum(1),
            ((truth & flags_b) * w).sum(1),
            ((~truth & flags_b) * w).sum(1),
            ((truth & ~flags_b) * w).sum(1),
        ],
        axis=1,
    )
    distinct, counts = np.unique(per_item, axis=0, return_counts=True)

    def difference(totals: FloatArray) -> FloatArray:
        tp_a, fp_a, fn_a, tp_b, fp_b, fn_b = (totals[..., i] for i in range(6))
        with np.errstate(invalid="ignore", divide="ignore"):
            result: FloatArray = 2 * tp_a / (2 * tp_a + fp_a + fn_a) - 2 * tp_b / (
                2 * tp_b + fp_b + fn_b
            )
        return result

    point = float(difference(per_item.sum(0)))
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=replicates)
    interval = _percentiles(difference(draws.astype(np.float64) @ distinct))
    return (point if np.isfinite(point) else None), interval
