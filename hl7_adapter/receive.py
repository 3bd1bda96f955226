"""One MLLP frame in, one ACK out (HL7 v2 original acknowledgement mode).

In order, so that each problem gets the answer HL7 gives it:

1. the header must be readable (MSH, encoding characters): else a generic ``AR`` and the
   connection is closed (:class:`~hl7_adapter.message.Unreadable`);
2. ``AR`` (not accepted here, whatever the content): a sender not on the allow-list
   (MSH-3/MSH-4), a message type other than ORU^R01 (or MDM^T02/T10), a processing id (MSH-11)
   other than ours, a version (MSH-12) other than 2.x; also the database being unavailable
   (HL7: "unable to process for reasons unrelated to content": send again later);
3. ``AE`` (the content is wrong): character set, parse, a missing segment or field, no report
   text, a bad status;
4. ``AA`` once every report of the message and its QC job are committed, in one transaction.
   The same report again (the same content, under any control id, at any earlier version) is
   acknowledged and nothing new is stored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from hl7_adapter.ack import build_ack
from hl7_adapter.errors import AckCode, ErrorCode, HL7Problem, content_error, rejected
from hl7_adapter.message import (
    Header,
    Unreadable,
    codec_of,
    first_component,
    header_of,
    parse,
)
from hl7_adapter.reports import oru_reports
from hl7_adapter.transcription import mdm_reports
from service import metrics
from service.db import Database
from service.ingest import (
    IngestResult,
    Outcome,
    QueueOptions,
    ReceivedReport,
    ingest_many,
    store_report,
)
from service.models import Item, Report, ReportVersion

log = logging.getLogger(__name__)

Mapper = Callable[[Header, Any], list[ReceivedReport]]
MESSAGE_TYPES: dict[tuple[str, str], Mapper] = {
    ("ORU", "R01"): oru_reports,
    ("MDM", "T02"): mdm_reports,
    ("MDM", "T10"): mdm_reports,
}


@dataclass(frozen=True, slots=True)
class Reply:
    """The ACK to send, and whether to close the connection after it."""

    ack: bytes
    code: AckCode
    close: bool = False


@dataclass(frozen=True, slots=True)
class Acceptance:
    """Who and what is accepted (from the settings)."""

    allowed_senders: tuple[str, ...] = ()  # APP, APP^FACILITY, ^FACILITY; empty: any
    processing_id: str = "P"

    def allows(self, application: str, facility: str) -> bool:
        if not self.allowed_senders:
            return True
        for entry in self.allowed_senders:
            app, _, fac = entry.partition("^")
            if (not app or app == application) and (not fac or fac == facility):
                return True
        return False


def check_acceptance(msh: Sequence[str], acceptance: Acceptance) -> None:
    """``AR`` unless the sender, message type, processing id and version are accepted."""

    def first(number: int, component: int = 1) -> str:
        return first_component(msh, number, component)

    if not acceptance.allows(first(3), first(4)):
        raise rejected(
            ErrorCode.UNKNOWN_KEY, "the sending application/facility is not allowed", "MSH^1^3"
        )
    kind, trigger = first(9), first(9, 2)
    if kind not in {k for k, _ in MESSAGE_TYPES}:
        raise rejected(
            ErrorCode.UNSUPPORTED_MESSAGE_TYPE,
            "only ORU^R01, MDM^T02 and MDM^T10 are accepted",
            "MSH^1^9",
        )
    if (kind, trigger) not in MESSAGE_TYPES:
        raise rejected(
            ErrorCode.UNSUPPORTED_EVENT,
            "only ORU^R01, MDM^T02 and MDM^T10 are accepted",
            "MSH^1^9",
        )
    if first(11) != acceptance.processing_id:
        raise rejected(
            ErrorCode.UNSUPPORTED_PROCESSING_ID,
            f"the processing id (MSH-11) must be {acceptance.processing_id}",
            "MSH^1^11",
        )
    if not first(12).startswith("2."):
        raise rejected(ErrorCode.UNSUPPORTED_VERSION, "only HL7 v2.x is accepted", "MSH^1^12")
    if not first(10):
        raise content_error(ErrorCode.REQUIRED_FIELD, "the control id is missing", "MSH^1^10")


def store_once(session: Session, received: ReceivedReport, options: QueueOptions) -> IngestResult:
    """``store_report``, and a duplicate also when an earlier version (not only the latest) has
    the same content: a late retry of a report already corrected must not undo the
    correction."""
    earlier = session.execute(
        select(ReportVersion.version, Item.id)
        .join(Report, Report.id == ReportVersion.report_pk)
        .join(Item, Item.report_version_id == ReportVersion.id)
        .where(
            Report.report_id == received.report_id,
            ReportVersion.content_hash == received.content_hash,
        )
        .order_by(ReportVersion.version.desc())
        .limit(1)
    ).first()
    if earlier is not None:
        return IngestResult(Outcome.DUPLICATE, earlier.id, earlier.version)
    return store_report(session, received, options)


class MessageReceiver:
    """Turns frames into ACKs; thread-safe (one database, no state per message)."""

    def __init__(self, db: Database, options: QueueOptions, acceptance: Acceptance) -> None:
        self._db = db
        self._options = options
        self._acceptance = acceptance

    def receive(self, frame: bytes, connection: str) -> Reply:
        started = time.perf_counter()
        try:
            msh, _, _ = header_of(frame)
        except Unreadable as exc:
            log.warning("HL7 %s: unreadable message (%s); closing", connection, exc.reason)
            metrics.REJECTED.labels(source="hl7", reason="unreadable").inc()
            ack = build_ack(exc.ack, (), reason=exc.reason, error=exc.code, location=exc.location)
            return Reply(ack.encode("ascii"), exc.ack, close=True)
        try:
            results = self._store(frame, msh)
        except HL7Problem as exc:
            return self._refuse(exc, msh, connection)
        except Exception as exc:  # a bug here must still be answered, and never quote data
            log.error("HL7 %s: receiving failed (%s)", connection, type(exc).__name__)
            problem = rejected(ErrorCode.INTERNAL_ERROR, "radqc failed to receive the message")
            return self._refuse(problem, msh, connection)
        for result in results:
            metrics.RECEIVED.labels(source="hl7", outcome=result.outcome.value).inc()
            # the report id, accession and control id may carry patient numbers: not logged
            log.info(
                "HL7 %s: report %s (version %d, item %d)",
                connection,
                result.outcome.value,
                result.version,
                result.item_id,
            )
        metrics.STORE_SECONDS.labels(source="hl7").observe(time.perf_counter() - started)
        return Reply(self._encode(build_ack(AckCode.ACCEPT, msh), msh), AckCode.ACCEPT)

    def _refuse(self, exc: HL7Problem, msh: Sequence[str], connection: str) -> Reply:
        log.warning(
            "HL7 %s: %s %s (%s at %s)",
            connection,
            exc.ack.value,
            exc.code.value.split("^")[1],
            exc.reason,
            exc.location or "-",
        )
        metrics.REJECTED.labels(source="hl7", reason=exc.code.name.lower()).inc()
        ack = build_ack(exc.ack, msh, reason=exc.reason, error=exc.code, location=exc.location)
        return Reply(self._encode(ack, msh), exc.ack)

    def too_large(self, prefix: bytes, connection: str, reason: str) -> Reply | None:
        """The ``AR`` for a message over the size limit, if its beginning shows its header."""
        metrics.REJECTED.labels(source="hl7", reason="too_large").inc()
        try:
            msh, _, _ = header_of(prefix)
        except Unreadable:
            log.warning("HL7 %s: %s without a readable header; closing", connection, reason)
            return None
        log.warning("HL7 %s: AR (%s); closing", connection, reason)
        ack = build_ack(AckCode.REJECT, msh, reason=reason, error=ErrorCode.INTERNAL_ERROR)
        return Reply(self._encode(ack, msh), AckCode.REJECT, close=True)

    def _store(self, frame: bytes, msh: Sequence[str]) -> list[IngestResult]:
        check_acceptance(msh, self._acceptance)
        mapper = MESSAGE_TYPES[(first_component(msh, 9), first_component(msh, 9, 2))]
        parsed = parse(frame)
        reports = mapper(parsed.header, parsed.message)
        try:
            return ingest_many(self._db, store_once, reports, self._options)
        except OperationalError as exc:
            log.error("HL7: the database is unavailable (%s)", type(exc.orig).__name__)
            raise rejected(
                ErrorCode.INTERNAL_ERROR, "the database is unavailable; send the message again"
            ) from exc
        except SQLAlchemyError as exc:  # the message may quote bound values: only the class
            log.error("HL7: storing the report failed (%s)", type(exc).__name__)
            raise rejected(
                ErrorCode.INTERNAL_ERROR, "the report could not be stored; send it again"
            ) from exc

    @staticmethod
    def _encode(ack: str, msh: Sequence[str]) -> bytes:
        return ack.encode(codec_of(msh) or "utf-8", errors="replace")
