"""Writing Observations back to the hospital FHIR server: ``PUT {base}/Observation/{id}``.

:meth:`WritebackClient.deliver` is the worker's handler for ``writeback`` jobs (the job's target
is the Observation id). It sends the Observation as it is stored now, its references made for
the hospital server (:mod:`fhir_adapter.references`); a 200/201 marks every pending outbox
entry up to that version delivered. What the server answers otherwise (issue 11):

- an outage (no answer, 5xx, 408, 409, 429) raises :class:`~service.errors.DeliveryError`, and
  the worker retries with backoff (honouring ``Retry-After``) for as long as it lasts;
- any other answer (a 4xx, or a redirect) is a refusal. It is retried too, but after
  ``max_refusals`` refusals the entry becomes ``refused``, keeps the server's OperationOutcome,
  counts in ``radqc_writeback_total{outcome="refused"}``, and the job ends: nothing is retried
  for ever.
  The OperationOutcome may quote the Observation (its note quotes the report): it is stored for
  admins (:mod:`service.outbox`), never logged nor put in an exception.

An Observation with ``hasMember`` (the ``qc.summary``) waits until none of its members is still
pending, so that a server checking references finds them. When a member is delivered after its
summary was refused (a server refusing the dangling reference), the summary is queued again,
once per delivery of a member: that never loops. A version published while the PUT was in
flight stays pending; its requeued job sends it next.

A cancelled or entered-in-error Observation is sent once: the server's copy is remembered
(``Observation.delivered_hash``), and a later version with the same content (a finding gone,
back, and gone again while the server was away) is marked delivered without a PUT. Only a
change of its content sends it again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from types import TracebackType

import httpx
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from fhir_adapter.observations import TERMINAL_STATUSES, to_json
from fhir_adapter.outcome import FHIR_JSON
from fhir_adapter.references import ReferenceMode, for_hospital, targets_of
from fhir_adapter.writeback_auth import TokenError, WritebackSecurity, without_credentials
from service import metrics
from service.db import Database
from service.errors import DeliveryError
from service.models import Item, Observation, OutboxEntry, utcnow
from service.outbox import (
    DELIVERED,
    PENDING,
    REFUSED,
    enqueue_writeback,
    retry_refused,
    supersede_refused,
)
from service.queue import ClaimedJob
from service.retry import parse_retry_after
from service.taxonomy import SUMMARY_CODE

log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({408, 409, 429})
DEFAULT_MAX_REFUSALS = 3
_MAX_DIAGNOSTICS = 500
_MAX_OUTCOME_BYTES = 64 * 1024
_MEMBER_PREFIX = "Observation/"


@dataclass(frozen=True, slots=True)
class _Snapshot:
    """The Observation version about to be sent."""

    id: str
    item_id: int
    code: str
    version: int
    body: bytes
    members: tuple[str, ...]  # the ids its hasMember refers to
    content_hash: str  # of the stored version: what the server holds once it accepts it
    known: bool  # cancelled or entered-in-error, and the server holds this content already


class WritebackClient:
    """One HTTP client for the process, created at start-up; :meth:`close` it at shutdown.

    :func:`fhir_adapter.writeback_setup.build_writeback_client` makes it from the settings:
    ``security`` (bearer, basic or SMART; CA bundle, client certificate), ``max_refusals`` (4xx
    answers that make an entry ``refused``), ``references`` and ``patient_id_system`` (how the
    hospital's copy refers to the patient, report and study: :mod:`fhir_adapter.references`).
    """

    def __init__(
        self,
        db: Database,
        base_url: str,
        timeout: float,
        transport: httpx.BaseTransport | None = None,
        *,
        security: WritebackSecurity | None = None,
        max_refusals: int = DEFAULT_MAX_REFUSALS,
        references: ReferenceMode = "identifier",
        patient_id_system: str = "",
    ) -> None:
        self.db = db
        self.references: ReferenceMode = references
        self.patient_id_system = patient_id_system
        self.base_url = base_url.rstrip("/")
        self.shown_url = without_credentials(self.base_url)
        self.max_refusals = max_refusals
        self.security = security
        self._client = httpx.Client(
            base_url=self.base_url + "/",
            timeout=timeout,
            transport=transport,
            auth=security.auth if security is not None else None,
            verify=security.verify if security is not None else True,
            headers={"Accept": FHIR_JSON, "User-Agent": "radqc-writeback"},
        )

    def close(self) -> None:
        self._client.close()
        if self.security is not None:
            self.security.close()

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
        if snapshot.known:
            self._delivered(snapshot, sent=False)
            metrics.WRITEBACK.labels("unchanged").inc()
            log.info(
                "observation %s v%d not written back: the server holds this content already",
                snapshot.id,
                snapshot.version,
            )
            return
        self._wait_for_members(snapshot)
        response = self._put(snapshot)
        if response.is_success:
            self._delivered(snapshot)
            metrics.WRITEBACK.labels("delivered").inc()
            log.info(
                "observation %s v%d written back (HTTP %d)",
                snapshot.id,
                snapshot.version,
                response.status_code,
            )
            return
        self._not_accepted(snapshot, response)

    # -- steps -------------------------------------------------------------------------------
    def _snapshot(self, observation_id: str) -> _Snapshot | None:
        """The stored Observation, if any of its versions is still pending, as the hospital
        server gets it: its references made for that server (:mod:`fhir_adapter.references`)."""
        with self.db.reader() as session:
            row = session.get(Observation, observation_id)
            if row is None:
                log.warning("write-back: observation %s does not exist", observation_id)
                return None
            if not _pending_ids(session, [observation_id]):
                return None
            item = session.get(Item, row.item_id)
            assert item is not None  # a foreign key
            targets = targets_of(item, self.patient_id_system)
            stored = json.loads(row.resource_json)
            body = to_json(for_hospital(stored, targets, self.references)).encode()
            known = row.status in TERMINAL_STATUSES and row.delivered_hash == row.content_hash
            return _Snapshot(
                row.id,
                row.item_id,
                row.code,
                row.version,
                body,
                _members(row.resource_json),
                row.content_hash,
                known,
            )

    def _wait_for_members(self, snapshot: _Snapshot) -> None:
        """A summary is sent after its members: while one is pending, try again later."""
        if not snapshot.members:
            return
        with self.db.reader() as session:
            waiting = _pending_ids(session, snapshot.members)
        if waiting:
            message = f"waiting for {len(waiting)} member observation(s) to be written back first"
            self._record(snapshot, message, counted=False)
            raise DeliveryError(message)

    def _put(self, snapshot: _Snapshot) -> httpx.Response:
        try:
            return self._client.put(
                f"Observation/{snapshot.id}",
                content=snapshot.body,
                headers={"Content-Type": FHIR_JSON},
            )
        except TokenError as exc:
            log.error("write-back to %s: no access token: %s", self.shown_url, exc)
            self._failure(snapshot, str(exc), "auth")
            raise
        except httpx.TimeoutException as exc:
            message = f"timed out writing back to {self.shown_url}: {type(exc).__name__}"
            self._failure(snapshot, message, "timeout")
            raise DeliveryError(message) from exc
        except httpx.HTTPError as exc:
            message = f"cannot reach {self.shown_url}: {type(exc).__name__}: {exc}"
            self._failure(snapshot, message, "unreachable")
            raise DeliveryError(message) from exc

    def _not_accepted(self, snapshot: _Snapshot, response: httpx.Response) -> None:
        status = response.status_code
        if is_outage(status):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            message = f"HTTP {status} from the FHIR server (will retry)"
            self._failure(snapshot, message, "transient", http_status=status)
            raise DeliveryError(message, retry_after=retry_after)
        refusals, refused = self._refusal(snapshot, response)
        # The server's diagnostics may echo the Observation (its note quotes the report): they
        # are kept on the outbox entry for admins, never logged nor raised.
        if refused:
            metrics.WRITEBACK.labels("refused").inc()
            log.warning(
                "hospital FHIR server refused observation %s v%d for good: HTTP %d, %d times "
                "(the outbox entry keeps its OperationOutcome; an admin may retry it)",
                snapshot.id,
                snapshot.version,
                status,
                refusals,
            )
            return  # the job is done: a refused entry is not retried for ever
        metrics.WRITEBACK.labels("rejected").inc()
        raise DeliveryError(
            f"HTTP {status} from the FHIR server: refusal {refusals} of {self.max_refusals}"
        )

    def _delivered(self, snapshot: _Snapshot, *, sent: bool = True) -> None:
        """The server holds ``snapshot`` now: it accepted its PUT (``sent``), or it held this
        content already (a retired Observation changed back to what was delivered)."""
        values: dict[str, object] = {
            "status": DELIVERED,
            "delivered_at": utcnow(),
            "last_error": None,
            "http_status": None,
            "outcome_json": None,
        }
        if sent:
            values.update(last_attempt_at=utcnow(), attempts=OutboxEntry.attempts + 1)
        with self.db.transaction() as session:
            session.execute(update(OutboxEntry).where(_sent_entries(snapshot)).values(**values))
            session.execute(
                update(Observation)
                .where(Observation.id == snapshot.id)
                .values(delivered_hash=snapshot.content_hash)
            )
            supersede_refused(session, snapshot.id, snapshot.version)
            if snapshot.code != SUMMARY_CODE:
                self._follow_members(session, snapshot)

    def _follow_members(self, session: Session, member: _Snapshot) -> None:
        """The summaries that refer to this member go next: one waiting for it is sent now
        (not at its backoff time), and one refused while the member was missing on the server
        is queued again (once per delivery of a member: that cannot loop)."""
        summaries = session.execute(
            select(Observation.id, Observation.resource_json, OutboxEntry.status)
            .join(OutboxEntry, OutboxEntry.observation_id == Observation.id)
            .where(
                Observation.item_id == member.item_id,
                Observation.code == SUMMARY_CODE,
                OutboxEntry.status.in_([PENDING, REFUSED]),
            )
        ).all()
        followers = {oid: status for oid, text, status in summaries if member.id in _members(text)}
        for summary_id, status in followers.items():
            if status == PENDING:
                enqueue_writeback(session, summary_id)
        refused = [oid for oid, status in followers.items() if status == REFUSED]
        if refused and retry_refused(session, observation_ids=refused):
            log.info(
                "observation %s delivered: its refused summary %s is queued again",
                member.id,
                ", ".join(refused),
            )

    def _refusal(self, snapshot: _Snapshot, response: httpx.Response) -> tuple[int, bool]:
        """Count one refusal; returns the count and whether the entry is now ``refused``."""
        diagnostics = outcome_diagnostics(response)
        message = f"HTTP {response.status_code} from the FHIR server: "
        message += diagnostics or "no OperationOutcome"
        with self.db.transaction() as session:
            session.execute(
                update(OutboxEntry)
                .where(_sent_entries(snapshot))
                .values(
                    attempts=OutboxEntry.attempts + 1,
                    refusals=OutboxEntry.refusals + 1,
                    last_error=message[:2000],
                    http_status=response.status_code,
                    outcome_json=_outcome_json(response),
                    last_attempt_at=utcnow(),
                )
            )
            refusals = session.scalar(
                select(OutboxEntry.refusals)
                .where(_sent_entries(snapshot))
                .order_by(OutboxEntry.refusals.desc())
                .limit(1)
            )
            refused = session.execute(
                update(OutboxEntry)
                .where(_sent_entries(snapshot), OutboxEntry.refusals >= self.max_refusals)
                .values(status=REFUSED)
            )
        return int(refusals or 0), bool(refused.rowcount)  # type: ignore[attr-defined]

    def _failure(
        self, snapshot: _Snapshot, message: str, outcome: str, *, http_status: int | None = None
    ) -> None:
        metrics.WRITEBACK.labels(outcome).inc()
        self._record(snapshot, message, http_status=http_status)

    def _record(
        self,
        snapshot: _Snapshot,
        message: str,
        *,
        counted: bool = True,
        http_status: int | None = None,
    ) -> None:
        values: dict[str, object] = {"last_error": message[:2000]}
        if counted:
            values.update(
                attempts=OutboxEntry.attempts + 1,
                last_attempt_at=utcnow(),
                http_status=http_status,
            )
        with self.db.transaction() as session:
            session.execute(update(OutboxEntry).where(_sent_entries(snapshot)).values(**values))


def is_outage(status: int) -> bool:
    """An answer that says "not now" rather than "not this": retried for as long as it lasts.
    Every other answer that is not a success is a refusal."""
    return status in TRANSIENT_STATUS or status >= 500


def _sent_entries(snapshot: _Snapshot) -> ColumnElement[bool]:
    """The entries a PUT of this snapshot answers for: pending, up to its version."""
    return and_(
        OutboxEntry.observation_id == snapshot.id,
        OutboxEntry.status == PENDING,
        OutboxEntry.observation_version <= snapshot.version,
    )


def _pending_ids(session: Session, observation_ids: tuple[str, ...] | list[str]) -> set[str]:
    rows = session.scalars(
        select(OutboxEntry.observation_id)
        .where(OutboxEntry.observation_id.in_(list(observation_ids)))
        .where(OutboxEntry.status == PENDING)
        .distinct()
    )
    return set(rows)


def _members(resource_json: str) -> tuple[str, ...]:
    """The Observation ids an Observation's ``hasMember`` refers to."""
    try:
        members = json.loads(resource_json).get("hasMember") or []
    except (ValueError, AttributeError):
        return ()
    refs = (m.get("reference") for m in members if isinstance(m, dict))
    return tuple(
        ref.removeprefix(_MEMBER_PREFIX)
        for ref in refs
        if isinstance(ref, str) and ref.startswith(_MEMBER_PREFIX)
    )


def _outcome_json(response: httpx.Response) -> str | None:
    """The response body when it is an OperationOutcome (kept as sent, up to 64 KiB)."""
    if len(response.content) > _MAX_OUTCOME_BYTES:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("resourceType") != "OperationOutcome":
        return None
    return json.dumps(body, ensure_ascii=False)


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


def _describe_issue(issue: dict[str, object]) -> str:
    details = issue.get("details")
    text = issue.get("diagnostics") or (details.get("text") if isinstance(details, dict) else "")
    return f"{issue.get('severity', '?')} {issue.get('code', '?')}: {text or ''}".strip()
