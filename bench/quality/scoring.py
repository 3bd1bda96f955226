"""Scores for the quality benchmarks: per code, per kind of error, with intervals.

A case has a set of true codes (empty for a clean case), the kind of error it carries (``clean``
for none) and the set of codes an engine predicted. Per code: true/false positives, recall with a
Wilson 95% interval, precision, F1 with a bootstrap 95% interval (cases resampled with
replacement). Macro-F1 is the mean F1 over the codes given, with its own bootstrap interval.
Detection: error cases whose true code was found; any-finding: error cases with any finding.
False flags: clean cases with any finding among the codes given.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Scored:
    case_id: str
    truth: frozenset[str]
    kind: str  # "clean" or "<code> / <form>"
    predicted: frozenset[str]


def wilson(hits: int, n: int) -> tuple[float, float]:
    """Wilson score 95% interval of a proportion ``hits / n`` ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = hits / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 0.0)


class Matrix:
    """Truth and predictions as boolean case x code matrices, for counts and the bootstrap."""

    def __init__(self, cases: Sequence[Scored], codes: Sequence[str]) -> None:
        self.codes = list(codes)
        self.truth = np.array([[c in s.truth for c in codes] for s in cases], dtype=bool)
        self.pred = np.array([[c in s.predicted for c in codes] for s in cases], dtype=bool)
        if not len(cases):
            self.truth = self.truth.reshape(0, len(codes))
            self.pred = self.pred.reshape(0, len(codes))

    def counts(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        t = self.truth if rows is None else self.truth[rows]
        p = self.pred if rows is None else self.pred[rows]
        return (t & p).sum(-2), (~t & p).sum(-2), (t & ~p).sum(-2)

    def bootstrap_f1(self, n_boot: int, seed: int) -> np.ndarray:
        """F1 per code for ``n_boot`` resamples of the cases: shape (n_boot, codes)."""
        rng = np.random.default_rng(seed)
        n = len(self.truth)
        out = np.empty((n_boot, len(self.codes)))
        for start in range(0, n_boot, 100):
            rows = rng.integers(0, n, (min(100, n_boot - start), n))
            tp, fp, fn = self.counts(rows)
            out[start : start + len(rows)] = _f1(tp, fp, fn)
        return out


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}"


def _interval(lo: float, hi: float) -> str:
    return f"[{100 * lo:4.1f}, {100 * hi:5.1f}]"


def code_table(
    cases: Sequence[Scored], codes: Sequence[str], n_boot: int = 1000, seed: int = 0
) -> tuple[list[str], float]:
    """Lines of the per-code table and the macro-F1."""
    m = Matrix(cases, codes)
    tp, fp, fn = m.counts()
    f1 = _f1(tp, fp, fn)
    boot = m.bootstrap_f1(n_boot, seed) if len(cases) else np.zeros((1, len(codes)))
    lines = [
        f"{'code':24} {'pos':>4} {'tp':>4} {'fp':>4} {'fn':>4} {'recall %':>8} "
        f"{'95% CI':>13} {'prec %':>6} {'F1':>5} {'F1 95% CI':>13}"
    ]
    for i, code in enumerate(codes):
        pos = int(tp[i] + fn[i])
        lo, hi = wilson(int(tp[i]), pos)
        prec = tp[i] / (tp[i] + fp[i]) if tp[i] + fp[i] else 0.0
        b_lo, b_hi = np.percentile(boot[:, i], [2.5, 97.5])
        recall = tp[i] / pos if pos else 0.0
        lines.append(
            f"{code:24} {pos:4d} {tp[i]:4d} {fp[i]:4d} {fn[i]:4d} {_pct(recall):>8} "
            f"{_interval(lo, hi):>13} {_pct(prec):>6} {f1[i]:5.3f} "
            f"[{b_lo:.3f}, {b_hi:.3f}]"
        )
    macro = float(f1.mean()) if len(codes) else 0.0
    m_lo, m_hi = np.percentile(boot.mean(axis=1), [2.5, 97.5])
    lines.append(f"macro-F1 over {len(codes)} codes: {macro:.3f} [{m_lo:.3f}, {m_hi:.3f}]")
    return lines, macro


def rate_lines(cases: Sequence[Scored], codes: Iterable[str]) -> list[str]:
    """Detection rate over error cases and false flags on clean cases, with Wilson intervals."""
    wanted = set(codes)
    errors = [c for c in cases if c.truth]
    clean = [c for c in cases if not c.truth]
    right = sum(bool(c.truth & c.predicted) for c in errors)
    anything = sum(bool(c.predicted & wanted) for c in errors)
    false = sum(bool(c.predicted & wanted) for c in clean)
    lines = []
    for label, hits, n in (
        ("detection (true code found)", right, len(errors)),
        ("detection (any finding)", anything, len(errors)),
        ("false flags on clean cases", false, len(clean)),
    ):
        lo, hi = wilson(hits, n)
        share = hits / n if n else 0.0
        lines.append(f"{label:30} {hits:5d}/{n:<5d} = {_pct(share)}% {_interval(lo, hi)}")
    return lines


def kind_table(cases: Sequence[Scored]) -> list[str]:
    """Recall per kind of error (true code found), with Wilson intervals."""
    by_kind: dict[str, list[Scored]] = defaultdict(list)
    for case in cases:
        if case.truth:
            by_kind[case.kind].append(case)
    lines = [f"{'kind of error':58} {'found':>9} {'%':>6} {'95% CI':>13} {'any':>5}"]
    for kind in sorted(by_kind):
        group = by_kind[kind]
        hits = sum(bool(c.truth & c.predicted) for c in group)
        anything = sum(bool(c.predicted) for c in group)
        lo, hi = wilson(hits, len(group))
        lines.append(
            f"{kind[:58]:58} {hits:4d}/{len(group):<4d} {_pct(hits / len(group)):>6} "
            f"{_interval(lo, hi):>13} {anything:5d}"
        )
    return lines


def false_flag_codes(cases: Sequence[Scored], codes: Iterable[str]) -> str:
    """Which codes fired on clean cases, most frequent first."""
    counts: dict[str, int] = defaultdict(int)
    for case in cases:
        if not case.truth:
            for code in case.predicted & set(codes):
                counts[code] += 1
    return ", ".join(f"{c} {n}" for c, n in sorted(counts.items(), key=lambda x: -x[1])) or "-"


def baseline_lines(cases: Sequence[Scored], codes: Sequence[str]) -> list[str]:
    """Flag-nothing and flag-all (every code on every case) on the same cases."""
    lines = []
    for name, predicted in (("flag-nothing", frozenset()), ("flag-all", frozenset(codes))):
        same = [Scored(c.case_id, c.truth, c.kind, predicted) for c in cases]
        m = Matrix(same, codes)
        tp, fp, fn = m.counts()
        f1 = _f1(tp, fp, fn)
        per_code = "  ".join(
            f"{code.split('.', 1)[1]} {f:.3f}" for code, f in zip(codes, f1, strict=True)
        )
        rates = rate_lines(same, codes)
        lines.append(f"{name}: macro-F1 {f1.mean():.3f}; F1 per code: {per_code}")
        lines += [f"   {r}" for r in rates]
    return lines
