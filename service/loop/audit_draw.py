"""Drawing items for audit (issue 5 §3) with known inclusion probabilities.

Each candidate item falls in exactly one stratum, the first that applies in this order:
``critical`` (a critical finding), ``disagreement`` (the rules and the LLM flagged different
codes), ``rare_code`` (a code with few audits so far), ``low_confidence`` (a finding below the
confidence floor), ``flagged`` (any other flagged item), ``passed`` (no finding; the sample
recall is estimated from). Items are drawn independently (Poisson sampling) with their stratum's
rate, so an item's inclusion probability is exactly that rate and the evaluation can weight it by
the inverse. The daily quota is spent by stratum in the same order: when a stratum would overrun
what is left, its rate is scaled down to fit (and that scaled rate is what is recorded).

Passed items are what recall is estimated from, so they are never starved (issue 15): their rate
is raised so that at least ``passed_min`` of them are expected in a draw (all of them when there
are fewer), and a share of the quota (``passed_share``) is kept for them before the flagged
strata spend it.

(Loading the audited items for evaluation is :mod:`service.loop.audited_sample`.)
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, selectinload

from service.config import Settings
from service.db import Database
from service.loop.models import AuditFinding, AuditSelection
from service.models import FindingRow, Item, ItemStatus, utcnow

log = logging.getLogger(__name__)

STRATA = ("critical", "disagreement", "rare_code", "low_confidence", "flagged", "passed")


@dataclass(frozen=True, slots=True)
class SamplingPlan:
    """Rates per stratum (0..1), the thresholds that define strata, and the daily quota."""

    rates: dict[str, float] = field(
        default_factory=lambda: {
            "critical": 1.0,
            "disagreement": 1.0,
            "rare_code": 1.0,
            "low_confidence": 0.5,
            "flagged": 0.1,
            "passed": 0.05,
        }
    )
    low_confidence: float = 0.6
    rare_code_audits: int = 20  # a code with fewer audited findings than this is rare
    daily_quota: int = 200
    passed_min: int = 5  # passed items expected in a draw at least (all, when fewer)
    passed_share: float = 0.1  # of the quota, kept for passed items before flagged strata

    @classmethod
    def from_settings(cls, settings: Settings) -> SamplingPlan:
        return cls(
            low_confidence=settings.audit_low_confidence,
            daily_quota=settings.audit_daily_quota,
            passed_min=settings.audit_passed_min,
            passed_share=settings.audit_passed_share,
        )

    def passed_rate(self, passed: int) -> float:
        """The passed stratum's rate for ``passed`` candidates, before the quota."""
        if passed == 0:
            return 0.0
        rate = min(max(self.rates.get("passed", 0.0), 0.0), 1.0)
        return min(max(rate, self.passed_min / passed), 1.0)


@dataclass(frozen=True, slots=True)
class Candidate:
    """What the sampler needs to know about an item: its id and its findings in brief."""

    item_id: int
    kind: str
    findings: tuple[tuple[str, str, str, float], ...]  # (code, engine, severity, confidence)


def stratum_of(candidate: Candidate, plan: SamplingPlan, rare: frozenset[str]) -> str:
    found = candidate.findings
    if any(severity == "critical" for _, _, severity, _ in found):
        return "critical"
    by_engine: dict[str, set[str]] = defaultdict(set)
    for code, engine, _, _ in found:
        by_engine[engine].add(code)
    if "rules" in by_engine and "llm" in by_engine and by_engine["rules"] != by_engine["llm"]:
        return "disagreement"
    if any(code in rare for code, _, _, _ in found):
        return "rare_code"
    if any(confidence < plan.low_confidence for _, _, _, confidence in found):
        return "low_confidence"
    return "flagged" if found else "passed"


@dataclass(frozen=True, slots=True)
class Draw:
    item_id: int
    stratum: str
    probability: float


def draw(
    candidates: Sequence[Candidate],
    plan: SamplingPlan,
    *,
    rare: frozenset[str] = frozenset(),
    budget: int | None = None,
    rng: random.Random | None = None,
) -> list[Draw]:
    """The items drawn for audit, each with its inclusion probability. Pure: no database."""
    rng = rng or random.Random()
    left = plan.daily_quota if budget is None else budget
    strata: dict[str, list[Candidate]] = defaultdict(list)
    for candidate in candidates:
        strata[stratum_of(candidate, plan, rare)].append(candidate)
    passed = strata.get("passed", [])
    passed_rate = plan.passed_rate(len(passed))
    wanted = math.ceil(passed_rate * len(passed))
    reserve = min(wanted, max(1, math.ceil(left * plan.passed_share)), left)
    drawn: list[Draw] = []
    left -= reserve
    for name in STRATA:
        members = strata.get(name, [])
        if name == "passed":
            rate, left = passed_rate, left + reserve
        else:
            rate = min(max(plan.rates.get(name, 0.0), 0.0), 1.0)
        if not members or rate <= 0 or left <= 0:
            continue
        if rate * len(members) > left:
            rate = left / len(members)
        picked = [Draw(c.item_id, name, rate) for c in members if rng.random() < rate]
        drawn.extend(picked[:left])
        left -= len(picked[:left])
    return drawn


class AuditSampler:
    """Draws today's audit sample from processed items not drawn before, within the quota."""

    def __init__(self, db: Database, plan: SamplingPlan | None = None) -> None:
        self.db = db
        self.plan = plan or SamplingPlan()

    def run(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        seed: int | None = None,
        now: dt.datetime | None = None,
    ) -> list[Draw]:
        today = (now or utcnow()).date().isoformat()
        with self.db.transaction() as session:
            used = session.scalar(select(func.count()).where(AuditSelection.selected_on == today))
            budget = max(self.plan.daily_quota - int(used or 0), 0)
            if budget == 0:
                log.info("audit quota for %s already used", today)
                return []
            candidates = _candidates(session, since, until)
            drawn = draw(
                candidates,
                self.plan,
                rare=_rare_codes(session, self.plan.rare_code_audits),
                budget=budget,
                rng=random.Random(seed),
            )
            for entry in drawn:
                session.add(
                    AuditSelection(
                        item_id=entry.item_id,
                        strategy=entry.stratum,
                        inclusion_probability=entry.probability,
                        selected_on=today,
                    )
                )
        log.info("drew %d of %d items for audit", len(drawn), len(candidates))
        return drawn


def _candidates(
    session: Session, since: dt.datetime | None, until: dt.datetime | None
) -> list[Candidate]:
    already = exists().where(AuditSelection.item_id == Item.id)
    stmt = (
        select(Item)
        .where(Item.status == ItemStatus.DONE, ~already)
        .options(selectinload(Item.findings))
        .order_by(Item.id)
    )
    if since is not None:
        stmt = stmt.where(Item.received_at >= since)
    if until is not None:
        stmt = stmt.where(Item.received_at < until)
    return [
        Candidate(
            item.id,
            item.kind,
            tuple((f.code, f.engine, f.severity, f.confidence) for f in item.findings),
        )
        for item in session.scalars(stmt)
    ]


def _rare_codes(session: Session, threshold: int) -> frozenset[str]:
    """Codes flagged on items but audited fewer than ``threshold`` times."""
    audited = dict(
        session.execute(select(AuditFinding.code, func.count()).group_by(AuditFinding.code)).all()
    )
    flagged = session.scalars(select(FindingRow.code).distinct()).all()
    return frozenset(code for code in flagged if audited.get(code, 0) < threshold)
