"""The Prometheus collectors behind ``GET /metrics`` (:mod:`service.api.health` serves them).

Two sources, one fresh registry per scrape (:func:`metrics_registry`):

- the in-process metrics of :mod:`service.metrics`, aggregated over this host's processes when
  ``PROMETHEUS_MULTIPROC_DIR`` is set;
- :class:`DatabaseCollector`: gauges from counts read from the database at scrape time
  (:func:`read_counts`), which are right across processes and hosts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import get_args

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import queue
from service.models import FindingRow, Item, ItemStatus, Job, JobStatus, OutboxEntry, utcnow
from service.outbox import PENDING, EntryStatus
from service.taxonomy import CODES

log = logging.getLogger(__name__)

KINDS = ("image", "report")
JOB_KINDS = (queue.QC, queue.STUDY, queue.WRITEBACK)
OUTBOX_STATUSES: tuple[str, ...] = get_args(EntryStatus)


@dataclass(frozen=True, slots=True)
class DatabaseCounts:
    """What the database says at scrape time; a handful of GROUP BY counts."""

    items: dict[tuple[str, str], int]
    flagged: dict[str, int]
    jobs: dict[tuple[str, str], int]
    findings: dict[str, int]
    due: dict[str, int] = field(default_factory=dict)  # queued jobs whose run time has come
    outbox: dict[str, int] = field(default_factory=dict)  # outbox entries by status

    @property
    def queue_depth(self) -> int:
        active = {JobStatus.QUEUED.value, JobStatus.RUNNING.value}
        return sum(count for (_, state), count in self.jobs.items() if state in active)

    @property
    def outbox_pending(self) -> int:
        return self.outbox.get(PENDING, 0)


def read_counts(session: Session) -> DatabaseCounts:
    items = session.execute(
        select(Item.kind, Item.status, func.count()).group_by(Item.kind, Item.status)
    ).all()
    flagged = session.execute(
        select(Item.kind, func.count()).where(Item.flagged.is_(True)).group_by(Item.kind)
    ).all()
    jobs = session.execute(
        select(Job.kind, Job.status, func.count()).group_by(Job.kind, Job.status)
    ).all()
    due = session.execute(
        select(Job.kind, func.count())
        .where(Job.status == JobStatus.QUEUED, Job.run_at <= utcnow())
        .group_by(Job.kind)
    ).all()
    outbox = session.execute(
        select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
    ).all()
    findings = session.execute(
        select(FindingRow.code, func.count()).group_by(FindingRow.code)
    ).all()
    return DatabaseCounts(
        items={(kind, state): count for kind, state, count in items},
        flagged={str(kind): int(n) for kind, n in flagged},
        jobs={(kind, state): count for kind, state, count in jobs},
        findings={str(code): int(n) for code, n in findings},
        due={str(kind): int(n) for kind, n in due},
        outbox={str(status): int(n) for status, n in outbox},
    )


class DatabaseCollector(Collector):
    """Gauges from one :class:`DatabaseCounts` snapshot; ``radqc_database_up 0`` without one.

    Known label values are always exported (as 0 when absent) so series do not vanish.
    """

    def __init__(self, counts: DatabaseCounts | None) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        yield GaugeMetricFamily(
            "radqc_database_up",
            "1 if the database answered this scrape",
            value=0 if self.counts is None else 1,
        )
        if self.counts is not None:
            yield from _item_families(self.counts)
            yield from _job_families(self.counts)
            yield from _outbox_families(self.counts)
            findings = GaugeMetricFamily(
                "radqc_findings", "Stored findings by code", labels=["code"]
            )
            for code in sorted(set(CODES) | set(self.counts.findings)):
                findings.add_metric([code], self.counts.findings.get(code, 0))
            yield findings


def _item_families(counts: DatabaseCounts) -> Iterator[Metric]:
    items = GaugeMetricFamily("radqc_items", "Items by kind and status", labels=["kind", "status"])
    for key in _keys(KINDS, [s.value for s in ItemStatus], counts.items):
        items.add_metric(list(key), counts.items.get(key, 0))
    yield items
    flagged = GaugeMetricFamily(
        "radqc_items_flagged", "Items with at least one finding", labels=["kind"]
    )
    for kind in sorted(set(KINDS) | set(counts.flagged)):
        flagged.add_metric([kind], counts.flagged.get(kind, 0))
    yield flagged


def _job_families(counts: DatabaseCounts) -> Iterator[Metric]:
    yield GaugeMetricFamily("radqc_queue_depth", "Jobs queued or running", value=counts.queue_depth)
    due = GaugeMetricFamily(
        "radqc_queue_due",
        "Queued jobs whose run time has come (a worker may claim them now), by kind; "
        "a value that keeps growing means the workers do not keep up",
        labels=["kind"],
    )
    for kind in sorted(set(JOB_KINDS) | set(counts.due)):
        due.add_metric([kind], counts.due.get(kind, 0))
    yield due
    jobs = GaugeMetricFamily("radqc_jobs", "Jobs by kind and status", labels=["kind", "status"])
    for key in _keys(JOB_KINDS, [s.value for s in JobStatus], counts.jobs):
        jobs.add_metric(list(key), counts.jobs.get(key, 0))
    yield jobs
    dead = sum(n for (_, state), n in counts.jobs.items() if state == JobStatus.FAILED)
    yield GaugeMetricFamily(
        "radqc_jobs_dead_lettered", "Jobs that failed every allowed attempt", value=dead
    )


def _outbox_families(counts: DatabaseCounts) -> Iterator[Metric]:
    yield GaugeMetricFamily(
        "radqc_outbox_pending",
        "Observation versions waiting for write-back",
        value=counts.outbox_pending,
    )
    outbox = GaugeMetricFamily(
        "radqc_outbox",
        "Write-back outbox entries by status (pending, delivered, refused, discarded, superseded)",
        labels=["status"],
    )
    for status in sorted(set(OUTBOX_STATUSES) | set(counts.outbox)):
        outbox.add_metric([status], counts.outbox.get(status, 0))
    yield outbox


def _keys(
    first: tuple[str, ...] | list[str], second: list[str], seen: dict[tuple[str, str], int]
) -> list[tuple[str, str]]:
    return sorted({(a, b) for a in first for b in second} | set(seen))


class _InProcess(Collector):
    """This process's own metrics (the default registry)."""

    def collect(self) -> Iterator[Metric]:
        return iter(REGISTRY.collect())


def metrics_registry(counts: DatabaseCounts | None) -> CollectorRegistry:
    """A fresh registry for one scrape: in-process (or multiprocess) metrics and the database's."""
    registry = CollectorRegistry(auto_describe=False)
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    try:
        if path:
            MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
        else:
            registry.register(_InProcess())
    except ValueError as exc:  # the multiprocess folder is missing
        log.warning("PROMETHEUS_MULTIPROC_DIR unusable (%s); exporting this process only", exc)
        registry.register(_InProcess())
    registry.register(DatabaseCollector(counts))
    return registry
