"""The paired comparison's figures against a straightforward recomputation: point differences
against scikit-learn, intervals against a naive item-by-item paired bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score

from service.loop.audited_sample import CODE_INDEX, CODE_LIST
from service.loop.compare import compare_on
from service.loop.stats import paired_f1_differences

CODES = ("report.laterality", "report.typo", "report.omission")
COLUMNS = [CODE_INDEX[c] for c in CODES]


def _data(n: int, noise_a: float, noise_b: float, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    truth = np.zeros((n, len(CODE_LIST)), dtype=bool)
    truth[:, COLUMNS] = rng.random((n, len(COLUMNS))) < 0.3
    flip_a = np.zeros_like(truth)
    flip_b = np.zeros_like(truth)
    flip_a[:, COLUMNS] = rng.random((n, len(COLUMNS))) < noise_a
    flip_b[:, COLUMNS] = rng.random((n, len(COLUMNS))) < noise_b
    weights = rng.choice([1.0, 2.0, 5.0], size=n)
    return truth, truth ^ flip_a, truth ^ flip_b, weights


def _naive(
    truth: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    w: np.ndarray,
    replicates: int,
    seed: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Resample item indices, score both configurations on the same draw: per-code and macro
    F1 differences, one loop iteration per replicate."""
    rng = np.random.default_rng(seed)
    n = truth.shape[0]
    per_code, macro = [], []
    for _ in range(replicates):
        idx = rng.integers(0, n, n)
        t, fa, fb, ww = truth[idx][:, COLUMNS], a[idx][:, COLUMNS], b[idx][:, COLUMNS], w[idx]
        scores = []
        for flags in (fa, fb):
            tp = (ww[:, None] * (t & flags)).sum(0)
            fp = (ww[:, None] * (~t & flags)).sum(0)
            fn = (ww[:, None] * (t & ~flags)).sum(0)
            denominator = 2 * tp + fp + fn
            f1 = np.where(denominator > 0, 2 * tp / np.where(denominator > 0, denominator, 1), 0)
            scores.append((f1, f1[denominator > 0].mean()))
        per_code.append(scores[1][0] - scores[0][0])
        macro.append(scores[1][1] - scores[0][1])
    return np.percentile(per_code, [2.5, 97.5], axis=0), np.percentile(macro, [2.5, 97.5])


def test_paired_differences_match_sklearn_and_a_naive_bootstrap() -> None:
    truth, a, _b, w = _data(160, 0.25, 0.15, seed=3)
    # B corrects a fifth of A's errors: strongly correlated, so pairing narrows the interval
    # well below what resampling each configuration on its own would give.
    fixes = np.random.default_rng(4).random(a.shape) < 0.2
    b = np.where(fixes, truth, a)
    paired = paired_f1_differences(truth, a, b, w, COLUMNS, replicates=4000, seed=1)
    naive_codes, naive_macro = _naive(truth, a, b, w, replicates=4000, seed=2)
    for position, j in enumerate(COLUMNS):
        expected = f1_score(truth[:, j], b[:, j], sample_weight=w) - f1_score(
            truth[:, j], a[:, j], sample_weight=w
        )
        value, interval = paired.per_code[position]
        assert value == pytest.approx(expected)
        assert interval is not None
        assert interval[0] == pytest.approx(naive_codes[0, position], abs=0.03)
        assert interval[1] == pytest.approx(naive_codes[1, position], abs=0.03)
    macro_expected = f1_score(
        truth, b, average="macro", labels=COLUMNS, sample_weight=w
    ) - f1_score(truth, a, average="macro", labels=COLUMNS, sample_weight=w)
    macro_value, interval = paired.macro
    assert macro_value == pytest.approx(macro_expected)
    assert interval is not None
    assert interval[0] == pytest.approx(naive_macro[0], abs=0.02)
    assert interval[1] == pytest.approx(naive_macro[1], abs=0.02)


def test_a_clearly_better_challenger_has_an_interval_above_zero() -> None:
    truth, champion, challenger, _w = _data(200, 0.35, 0.02, seed=5)
    report = compare_on(truth, champion, challenger, np.ones(200), replicates=1000)
    difference = report["macro_f1"]["difference"]
    assert difference["value"] > 0.2
    assert 0 < difference["low"] <= difference["value"] <= difference["high"]
    for code in CODES:
        row = report["per_code"][code]
        assert row["f1_difference"]["low"] > 0
        assert row["challenger"]["f1"]["value"] > row["champion"]["f1"]["value"]
        assert row["champion"]["recall"]["value"] == pytest.approx(
            (truth[:, CODE_INDEX[code]] & champion[:, CODE_INDEX[code]]).sum()
            / truth[:, CODE_INDEX[code]].sum()
        )
    # the other way round, the interval is below zero
    reverse = compare_on(truth, challenger, champion, np.ones(200), replicates=1000)
    assert reverse["macro_f1"]["difference"]["high"] < 0


def test_the_same_flags_differ_by_exactly_zero() -> None:
    truth, a, _b, w = _data(80, 0.2, 0.2, seed=7)
    paired = paired_f1_differences(truth, a, a.copy(), w, COLUMNS, replicates=200)
    assert paired.macro == (0.0, (0.0, 0.0))
    assert all(value == 0.0 and interval == (0.0, 0.0) for value, interval in paired.per_code)


def test_no_items_gives_no_figures() -> None:
    empty = np.zeros((0, len(CODE_LIST)), dtype=bool)
    paired = paired_f1_differences(empty, empty, empty, np.ones(0), COLUMNS)
    assert paired.macro == (None, None)
