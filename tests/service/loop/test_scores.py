"""Every evaluation figure against scikit-learn (and statsmodels-free textbook formulas) on
random data, weighted and unweighted."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score

from service.loop.scores import additional_discovery_rate, detection_rate, evaluate
from service.loop.stats import bootstrap_f1, paired_micro_f1_difference, ratio, wilson

CODES = tuple(f"c{i}" for i in range(8))


def _random(seed: int, n: int = 400) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.02, 0.4, size=len(CODES))
    truth = rng.random((n, len(CODES))) < rates
    noise = rng.random((n, len(CODES)))
    flags = np.where(truth, noise < 0.75, noise < 0.08)
    flags[:, -1] = False  # a code never flagged
    truth[:, -2] = False  # a code never true
    truth[:, 0] = flags[:, 0] = False  # a code absent: not part of the macro average
    weights = rng.choice([1.0, 2.5, 10.0], size=n)
    return truth, flags, weights


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_per_code_and_averages_match_sklearn(seed: int, weighted: bool) -> None:
    truth, flags, weights = _random(seed)
    w = weights if weighted else np.ones(len(truth))
    result = evaluate(truth, flags, w, CODES, replicates=200)
    present = [j for j in range(len(CODES)) if truth[:, j].any() or flags[:, j].any()]
    assert sorted(result["per_code"]) == sorted(CODES[j] for j in present)
    for j in present:
        figures = result["per_code"][CODES[j]]
        assert figures["tp"] == int((truth[:, j] & flags[:, j]).sum())
        assert figures["fp"] == int((~truth[:, j] & flags[:, j]).sum())
        assert figures["fn"] == int((truth[:, j] & ~flags[:, j]).sum())
        kw = {"sample_weight": w, "zero_division": 0}
        if flags[:, j].any():
            expected = precision_score(truth[:, j], flags[:, j], **kw)
            assert figures["precision"]["value"] == pytest.approx(expected)
        else:
            assert figures["precision"]["value"] is None
        if truth[:, j].any():
            expected = recall_score(truth[:, j], flags[:, j], **kw)
            assert figures["recall"]["value"] == pytest.approx(expected)
        assert figures["f1"]["value"] == pytest.approx(f1_score(truth[:, j], flags[:, j], **kw))
    macro = f1_score(truth, flags, average="macro", labels=present, sample_weight=w)
    micro = f1_score(truth, flags, average="micro", labels=present, sample_weight=w)
    assert result["macro_f1"]["value"] == pytest.approx(macro)
    assert result["micro_f1"]["value"] == pytest.approx(micro)
    for name in ("macro_f1", "micro_f1"):
        assert result[name]["low"] <= result[name]["value"] <= result[name]["high"]


def test_detection_rate_is_item_level_recall() -> None:
    truth, flags, weights = _random(7)
    has = truth.any(axis=1)
    hit = (truth & flags).any(axis=1)
    expected = recall_score(has, hit, sample_weight=weights)
    assert detection_rate(truth, flags, weights).value == pytest.approx(expected)


def test_additional_discovery_rate_counts_errors_beyond_the_reference() -> None:
    truth, _flags, weights = _random(8)
    rng = np.random.default_rng(8)
    reference = truth & (rng.random(truth.shape) < 0.8)  # 20% found only on review
    figures = additional_discovery_rate(truth, reference, np.ones(len(truth)))
    extra = int((truth & ~reference).sum())
    assert figures["additional"] == extra
    assert figures["value"] == pytest.approx(extra / reference.sum())
    assert figures["low"] < figures["value"] < figures["high"]
    weighted = additional_discovery_rate(truth, reference, weights)
    expected = np.dot(weights, (truth & ~reference).sum(1)) / np.dot(weights, reference.sum(1))
    assert weighted["value"] == pytest.approx(expected)


def test_wilson_matches_the_textbook_formula() -> None:
    # Wilson (1927) for 8/10: the published interval 0.4902-0.9433
    low, high = wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 20)[0] == 0.0


def test_unweighted_ratio_interval_is_plain_wilson() -> None:
    rng = np.random.default_rng(3)
    x = (rng.random(300) < 0.6).astype(float)
    y = x * (rng.random(300) < 0.7)
    estimate = ratio(y, x, np.ones(300))
    low, high = wilson(y.sum(), x.sum())
    assert estimate.value == pytest.approx(y.sum() / x.sum())
    assert (estimate.low, estimate.high) == (pytest.approx(low), pytest.approx(high))
    assert estimate.n == int(x.sum())


def test_bootstrap_f1_equals_item_resampling() -> None:
    """Pooling identical rows is an optimisation: intervals agree with a naive bootstrap."""
    truth, flags, weights = _random(11, n=300)
    columns = [1, 2, 3]
    pooled = bootstrap_f1(truth, flags, weights, columns, replicates=2000, seed=5)
    rng = np.random.default_rng(6)
    naive = []
    for _ in range(2000):
        pick = rng.integers(0, len(truth), len(truth))
        naive.append(f1_score(truth[pick][:, 2], flags[pick][:, 2], sample_weight=weights[pick]))
    low, high = np.percentile(naive, [2.5, 97.5])
    interval = pooled.per_code[1]
    assert interval is not None
    assert interval[0] == pytest.approx(low, abs=0.02)
    assert interval[1] == pytest.approx(high, abs=0.02)


def test_paired_difference_of_micro_f1() -> None:
    truth, flags, weights = _random(21)
    rng = np.random.default_rng(21)
    worse = flags & (rng.random(flags.shape) < 0.6)  # B drops 40% of A's flags
    value, interval = paired_micro_f1_difference(truth, flags, worse, weights, replicates=500)
    a = f1_score(truth, flags, average="micro", sample_weight=weights)
    b = f1_score(truth, worse, average="micro", sample_weight=weights)
    assert value == pytest.approx(a - b)
    assert interval is not None and 0 < interval[0] <= value <= interval[1]
    same, same_interval = paired_micro_f1_difference(truth, flags, flags, weights, replicates=50)
    assert same == 0 and same_interval == (0.0, 0.0)
