"""The closed loop's part of a worker: its job handlers, its completion hook and its periodic
tasks, assembled once so the composition root adds them in three lines.

- ``shadow``: a challenger on one item (:mod:`service.loop.shadow`), queued after each QC job;
- ``canary``: an injected copy of a report item (:mod:`service.loop.canary`), at
  ``RADQC_CANARY_RATE``;
- after each QC job, the image's station and site are recorded (:mod:`service.loop.sites`);
- ``audit_sample``: the scheduled audit draw (:mod:`service.loop.schedule`), every
  ``RADQC_AUDIT_SAMPLE_INTERVAL_SECONDS`` when that is above 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from service import queue
from service.config import Settings
from service.db import Database
from service.loop.audit_draw import AuditSampler, SamplingPlan
from service.loop.canary import CanaryRunner
from service.loop.schedule import AUDIT_SAMPLE, sample_handler, sampling_task
from service.loop.shadow import CANARY, SHADOW, JobHook, ShadowRunner, after_job
from service.loop.sites import site_hook
from service.pipeline import Pipeline
from service.worker import Periodic


@dataclass
class LoopJobs:
    handlers: dict[str, Callable[[queue.ClaimedJob], None]]
    on_done: JobHook
    periodic: list[Periodic] = field(default_factory=list)
    shadow: ShadowRunner | None = None

    def close(self) -> None:
        if self.shadow is not None:
            self.shadow.close()


def loop_jobs(settings: Settings, db: Database, pipeline: Pipeline) -> LoopJobs:
    shadow = ShadowRunner(db, pipeline, settings)
    sampler = AuditSampler(db, SamplingPlan.from_settings(settings))
    handlers = {
        SHADOW: shadow.run_job,
        CANARY: CanaryRunner(shadow).run_job,
        AUDIT_SAMPLE: sample_handler(sampler),
    }
    periodic = []
    if settings.audit_sample_interval_seconds > 0:
        periodic.append(sampling_task(db, settings.audit_sample_interval_seconds))
    hooks = (after_job(settings.canary_rate), site_hook(pipeline.files))

    def on_done(session: Session, job: queue.ClaimedJob) -> None:
        for hook in hooks:
            hook(session, job)

    return LoopJobs(handlers, on_done, periodic, shadow)
