"""Liveness, readiness and Prometheus metrics (DESIGN §6). Health is open: no token needed.

- ``GET /healthz``: the process answers.
- ``GET /readyz``: the database answers (and has the schema); reports the queue depth.
- ``GET /metrics``: only with a token or from loopback (:mod:`service.api.metrics_access`); what
  the collectors of :mod:`service.api.collectors` gather: the in-process metrics of
  :mod:`service.metrics` and counts read from the database at scrape time.

Database checks run on a small dedicated thread pool with a deadline, so a database that hangs
(a dropped network, a full connection pool) makes these endpoints answer "unavailable" quickly
instead of hanging the probe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from service import queue
from service.api.collectors import DatabaseCounts, metrics_registry, read_counts
from service.api.deps import components
from service.api.metrics_access import require_metrics_access
from service.db import Database

log = logging.getLogger(__name__)

router = APIRouter()

CHECK_TIMEOUT_SECONDS = 2.0
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


# -- metrics (the collectors are in service.api.collectors) ----------------------------------


def _read_counts(db: Database) -> DatabaseCounts:
    with db.reader() as session:
        return read_counts(session)


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
