"""The audit sampler: strata, inclusion probabilities, the daily quota, and a simulation where
the truth is known showing that the weighted recall estimate's interval covers the true recall."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest

from service.loop.audit_draw import Candidate, SamplingPlan, draw, stratum_of
from service.loop.stats import ratio

PLAN = SamplingPlan()


def _c(*findings: tuple[str, str, str, float]) -> Candidate:
    return Candidate(1, "report", findings)


@pytest.mark.parametrize(
    ("candidate", "rare", "stratum"),
    [
        (_c(("report.typo", "rules", "critical", 0.9)), frozenset(), "critical"),
        (_c(("report.typo", "rules", "minor", 0.9), ("report.sex", "llm", "minor", 0.9)),
         frozenset(), "disagreement"),
        (_c(("report.typo", "rules", "minor", 0.9), ("report.typo", "llm", "minor", 0.9)),
         frozenset(), "flagged"),
        (_c(("report.sex", "rules", "minor", 0.9)), frozenset({"report.sex"}), "rare_code"),
        (_c(("report.typo", "rules", "minor", 0.3)), frozenset(), "low_confidence"),
        (_c(), frozenset(), "passed"),
    ],
)  # fmt: skip
def test_strata(candidate: Candidate, rare: frozenset[str], stratum: str) -> None:
    assert stratum_of(candidate, PLAN, rare) == stratum


def test_rates_are_the_recorded_probabilities_and_the_quota_holds() -> None:
    candidates = [
        Candidate(i, "report", () if i % 4 else (("report.typo", "rules", "critical", 0.9),))
        for i in range(4000)
    ]
    plan = SamplingPlan(rates={"critical": 1.0, "passed": 0.1}, daily_quota=10**6)
    drawn = draw(candidates, plan, rng=random.Random(1))
    by = {d.stratum: d.probability for d in drawn}
    assert by == {"critical": 1.0, "passed": 0.1}
    assert sum(d.stratum == "critical" for d in drawn) == 1000  # p = 1: all of them
    passed = sum(d.stratum == "passed" for d in drawn)
    assert abs(passed - 300) < 4 * (3000 * 0.1 * 0.9) ** 0.5
    # with a quota, the critical stratum comes first and the rest is scaled to fit
    limited = draw(
        candidates,
        SamplingPlan(rates={"critical": 1.0, "passed": 0.1}, daily_quota=1100),
        rng=random.Random(2),
    )
    assert len(limited) <= 1100
    scaled = {d.stratum: d.probability for d in limited}
    # a tenth of the quota is kept for passed items; the critical stratum gets the rest
    assert scaled["critical"] == pytest.approx(990 / 1000)
    assert scaled["passed"] == pytest.approx(110 / 3000, rel=0.1)
    assert sum(d.stratum == "passed" for d in limited) > 80


def test_passed_items_are_drawn_in_small_populations_too() -> None:
    """Issue 15: 57 items, 33 flagged with codes never audited (rare, drawn at rate 1) and 24
    passed: before the fix a draw usually held no passed item (rate 0.05), so the errors the
    engine missed could never reach an auditor."""
    flagged = [Candidate(i, "report", (("report.typo", "rules", "major", 0.9),)) for i in range(33)]
    passed = [Candidate(100 + i, "report", ()) for i in range(24)]
    rare = frozenset({"report.typo"})
    with_passed = 0
    for seed in range(300):
        drawn = draw([*flagged, *passed], PLAN, rare=rare, rng=random.Random(seed))
        got = [d for d in drawn if d.stratum == "passed"]
        assert all(d.probability == pytest.approx(5 / 24) for d in got)
        with_passed += bool(got)
    assert with_passed / 300 >= 0.99
    # fewer passed items than the minimum: every one of them is drawn
    few = draw([*flagged, *passed[:3]], PLAN, rare=rare, rng=random.Random(0))
    assert sorted(d.item_id for d in few if d.stratum == "passed") == [100, 101, 102]


def test_a_full_quota_still_leaves_room_for_passed_items() -> None:
    flagged = [
        Candidate(i, "report", (("report.typo", "rules", "major", 0.9),)) for i in range(500)
    ]
    passed = [Candidate(1000 + i, "report", ()) for i in range(500)]
    plan = SamplingPlan(daily_quota=20)
    drawn = draw([*flagged, *passed], plan, rare=frozenset({"report.typo"}), rng=random.Random(3))
    assert len(drawn) <= 20
    got = [d for d in drawn if d.stratum == "passed"]
    assert got and all(5 / 500 <= d.probability <= 20 / 500 for d in got)


@dataclass
class Population:
    errors: np.ndarray
    flagged: np.ndarray
    critical: np.ndarray

    @property
    def true_recall(self) -> float:
        return float((self.errors & self.flagged).sum() / self.errors.sum())


def _population(seed: int, n: int = 10_000) -> Population:
    rng = np.random.default_rng(seed)
    errors = rng.random(n) < 0.25
    flagged = np.where(errors, rng.random(n) < 0.8, rng.random(n) < 0.05)
    return Population(errors, flagged, flagged & (rng.random(n) < 0.1))


def _audit_round(seed: int, plan: SamplingPlan) -> tuple[bool, bool, float, int]:
    """Sample, let a scripted auditor tell the truth, estimate recall from the audits."""
    population = _population(seed)
    candidates = [
        Candidate(
            i, "report", (("report.typo", "rules", "critical" if c else "major", 0.9),) if f else ()
        )
        for i, (f, c) in enumerate(zip(population.flagged, population.critical, strict=True))
    ]
    drawn = draw(candidates, plan, rng=random.Random(seed))
    rows = np.array([d.item_id for d in drawn])
    weights = np.array([1 / d.probability for d in drawn])
    truth = population.errors[rows].astype(float)  # the scripted auditor knows the truth
    hits = (population.errors & population.flagged)[rows].astype(float)
    weighted = ratio(hits, truth, weights)
    naive = ratio(hits, truth, np.ones(len(rows)))
    assert weighted.low is not None and weighted.high is not None
    assert naive.low is not None and naive.high is not None
    covered = weighted.low <= population.true_recall <= weighted.high
    naive_covered = naive.low <= population.true_recall <= naive.high
    return covered, naive_covered, (weighted.high - weighted.low) / 2, len(rows)


RUNS = 300


@pytest.mark.parametrize(
    ("design", "rates", "max_half_width"),
    [
        ("10% of every stratum", {"critical": 0.1, "flagged": 0.1, "passed": 0.1}, 0.05),
        (
            "every critical, 5% flagged, 10% passed",
            {"critical": 1.0, "flagged": 0.05, "passed": 0.1},
            None,
        ),
    ],
)
def test_simulation_weighted_recall_interval(
    design: str, rates: dict[str, float], max_half_width: float | None
) -> None:
    plan = SamplingPlan(rates=rates, daily_quota=10**9)
    results = [_audit_round(seed, plan) for seed in range(RUNS)]
    coverage = float(np.mean([r[0] for r in results]))
    naive = float(np.mean([r[1] for r in results]))
    half = float(np.mean([r[2] for r in results]))
    audits = float(np.mean([r[3] for r in results]))
    print(
        f"\n{design}: {audits:.0f} audits of 10,000 items; weighted recall 95% interval covers the "
        f"true recall in {coverage:.1%} of {RUNS} runs (unweighted: {naive:.1%}); "
        f"mean half-width {100 * half:.2f} points"
    )
    assert coverage >= 0.90
    if max_half_width is not None:
        assert half <= max_half_width
    if rates["critical"] != rates["passed"]:
        assert naive < 0.5  # unequal probabilities without weights: biased, the interval misses
