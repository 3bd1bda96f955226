"""Live QC runs the champion (issue 5 §4): a worker's engines follow the promoted engine
configuration, swapped between jobs.

When the worker is built and then every ``RADQC_ENGINE_REFRESH_SECONDS`` (a worker periodic task,
so never while a job runs), :class:`LiveEngines` reads which configuration is the champion. When
it has changed, the champion's engines are built with the builders shadow mode uses
(:mod:`service.loop.challenger`): its rules (checks and codes left out, confidence floor, findings
stamped with its rules engine version) and its LLM stage. Then the pipeline's ``engines``,
``study_engines`` and ``llm_kinds`` are replaced, ``llm`` jobs go to the champion's stage, and the
previous champion's LLM stage is closed.

- No champion recorded: the engines built from the settings run, as before.
- The champion has the settings' parameters: the settings-built engines run (they are the same).
- The champion differs from the settings: the champion wins, and a warning says so once.
- The champion cannot run in this build (another rules or prompt version): an error is logged
  once for it, and the engines already running stay until a configuration this build can run
  is promoted.

A process runs one worker, so nothing else uses the pipeline while it is switched. An ``llm`` job
queued before a switch runs with the new champion's LLM, or, when the champion has none for the
item's kind, finishes the item with its rule findings.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

from service import metrics, queue
from service.config import Settings
from service.db import Database
from service.engines.base import Engine, StudyEngine
from service.llm_stage import LLMStage
from service.loop.challenger import configured_rules, llm_kinds_of, llm_stage
from service.loop.engine_configs import EngineParams, EngineRegistry, settings_fingerprint
from service.loop.models import EngineConfig
from service.pipeline import Pipeline
from service.worker import Periodic

log = logging.getLogger(__name__)

REFRESH_TASK = "engine-refresh"


@dataclass(frozen=True, slots=True)
class LiveSet:
    """The engines live QC runs, and which configuration they are (None: the settings')."""

    config_id: int | None
    label: str
    engines: Sequence[Engine]
    study_engines: Sequence[StudyEngine]
    llm_kinds: frozenset[str]
    stage: LLMStage | None
    from_settings: bool = False


def _label(config: EngineConfig) -> str:
    return f"engine configuration {config.name} v{config.version} (id {config.id})"


class LiveEngines:
    """The pipeline's engines, following the champion; one per worker."""

    def __init__(
        self, db: Database, settings: Settings, pipeline: Pipeline, stage: LLMStage | None
    ) -> None:
        self.db = db
        self.settings = settings
        self.pipeline = pipeline
        self._from_settings = LiveSet(
            None,
            "the settings' engines",
            pipeline.engines,
            pipeline.study_engines,
            pipeline.llm_kinds,
            stage,
            from_settings=True,
        )
        self.current = self._from_settings
        self._settings_fingerprint: str | None = None
        self._warned = False
        self._refused: set[int] = set()
        self._finisher: LLMStage | None = None

    @property
    def champion_id(self) -> int | None:
        """The configuration live QC runs; None while it runs the settings' engines."""
        return self.current.config_id

    def start(self) -> None:
        """Follow the champion before the first job; without a database, keep the settings'
        engines (the periodic task tries again)."""
        try:
            self.refresh()
        except Exception:
            log.exception("could not read the champion; running the settings' engines for now")
        metrics.LIVE_ENGINE_WORKERS.labels(self.current.label).set(1)

    def periodic(self, interval: float) -> Periodic:
        """The worker task that follows promotions (first run one interval after start)."""

        def run() -> None:
            self.refresh()

        return Periodic(interval, run, name=REFRESH_TASK, due=time.monotonic() + interval)

    def refresh(self) -> bool:
        """Switch to the champion if it changed; True when the engines were switched. Only
        between jobs: the worker's periodic tasks run there."""
        champion = EngineRegistry(self.db).champion()
        if champion is None or champion.id in (self.current.config_id, *self._refused):
            return False
        try:
            live = self._build(champion)
        except Exception as exc:
            self._refused.add(champion.id)
            log.error(
                "the champion, %s, cannot run in this build (%s); live QC keeps running %s "
                "until a configuration this build can run is promoted",
                _label(champion),
                exc,
                self.current.label,
            )
            return False
        self._apply(live, champion)
        return True

    def _build(self, champion: EngineConfig) -> LiveSet:
        if self._settings_fingerprint is None:
            self._settings_fingerprint = settings_fingerprint(self.settings)
        label = _label(champion)
        if champion.fingerprint == self._settings_fingerprint:
            same = self._from_settings
            return LiveSet(
                champion.id,
                label,
                same.engines,
                same.study_engines,
                same.llm_kinds,
                same.stage,
                from_settings=True,
            )
        params = EngineParams.stored(champion.parameters)
        rules = configured_rules(params)
        return LiveSet(
            champion.id,
            label,
            [rules] if rules is not None else [],
            [rules] if rules is not None else [],
            llm_kinds_of(params),
            llm_stage(params, self.settings, self.pipeline),
        )

    def _apply(self, live: LiveSet, champion: EngineConfig) -> None:
        previous = self.current
        self.pipeline.engines = live.engines
        self.pipeline.study_engines = live.study_engines
        self.pipeline.llm_kinds = live.llm_kinds
        self.current = live
        metrics.LIVE_ENGINE_WORKERS.labels(previous.label).set(0)
        metrics.LIVE_ENGINE_WORKERS.labels(live.label).set(1)
        if not live.from_settings and not self._warned:
            self._warned = True
            log.warning(
                "the settings describe other engines than the champion, %s: live QC runs the "
                "champion (the settings are recorded as a candidate only)",
                live.label,
            )
        log.info(
            "live QC switched from %s to %s: %s",
            previous.label,
            live.label,
            ", ".join(str(v) for v in champion.engine_versions),
        )
        self._close(previous)

    def _close(self, live: LiveSet) -> None:
        if live.stage is not None and live.stage is not self._from_settings.stage:
            live.stage.runner.close()

    def run_llm(self, job: queue.ClaimedJob) -> None:
        """The handler of ``llm`` jobs: the LLM part of an item, by the current engines."""
        assert job.item_id is not None
        stage = self.current.stage
        if stage is None:  # queued under engines with an LLM: finish the item with its rules
            if self._finisher is None:
                self._finisher = LLMStage(self.pipeline)
            stage = self._finisher
        stage.process(job.item_id)

    def close(self) -> None:
        self._close(self.current)
        for stage in (self._from_settings.stage, self._finisher):
            if stage is not None:
                stage.runner.close()
