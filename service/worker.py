"""The worker loop: claim a job, run its handler, record the outcome; heartbeat while it runs.

Handlers are plain callables keyed by job kind, handed in by the composition root
(:mod:`service.app`), so the worker knows nothing of FHIR or DICOM networking. Two more hooks
come from there: ``on_done`` runs in the transaction that completes a job (it may enqueue
follow-up jobs, such as shadow runs of challengers, atomically with the completion), and
``periodic`` tasks run between jobs at their interval (the scheduled audit draw enqueues its job;
the engine refresh swaps in a newly promoted champion's engines, so never while a job runs).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from service import metrics, queue
from service.db import Database
from service.errors import DeliveryError

log = logging.getLogger(__name__)

Handler = Callable[[queue.ClaimedJob], None]
DeadLetterHook = Callable[[queue.ClaimedJob, str], None]
DoneHook = Callable[[Session, queue.ClaimedJob], None]


@dataclass
class Periodic:
    """A task a worker runs every ``interval`` seconds between jobs (first soon after start).
    It should be quick and idempotent across workers: enqueue a keyed job, not do the work."""

    interval: float
    run: Callable[[], None]
    name: str = "periodic"
    due: float = 0.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class WorkerConfig:
    lease_seconds: float = 60.0
    poll_seconds: float = 0.5
    retry: queue.RetryPolicy = field(default_factory=queue.RetryPolicy)


class Worker:
    def __init__(
        self,
        db: Database,
        handlers: Mapping[str, Handler],
        config: WorkerConfig,
        *,
        on_dead_letter: DeadLetterHook | None = None,
        worker_id: str | None = None,
        on_done: DoneHook | None = None,
        periodic: Sequence[Periodic] = (),
    ) -> None:
        self.db = db
        self.handlers = handlers
        self.config = config
        self.on_dead_letter = on_dead_letter
        self.on_done = on_done
        self.periodic = list(periodic)
        self.worker_id = worker_id or new_worker_id()
        self.stopping = threading.Event()

    def run(self) -> None:
        """Process jobs until :meth:`stop` is called; the job in hand is finished first."""
        log.info("worker %s started", self.worker_id)
        while not self.stopping.is_set():
            self.run_periodic()
            try:
                worked = self.run_once()
            except Exception:  # the database went away: wait and try again, never exit
                log.exception("worker %s: could not claim a job", self.worker_id)
                worked = False
            if not worked:
                self.stopping.wait(self.config.poll_seconds)
        log.info("worker %s stopped", self.worker_id)

    def stop(self) -> None:
        self.stopping.set()

    def run_periodic(self, now: float | None = None) -> None:
        """Run the periodic tasks that are due; a failing one is logged and tried next time."""
        now = time.monotonic() if now is None else now
        for task in self.periodic:
            if now < task.due:
                continue
            task.due = now + task.interval
            try:
                task.run()
            except Exception:
                log.exception("worker %s: periodic task %s failed", self.worker_id, task.name)

    def run_once(self) -> bool:
        """Claim and run one job. Returns False when no job was due."""
        with self.db.transaction() as session:
            abandoned = queue.dead_letter_abandoned(session)
            job = queue.claim(session, self.worker_id, self.config.lease_seconds)
        for lost in abandoned:
            self._dead_lettered(lost, queue.ABANDONED)
        if job is None:
            return False
        self._run(job)
        return True

    def _run(self, job: queue.ClaimedJob) -> None:
        handler = self.handlers.get(job.kind)
        started = time.perf_counter()
        heartbeat = _Heartbeat(self, job)
        heartbeat.start()
        try:
            if handler is None:
                raise LookupError(f"no handler for job kind {job.kind!r}")
            handler(job)
        except Exception as exc:
            heartbeat.stop()
            self._failed(job, exc)
        else:
            heartbeat.stop()
            with self.db.transaction() as session:
                queue.complete(session, job)
                self._after(session, job)
            metrics.JOBS_DONE.labels(job.kind).inc()
        finally:
            metrics.JOB_SECONDS.labels(job.kind).observe(time.perf_counter() - started)

    def _after(self, session: Session, job: queue.ClaimedJob) -> None:
        """Run ``on_done`` in a savepoint: what it adds commits with the completion, and when it
        fails the job is still done (a hook that always failed would otherwise re-run the job
        at every lease expiry, for ever)."""
        if self.on_done is None:
            return
        try:
            with session.begin_nested():
                self.on_done(session, job)
        except Exception:
            log.exception("worker %s: the after-job hook failed on job %s", self.worker_id, job.id)

    def _failed(self, job: queue.ClaimedJob, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {exc}"
        retry_after = exc.retry_after or 0.0 if isinstance(exc, DeliveryError) else 0.0
        if isinstance(exc, DeliveryError):
            log.warning("job %s (%s) attempt %d: %s", job.id, job.key, job.attempts, error)
        else:
            log.error(
                "job %s (%s) attempt %d failed: %s",
                job.id,
                job.key,
                job.attempts,
                error,
                exc_info=exc,
            )
        with self.db.transaction() as session:
            dead = queue.fail(session, job, error, self.config.retry, retry_after=retry_after)
        if dead:
            self._dead_lettered(job, error)
        else:
            metrics.JOBS_RETRIED.labels(job.kind).inc()

    def _dead_lettered(self, job: queue.ClaimedJob, error: str) -> None:
        """A job is failed for good (its last attempt failed, or its worker died during it):
        count it and let the hook show it on its item."""
        metrics.JOBS_FAILED.labels(job.kind).inc()
        log.error("job %s (%s) dead-lettered after %d attempts", job.id, job.key, job.attempts)
        if self.on_dead_letter is not None:
            self.on_dead_letter(job, error)


class _Heartbeat:
    """Extends the job's lease every third of the lease while the handler runs."""

    def __init__(self, worker: Worker, job: queue.ClaimedJob) -> None:
        self.worker = worker
        self.job = job
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"heartbeat-{job.id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.done.set()
        self.thread.join()

    def _beat(self) -> None:
        interval = self.worker.config.lease_seconds / 3
        while not self.done.wait(interval):
            try:
                with self.worker.db.transaction() as session:
                    queue.extend_lease(
                        session,
                        self.job.id,
                        self.worker.worker_id,
                        self.worker.config.lease_seconds,
                    )
            except Exception:
                log.warning("could not extend the lease of job %s", self.job.id, exc_info=True)
