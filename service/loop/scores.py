"""The evaluation's figures (DESIGN §7) from truth and flags, each with its count and interval.

For code c: TP = items where c is both flagged and true, FP = flagged and not true, FN = true and
not flagged, each item counted with its weight. Macro-F1 is the mean F1 over the codes that occur
in the truth or the flags; micro-F1 pools the counts of those codes. The detection rate is the
share of items with at least one true error where at least one of them was flagged. The
additional discovery rate (ADR) is the number of true errors that were not in the reference set
(the truth of the item's first audit) but were confirmed on a later review, over the number of
reference errors.

(These are evaluation scores; the Prometheus metrics are :mod:`service.metrics`.)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from service.loop.stats import (
    BoolArray,
    Estimate,
    FloatArray,
    bootstrap_f1,
    f1_value,
    ratio,
)


def evaluate(
    truth: BoolArray,
    flags: BoolArray,
    weights: FloatArray,
    codes: tuple[str, ...],
    *,
    reference: BoolArray | None = None,
    replicates: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Every figure of one engine configuration on one audited sample, as JSON-ready dicts."""
    t, p = truth.astype(np.float64), flags.astype(np.float64)
    present = [j for j in range(len(codes)) if truth[:, j].any() or flags[:, j].any()]
    boot = bootstrap_f1(truth, flags, weights, present, replicates=replicates, seed=seed)
    per_code: dict[str, Any] = {}
    tp_w = fp_w = fn_w = 0.0
    f1s: list[float] = []
    for position, j in enumerate(present):
        tj: FloatArray = t[:, j]
        pj: FloatArray = p[:, j]
        tp: FloatArray = tj * pj
        fp: FloatArray = (1 - tj) * pj
        fn: FloatArray = tj * (1 - pj)
        wtp, wfp, wfn = (float(np.dot(weights, v)) for v in (tp, fp, fn))
        tp_w, fp_w, fn_w = tp_w + wtp, fp_w + wfp, fn_w + wfn
        f1 = f1_value(wtp, wfp, wfn) or 0.0
        f1s.append(f1)
        interval = boot.per_code[position]
        per_code[codes[j]] = {
            "tp": int(tp.sum()),
            "fp": int(fp.sum()),
            "fn": int(fn.sum()),
            "weighted": {"tp": wtp, "fp": wfp, "fn": wfn},
            "precision": ratio(tp, pj, weights).as_dict(),
            "recall": ratio(tp, tj, weights).as_dict(),
            "f1": _f1(f1, interval, int(tp.sum() + fp.sum() + fn.sum())),
        }
    n_items = int(truth.shape[0])
    return {
        "n_items": n_items,
        "weighted_n_items": float(weights.sum()),
        "per_code": per_code,
        "macro_f1": _f1(float(np.mean(f1s)) if f1s else None, boot.macro, n_items),
        "micro_f1": _f1(f1_value(tp_w, fp_w, fn_w), boot.micro, n_items),
        "detection_rate": detection_rate(truth, flags, weights).as_dict(),
        "additional_discovery_rate": additional_discovery_rate(truth, reference, weights),
        "confusion": confusion(truth, flags, codes),
    }


def _f1(
    value: float | None, interval: tuple[float, float] | None, n: int
) -> dict[str, float | int | None]:
    low, high = interval if interval is not None else (None, None)
    return {"value": value, "low": low, "high": high, "n": n}


def detection_rate(truth: BoolArray, flags: BoolArray, weights: FloatArray) -> Estimate:
    """Items with a true error where at least one true error was flagged, over items with one."""
    has_error: FloatArray = np.asarray(truth.any(axis=1), dtype=np.float64)
    detected: FloatArray = np.asarray((truth & flags).any(axis=1), dtype=np.float64)
    return ratio(detected, has_error, weights)


def additional_discovery_rate(
    truth: BoolArray, reference: BoolArray | None, weights: FloatArray
) -> dict[str, float | int | None]:
    """Errors confirmed on review beyond the reference set, per reference error."""
    if reference is None:
        reference = truth
    additional = (truth & ~reference).sum(axis=1).astype(np.float64)
    known = reference.sum(axis=1).astype(np.float64)
    denominator = float(np.dot(weights, known))
    count = int(known.sum())
    if denominator <= 0:
        return {"value": None, "low": None, "high": None, "n": count, "additional": 0}
    value = float(np.dot(weights, additional)) / denominator
    # Errors are counted, not items: an interval on the share additional / (additional + known),
    # mapped back to the ratio additional / known.
    share = ratio(additional, np.asarray(additional + known, dtype=np.float64), weights)
    low = high = None
    if share.low is not None and share.high is not None:
        low = share.low / (1 - share.low)
        high = share.high / (1 - share.high) if share.high < 1 else None
    return {
        "value": value,
        "low": low,
        "high": high,
        "n": count,
        "additional": int(additional.sum()),
    }


def confusion(truth: BoolArray, flags: BoolArray, codes: tuple[str, ...]) -> dict[str, Any]:
    """How often code a was flagged wrongly on an item where code b was missed."""
    # float64, not int64: numpy's integer matmul does not use BLAS (60 ms against 3 ms on 100k
    # items); counts stay exact far beyond any audit volume (2**53).
    fp = (flags & ~truth).astype(np.float64)
    fn = (truth & ~flags).astype(np.float64)
    matrix = np.rint(fp.T @ fn).astype(np.int64)
    pairs = [
        {"flagged": codes[a], "missed": codes[b], "count": int(matrix[a, b])}
        for a, b in zip(*np.nonzero(matrix), strict=True)
    ]
    pairs.sort(key=lambda pair: -int(pair["count"]))
    return {"pairs": pairs}
