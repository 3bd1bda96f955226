"""Shadow mode: challengers run on live traffic after the champion, and nothing they find leaves
the ``shadow_results`` table.

When an item's QC job completes, :func:`after_job` (registered with the worker by the
composition root) enqueues one durable ``shadow`` job per challenger and item in the same
transaction, so a crash loses none. :class:`ShadowRunner` runs one configuration on one item:
it reads the item's stored input (no status change), runs the configuration's engine outside any
transaction, and stores what it found keyed by (configuration, item). It never writes findings,
Observations or outbox entries, so shadow results are never published nor written back.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import queue
from service.config import Settings
from service.db import Database
from service.engines.base import Finding
from service.loop.challenger import ConfiguredEngine, Outcome
from service.loop.engine_configs import CHALLENGER, EngineParams, EngineRegistry
from service.loop.models import EngineConfig, ShadowResult
from service.models import Item, utcnow
from service.pipeline import Pipeline

log = logging.getLogger(__name__)

SHADOW = "shadow"
CANARY = "canary"
SHADOW_MAX_ATTEMPTS = 3

JobHook = Callable[[Session, queue.ClaimedJob], None]


def shadow_key(config_id: int, item_id: int) -> str:
    return f"shadow:{config_id}:{item_id}"


def enqueue_shadow(session: Session, item_id: int, config_ids: list[int]) -> None:
    """Queue (again, if the item was processed again) a shadow run per configuration."""
    for config_id in config_ids:
        queue.enqueue(
            session,
            SHADOW,
            shadow_key(config_id, item_id),
            item_id=item_id,
            target=str(config_id),
            max_attempts=SHADOW_MAX_ATTEMPTS,
            requeue=True,
        )


def after_job(canary_rate: float = 0.0, rng: random.Random | None = None) -> JobHook:
    """The worker hook: after a QC job, shadow jobs for every challenger and, at
    ``canary_rate``, a canary job for a report item."""
    draw = rng or random.Random()
    lock = threading.Lock()

    def hook(session: Session, job: queue.ClaimedJob) -> None:
        if job.kind != queue.QC or job.item_id is None:
            return
        challengers = list(
            session.scalars(select(EngineConfig.id).where(EngineConfig.role == CHALLENGER))
        )
        enqueue_shadow(session, job.item_id, challengers)
        if canary_rate <= 0:
            return
        with lock:
            chosen = draw.random() < canary_rate
        if chosen and session.scalar(select(Item.kind).where(Item.id == job.item_id)) == "report":
            queue.enqueue(
                session,
                CANARY,
                f"canary:{job.item_id}",
                item_id=job.item_id,
                max_attempts=SHADOW_MAX_ATTEMPTS,
            )

    return hook


def finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code,
        "severity": str(finding.severity),
        "message": finding.message,
        "confidence": finding.confidence,
        "engine": finding.engine,
        "engine_version": finding.engine_version,
        "evidence": finding.evidence,
    }


class ShadowRunner:
    """Runs stored configurations on stored items; engines are built once per configuration."""

    def __init__(self, db: Database, pipeline: Pipeline, settings: Settings) -> None:
        self.db = db
        self.pipeline = pipeline
        self.settings = settings
        self.registry = EngineRegistry(db)
        self._engines: dict[int, ConfiguredEngine] = {}
        self._lock = threading.Lock()

    def engine(self, config: EngineConfig) -> ConfiguredEngine:
        with self._lock:
            engine = self._engines.get(config.id)
            if engine is None:
                params = EngineParams.stored(config.parameters)
                engine = ConfiguredEngine(params, self.settings, self.pipeline)
                self._engines[config.id] = engine
            return engine

    def run(self, config_id: int, item_id: int, source: str = SHADOW) -> Outcome:
        config = self.registry.get(config_id)
        outcome = self.engine(config).review(self.pipeline.stored_input(item_id))
        self.store(config_id, item_id, source, outcome)
        return outcome

    def run_job(self, job: queue.ClaimedJob) -> None:
        assert job.item_id is not None and job.target is not None
        self.run(int(job.target), job.item_id)

    def store(self, config_id: int, item_id: int, source: str, outcome: Outcome) -> None:
        values = {
            "source": source,
            "findings": [finding_json(f) for f in outcome.findings],
            "codes": outcome.codes,
            "error": outcome.error,
            "created_at": utcnow(),
        }
        with self.db.transaction() as session:
            row = session.scalar(
                select(ShadowResult)
                .where(ShadowResult.config_id == config_id, ShadowResult.item_id == item_id)
                .with_for_update()
            )
            if row is None:
                session.add(ShadowResult(config_id=config_id, item_id=item_id, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
        log.info(
            "%s run of configuration %s on item %s: %d findings",
            source,
            config_id,
            item_id,
            len(outcome.findings),
        )

    def close(self) -> None:
        with self._lock:
            for engine in self._engines.values():
                engine.close()
            self._engines.clear()
