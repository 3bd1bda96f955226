"""Canaries (issue 5 §4): synthetic copies of real report items with one known injected error,
run in shadow through the champion (what live QC runs) and every challenger, to track recall by
code continuously.

The copy exists only in memory: it is never stored as an item, its findings are never stored,
published or written back; only whether each configuration caught the injected code is kept
(:class:`CanaryResult`). The injectors are a small set here rather than ``bench/quality``'s
(the service must not import the benchmarks); each returns None when it does not apply to a
report, and the item then yields no canary.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, cast, func, select

from service import metrics, queue
from service.db import Database
from service.engines.base import ReportInput
from service.loop.engine_configs import EngineRegistry
from service.loop.models import CanaryResult
from service.loop.shadow import ShadowRunner
from service.loop.stats import wilson
from service.models import utcnow
from service.reports.sections import sections_dict, split_sections

log = logging.getLogger(__name__)

WINDOW_DAYS = 30


@dataclass(frozen=True, slots=True)
class Injected:
    text: str
    code: str
    form: str


Injector = Callable[[str, random.Random], Injected | None]
_IMPRESSION = ("impression", "conclusion", "opinion")
_SIDE = re.compile(r"\b(left|right|Left|Right|LEFT|RIGHT)\b")
_SWAP = {"left": "right", "right": "left", "Left": "Right", "Right": "Left"}
_SWAP |= {"LEFT": "RIGHT", "RIGHT": "LEFT"}


def _section(text: str, names: tuple[str, ...]) -> tuple[int, int] | None:
    """(heading start, body end) of the first section with one of ``names``."""
    for section in split_sections(text):
        if section.name.lower() in names and section.heading:
            start = text.rfind(section.heading, 0, section.start)
            return (start if start >= 0 else section.start, section.end)
    return None


def drop_impression(text: str, _rng: random.Random) -> Injected | None:
    span = _section(text, _IMPRESSION)
    if span is None:
        return None
    return Injected((text[: span[0]] + text[span[1] :]).strip(), "report.omission", "no_impression")


def placeholder(text: str, rng: random.Random) -> Injected | None:
    span = _section(text, ("findings",))
    if span is None:
        return None
    field = rng.choice(["[insert size here]", "[specify side]", "<<measurement>>"])
    at = span[1]
    return Injected(
        f"{text[:at]} Nodule measuring {field}.{text[at:]}", "report.terminology", "placeholder"
    )


def swap_side(text: str, _rng: random.Random) -> Injected | None:
    span = _section(text, _IMPRESSION)
    if span is None or not _SIDE.search(text, 0, span[0]):
        return None
    match = _SIDE.search(text, span[0], span[1])
    if match is None:
        return None
    swapped = _SWAP[match.group(1)]
    return Injected(
        text[: match.start()] + swapped + text[match.end() :], "report.laterality", "side_swap"
    )


INJECTORS: tuple[Injector, ...] = (drop_impression, placeholder, swap_side)


def inject(text: str, rng: random.Random) -> Injected | None:
    """One error from the injectors that apply to ``text``, chosen at random."""
    order = list(INJECTORS)
    rng.shuffle(order)
    for injector in order:
        injected = injector(text, rng)
        if injected is not None:
            return injected
    return None


class CanaryRunner:
    """Builds the copy of one report item and records whether each configuration caught it."""

    def __init__(self, shadow: ShadowRunner) -> None:
        self.shadow = shadow
        self.registry = EngineRegistry(shadow.db)

    def run_job(self, job: queue.ClaimedJob) -> None:
        assert job.item_id is not None
        self.run(job.item_id)

    def run(self, item_id: int, seed: int | None = None) -> list[CanaryResult]:
        original = self.shadow.pipeline.stored_input(item_id)
        if not isinstance(original, ReportInput):
            return []
        injected = inject(original.text, random.Random(item_id if seed is None else seed))
        if injected is None:
            log.info("no canary applies to item %s", item_id)
            return []
        copy = dataclasses.replace(
            original, text=injected.text, sections=sections_dict(injected.text)
        )
        # The champion is what live QC runs; before one is recorded, the settings' configuration.
        live = self.registry.champion() or self.registry.record_running(self.shadow.settings)
        configs = [live, *(c for c in self.registry.challengers() if c.id != live.id)]
        results = []
        for config in configs:
            outcome = self.shadow.engine(config).review(copy)
            results.append(
                CanaryResult(
                    config_id=config.id,
                    item_id=item_id,
                    code=injected.code,
                    form=injected.form,
                    caught=injected.code in outcome.codes,
                )
            )
        with self.shadow.db.transaction() as session:
            session.add_all(results)
        for row in canary_summary(self.shadow.db):
            metrics.CANARY_RECALL.labels(str(row["config_id"]), row["code"]).set(
                row["recall"]["value"]
            )
        return results


def canary_summary(db: Database, days: int = WINDOW_DAYS) -> list[dict[str, Any]]:
    """Recall by configuration and injected code over the last ``days``, with Wilson intervals."""
    since = utcnow() - dt.timedelta(days=days)
    stmt = (
        select(
            CanaryResult.config_id,
            CanaryResult.code,
            func.count(),
            func.sum(cast(CanaryResult.caught, Integer)),
        )
        .where(CanaryResult.created_at >= since)
        .group_by(CanaryResult.config_id, CanaryResult.code)
        .order_by(CanaryResult.config_id, CanaryResult.code)
    )
    with db.reader() as session:
        rows = session.execute(stmt).all()
    out = []
    for config_id, code, n, caught in rows:
        low, high = wilson(float(caught or 0), float(n))
        out.append(
            {
                "config_id": config_id,
                "code": code,
                "n": int(n),
                "caught": int(caught or 0),
                "recall": {"value": (caught or 0) / n, "low": low, "high": high, "n": int(n)},
            }
        )
    return out
