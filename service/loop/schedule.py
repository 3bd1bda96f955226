"""The audit draw on a schedule (issue 5 §3): every ``RADQC_AUDIT_SAMPLE_INTERVAL_SECONDS``.

Every worker carries the periodic task, and each enqueues the same keyed job for the current
time slot (``audit_sample:<slot>``), so however many workers run, one of them draws once per
slot. The draw itself is :class:`AuditSampler`, which spends only what is left of the day's quota.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from service import queue
from service.db import Database
from service.loop.audit_draw import AuditSampler
from service.worker import Periodic

log = logging.getLogger(__name__)

AUDIT_SAMPLE = "audit_sample"


def slot_key(interval: float, now: float) -> str:
    return f"{AUDIT_SAMPLE}:{int(now // interval)}"


def sampling_task(
    db: Database, interval: float, clock: Callable[[], float] = time.time
) -> Periodic:
    """A worker task that enqueues the audit draw of the current slot (idempotent by key)."""

    def enqueue() -> None:
        with db.transaction() as session:
            queue.enqueue(session, AUDIT_SAMPLE, slot_key(interval, clock()), max_attempts=3)

    # Checked more often than the interval, so a slot is not missed by a worker's drift.
    return Periodic(interval=min(interval, 60.0), run=enqueue, name=AUDIT_SAMPLE)


def sample_handler(sampler: AuditSampler) -> Callable[[queue.ClaimedJob], None]:
    def run(job: queue.ClaimedJob) -> None:
        drawn = sampler.run()
        log.info("scheduled audit draw %s: %d items", job.key, len(drawn))

    return run
