"""Writing Observations back to the hospital FHIR server: ``PUT {base}/Observation/{id}``.

:meth:`WritebackClient.deliver` is the worker's handler for ``writeback`` jobs (the job's target
is the Observation id). It sends the Observation as it is stored now; a 200/201 marks every
pending outbox entry up to that version delivered. Anything else raises
:class:`~service.errors.DeliveryError`, and the worker retries with backoff (honouring
``Retry-After``) until the server accepts: write-back jobs have no attempt limit. A version
published while the PUT was in flight stays pending; its requeued job sends it next.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import func, select, update

from fhir_adapter.outcome import FHIR_JSON
from service import metrics
from service.db import Database
from service.errors import DeliveryError
from service.models import Observation, OutboxEntry, utcnow
from service.queue import ClaimedJob
from service.retry import parse_retry_after

log = logging.getLogger(__name__)

PENDING = "pending"
DELIVERED = "delivered"
TRANSIENT_STATUS = frozenset({408, 429})
_MAX_DIAGNOSTICS = 500


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The Observation version about to be sent."""

    id: str
    version: int
    body: bytes


class WritebackClient:
    """One HTTP client for the process, created at start-up; :meth:`close` it at shutdown."""

    def __init__(
        self,
        db: Database,
        base_url: str,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.db = db
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            timeout=timeout,
            transport=transport,
            headers={"Accept": FHIR_JSON, "User-Agent": "radqc-writeback"},
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> WritebackClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the job handler ---------------------------------------------------------------------
    def deliver(self, job: ClaimedJob) -> None:
        """Send the Observation ``job.target`` if it has an undelivered version."""
        if not job.target:
            log.error("write-back job %s has no target observation", job.id)
            metrics.WRITEBACK.labels("skipped").inc()
            return
        snapshot = self._snapshot(job.target)
        if snapshot is None:
            metrics.WRITEBACK.labels("skipped").inc()
            return
        response = self._put(snapshot)
        if response.is_success:
            self._mark_delivered(snapshot)
            metrics.WRITEBACK.labels("delivered").inc()
            log.info(
                "observation %s v%d written back (HTTP %d)",
                snapshot.id,
                snapshot.version,
                response.status_code,
            )
            return
        self._refused(snapshot, response)

    # -- steps -------------------------------------------------------------------------------
    def _snapshot(self, observation_id: str) -> _Snapshot | None:
        """The stored Observation, if any of its versions is still pending."""
        with self.db.reader() as session:
            row = session.get(Observation, observation_id)
            if row is None:
                log.warning("write-back: observation %s does not exist", observation_id)
                return None
            pending = session.scalar(
                select(func.count())
                .select_from(OutboxEntry)
                .where(OutboxEntry.observation_id == observation_id, OutboxEntry.status == PENDING)
            )
            if not pending:
                return None
            return _Snapshot(row.id, row.version, row.resource_json.encode())

    def _put(self, snapshot: _Snapshot) -> httpx.Response:
        try:
            return self._client.put(
                f"Observation/{snapshot.id}",
                content=snapshot.body,
                headers={"Content-Type": FHIR_JSON},
            )
        except httpx.TimeoutException as exc:
            message = f"timed out writing back to {self.base_url}: {type(exc).__name__}"
            self._failure(snapshot, message, "timeout")
            raise DeliveryError(message) from exc
        except httpx.HTTPError as exc:
            message = f"cannot reach {self.base_url}: {type(exc).__name__}: {exc}"
            self._failure(snapshot, message, "unreachable")
            raise DeliveryError(message) from exc

    def _refused(self, snapshot: _Snapshot, response: httpx.Response) -> None:
        status = response.status_code
        if status in TRANSIENT_STATUS or status >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            message = f"HTTP {status} from the FHIR server (will retry)"
            self._failure(snapshot, message, "transient")
            raise DeliveryError(message, retry_after=retry_after)
        diagnostics = outcome_diagnostics(response)
        message = f"HTTP {status} from the FHIR server: {diagnostics or 'no OperationOutcome'}"
        # The server's diagnostics may echo the Observation (its note quotes the report): kept on
        # the outbox entry for admins, never logged.
        log.warning(
            "hospital FHIR server refused observation %s v%d: HTTP %d",
            snapshot.id,
            snapshot.version,
            status,
        )
        self._failure(snapshot, message, "rejected")
        raise DeliveryError(message)

    def _mark_delivered(self, snapshot: _Snapshot) -> None:
        with self.db.transaction() as session:
            session.execute(
                update(OutboxEntry)
                .where(
                    OutboxEntry.observation_id == snapshot.id,
                    OutboxEntry.status == PENDING,
                    OutboxEntry.observation_version <= snapshot.version,
                )
                .values(
                    status=DELIVERED,
                    delivered_at=utcnow(),
                    attempts=OutboxEntry.attempts + 1,
                    last_error=None,
                )
            )

    def _failure(self, snapshot: _Snapshot, message: str, outcome: str) -> None:
        metrics.WRITEBACK.labels(outcome).inc()
        with self.db.transaction() as session:
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.observation_id == snapshot.id, OutboxEntry.status == PENDING)
                .values(attempts=OutboxEntry.attempts + 1, last_error=message[:2000])
            )


def outcome_diagnostics(response: httpx.Response) -> str:
    """The issues of an OperationOutcome in the response, as one short line."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return ""
    issues = body.get("issue")
    parts = (
        [_describe_issue(i) for i in issues if isinstance(i, dict)]
        if isinstance(issues, list)
        else []
    )
    return "; ".join(parts)[:_MAX_DIAGNOSTICS]


def _describe_issue(issue: dict[str, Any]) -> str:
    details = issue.get("details")
    text = issue.get("diagnostics") or (details.get("text") if isinstance(details, dict) else "")
    return f"{issue.get('severity', '?')} {issue.get('code', '?')}: {text or ''}".strip()
