"""Liveness, readiness and Prometheus metrics (DESIGN §6). Health is open: no token needed.

- ``GET /healthz``: the process answers.
- ``GET /readyz``: the database answers (and has the schema); reports the queue depth.
- ``GET /metrics``: only with a token or from loopback (:mod:`service.api.metrics_access`); the
  in-process metrics of :mod:`service.metrics` (aggregated over this host's
  processes when ``PROMETHEUS_MULTIPROC_DIR`` is set), plus counts read from the database at
  scrape time, which are right across processes and hosts.

Database checks run on a small dedicated thread pool with a deadline, so a database that hangs
(a dropped network, a full connection pool) makes these endpoints answer "unavailable" quickly
instead of hanging the probe.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service import queue
from service.api.deps import components
from service.api.metrics_access import require_metrics_access
from service.db import Database
from service.models import Finding, Item, ItemStatus, Job, JobStatus, OutboxEntry
from service.taxonomy import CODES

log = logging.getLogger(__name__)

router = APIRouter()

CHECK_TIMEOUT_SECONDS = 2.0
KINDS = ("image", "report")
JOB_KINDS = (queue.QC, queue.STUDY, queue.WRITEBACK)
_probes = ThreadPoolExecutor(max_workers=4, thread_name_prefix="radqc-db-probe")
_T = TypeVar("_T")


class DatabaseUnavailable(Exception):
    """The database did not answer in time or answered with an error."""


async def _probe(check: Callable[[], _T]) -> _T:
    """Run ``check`` on the probe pool; :class:`DatabaseUnavailable` on error or timeout."""
    future = asyncio.get_running_loop().run_in_executor(_probes, check)
    try:
        return await asyncio.wait_for(future, CHECK_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise DatabaseUnavailable(f"no answer within {CHECK_TIMEOUT_SECONDS:g} s") from exc
    except Exception as exc:
        log.warning("database check failed: %s", type(exc).__name__)
        raise DatabaseUnavailable(f"not reachable ({type(exc).__name__})") from exc


# -- liveness and readiness -----------------------------------------------------------------


@router.get("/healthz", summary="Liveness: the process answers")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _queue_depth(db: Database) -> int:
    with db.reader() as session:
        return queue.queue_depth(session)


@router.get(
    "/readyz",
    summary="Readiness: the database answers",
    responses={503: {"description": "the database is not reachable"}},
)
async def readyz(request: Request) -> JSONResponse:
    db = components(request).db
    try:
        depth = await _probe(lambda: _queue_depth(db))
    except DatabaseUnavailable as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)}, status_code=503)
    return JSONResponse({"status": "ready", "database": "ok", "queue_depth": depth})


# -- metrics --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DatabaseCounts:
    """What the database says at scrape time; a handful of GROUP BY counts."""

    items: dict[tuple[str, str], int]
    flagged: dict[str, int]
    jobs: dict[tuple[str, str], int]
    outbox_pending: int
    findings: dict[str, int]

    @property
    def queue_depth(self) -> int:
        active = {JobStatus.QUEUED.value, JobStatus.RUNNING.value}
        return sum(count for (_, state), count in self.jobs.items() if state in active)


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
    pending = session.scalar(
        select(func.count()).select_from(OutboxEntry).where(OutboxEntry.status == "pending")
    )
    findings = session.execute(select(Finding.code, func.count()).group_by(Finding.code)).all()
    return DatabaseCounts(
        items={(kind, state): count for kind, state, count in items},
        flagged={str(kind): int(n) for kind, n in flagged},
        jobs={(kind, state): count for kind, state, count in jobs},
        outbox_pending=int(pending or 0),
        findings={str(code): int(n) for code, n in findings},
    )


def _read_counts(db: Database) -> DatabaseCounts:
    with db.reader() as session:
        return read_counts(session)


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
            yield from self._families(self.counts)

    @staticmethod
    def _families(counts: DatabaseCounts) -> Iterator[Metric]:
        items = GaugeMetricFamily(
            "radqc_items", "Items by kind and status", labels=["kind", "status"]
        )
        for key in _keys(KINDS, [s.value for s in ItemStatus], counts.items):
            items.add_metric(list(key), counts.items.get(key, 0))
        yield items
        flagged = GaugeMetricFamily(
            "radqc_items_flagged", "Items with at least one finding", labels=["kind"]
        )
        for kind in sorted(set(KINDS) | set(counts.flagged)):
            flagged.add_metric([kind], counts.flagged.get(kind, 0))
        yield flagged
        yield GaugeMetricFamily(
            "radqc_queue_depth", "Jobs queued or running", value=counts.queue_depth
        )
        jobs = GaugeMetricFamily("radqc_jobs", "Jobs by kind and status", labels=["kind", "status"])
        for key in _keys(JOB_KINDS, [s.value for s in JobStatus], counts.jobs):
            jobs.add_metric(list(key), counts.jobs.get(key, 0))
        yield jobs
        dead = sum(n for (_, state), n in counts.jobs.items() if state == JobStatus.FAILED)
        yield GaugeMetricFamily(
            "radqc_jobs_dead_lettered", "Jobs that failed every allowed attempt", value=dead
        )
        yield GaugeMetricFamily(
            "radqc_outbox_pending",
            "Observation versions waiting for write-back",
            value=counts.outbox_pending,
        )
        findings = GaugeMetricFamily("radqc_findings", "Stored findings by code", labels=["code"])
        for code in sorted(set(CODES) | set(counts.findings)):
            findings.add_metric([code], counts.findings.get(code, 0))
        yield findings


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


@router.get(
    "/metrics",
    summary="Prometheus metrics (a token, or loopback clients only: see metrics_access)",
    response_class=Response,
    dependencies=[Depends(require_metrics_access)],
    responses={401: {"description": "token missing or unknown"}, 403: {"description": "refused"}},
)
async def metrics(request: Request) -> Response:
    db = components(request).db
    counts: DatabaseCounts | None
    try:
        counts = await _probe(lambda: _read_counts(db))
    except DatabaseUnavailable:
        counts = None
    body = generate_latest(metrics_registry(counts))
    return Response(body, media_type=CONTENT_TYPE_LATEST)
