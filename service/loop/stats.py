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
from collections.abc import Sequence
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
    k = len(columns)
    (dt, dp), dw, counts = _distinct_rows([truth[:, columns], predicted[:, columns]], weights)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, counts / n, size=replicates).astype(np.float64)  # B x K
    tp, fp, fn = _counts(draws, dt, dp, dw)  # B x codes
    per = _f1(tp, fp, fn)  # nan where a code vanished from the replicate
    micro = _f1(tp.sum(1), fp.sum(1), fn.sum(1))
    return BootstrapF1(
        per_code=[_percentiles(per[:, j]) for j in range(k)],
        macro=_percentiles(_macro(per)),
        micro=_percentiles(micro),
    )


def _distinct_rows(
    blocks: Sequence[BoolArray], weights: FloatArray
) -> tuple[list[FloatArray], FloatArray, np.ndarray]:
    """The distinct rows of the boolean ``blocks`` (items x k each) side by side with the
    weight, sorted as ``np.unique(axis=0)`` sorts them: each block's columns of the distinct
    rows, their weights, and how often each row occurs.

    Each row is packed into one int64 key whose order is the rows' lexicographic order, so a 1-D
    ``np.unique`` does the work: ``np.unique(axis=0)`` on 100k rows cost 0.15 s per call and
    dominated ``radqc evaluate`` (bench/evaluate). Falls back to it when the key would not fit.
    """
    k = blocks[0].shape[1]
    width = k * len(blocks)
    weight_values, weight_index = np.unique(weights, return_inverse=True)
    weight_bits = max(1, int(weight_values.size - 1).bit_length())
    if width + weight_bits > 62:
        rows = np.hstack([*blocks, weights[:, None]]).astype(np.float64)
        distinct, counts = np.unique(rows, axis=0, return_counts=True)
        dw = distinct[:, width]
        columns = distinct[:, :width]
    else:
        flags = np.hstack(blocks).astype(np.int64)  # the blocks' columns, left to right
        shifts = np.arange(width - 1, -1, -1, dtype=np.int64) + weight_bits  # first: highest
        keys = flags @ (np.int64(1) << shifts) | weight_index.reshape(-1).astype(np.int64)
        distinct_keys, counts = np.unique(keys, return_counts=True)
        columns = ((distinct_keys[:, None] >> shifts) & 1).astype(np.float64)
        weight_mask = (1 << weight_bits) - 1
        dw = weight_values[distinct_keys & weight_mask].astype(np.float64)
    return [columns[:, i * k : (i + 1) * k] for i in range(len(blocks))], dw, counts


def _counts(
    draws: FloatArray, t: FloatArray, p: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Weighted TP, FP and FN per code for each row of ``draws`` (how often each distinct item
    row is taken)."""
    return (
        draws @ (t * p * w[:, None]),
        draws @ ((1 - t) * p * w[:, None]),
        draws @ (t * (1 - p) * w[:, None]),
    )


def _f1(tp: FloatArray, fp: FloatArray, fn: FloatArray) -> FloatArray:
    """F1 from counts; NaN where there is neither truth nor a flag."""
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = 2 * tp / (2 * tp + fp + fn)
    return result


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


@dataclass(frozen=True, slots=True)
class PairedF1:
    """F1 of B minus F1 of A on the same items, per code and macro, each with a paired
    percentile interval (``None`` where no replicate had the figure)."""

    per_code: list[tuple[float, tuple[float, float] | None]]
    macro: tuple[float | None, tuple[float, float] | None]


def _macro(per: FloatArray) -> FloatArray:
    present = np.isfinite(per)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: FloatArray = np.where(present, per, 0.0).sum(-1) / present.sum(-1)
    return result


def paired_f1_differences(
    truth: BoolArray,
    flags_a: BoolArray,
    flags_b: BoolArray,
    weights: FloatArray,
    columns: list[int],
    *,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = 0,
) -> PairedF1:
    """Per-code F1 and macro-F1 of configuration B minus A on the same audited items, with a
    paired bootstrap: each replicate resamples items and scores both configurations on them.

    Per code, an F1 with nothing to score (no truth, no flags) counts as 0, as in the
    evaluation; macro-F1 of each configuration is the mean over the codes present for it.
    """
    n, k = truth.shape[0], len(columns)
    if n == 0 or k == 0:
        return PairedF1([(0.0, None)] * k, (None, None))
    (t, a, b), w, counts = _distinct_rows(
        [truth[:, columns], flags_a[:, columns], flags_b[:, columns]], weights
    )
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=replicates)
    full = counts[None, :].astype(np.float64)
    out = []
    per_a, per_b = _f1(*_counts(full, t, a, w))[0], _f1(*_counts(full, t, b, w))[0]
    boot_a = _f1(*_counts(draws.astype(np.float64), t, a, w))
    boot_b = _f1(*_counts(draws.astype(np.float64), t, b, w))
    for j in range(k):
        point = float(np.nan_to_num(per_b[j]) - np.nan_to_num(per_a[j]))
        out.append((point, _percentiles(np.nan_to_num(boot_b[:, j]) - np.nan_to_num(boot_a[:, j]))))
    macro_point = float(_macro(per_b) - _macro(per_a))
    macro_interval = _percentiles(_macro(boot_b) - _macro(boot_a))
    return PairedF1(out, (macro_point if np.isfinite(macro_point) else None, macro_interval))
