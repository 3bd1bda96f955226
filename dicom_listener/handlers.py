"""Event handlers: every C-STORE ends in a named status, never in an exception, and every
association that is rejected or aborted is logged with its peer and the reason (never patient data).

Runs on the association's thread, so a C-STORE does only what the acknowledgement needs: hand the
dataset to the core's :meth:`~service.dicom_receive.DicomReceiver.receive` (identifiers, checks,
durable file, row and job) and turn its receipt into a DIMSE status. QC happens later, in the
workers.
"""

from __future__ import annotations

import logging
import time
import weakref
from typing import Final, cast

from pydicom.dataset import Dataset
from pynetdicom import evt
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.events import Event
from pynetdicom.pdu_primitives import A_ABORT, A_P_ABORT

from service import metrics
from service.dicom_receive import DicomReceiver, Envelope, Receipt, Rejection

logger = logging.getLogger(__name__)

SUCCESS: Final = 0x0000
OUT_OF_RESOURCES: Final = 0xA700  # the file or its row could not be stored: retry later
DATASET_DOES_NOT_MATCH_SOP_CLASS: Final = 0xA900
CANNOT_UNDERSTAND: Final = 0xC210  # undecodable dataset, missing or malformed UIDs
UNEXPECTED_FAILURE: Final = 0xC211  # a defect in radqc; the same code pynetdicom uses

# The core's reasons as C-STORE statuses. A SOP class or transfer syntax radqc does not take
# never reaches a C-STORE (refused at negotiation); should one, it cannot be understood here.
STATUS_FOR: Final[dict[Rejection, int]] = {
    Rejection.MALFORMED: CANNOT_UNDERSTAND,
    Rejection.SOP_MISMATCH: DATASET_DOES_NOT_MATCH_SOP_CLASS,
    Rejection.STUDY_MISMATCH: DATASET_DOES_NOT_MATCH_SOP_CLASS,
    Rejection.SOP_CLASS_NOT_SUPPORTED: DATASET_DOES_NOT_MATCH_SOP_CLASS,
    Rejection.TRANSFER_SYNTAX_NOT_SUPPORTED: CANNOT_UNDERSTAND,
    Rejection.OUT_OF_RESOURCES: OUT_OF_RESOURCES,
}

_SOURCE: Final = "dicom"
_ERROR_COMMENT_MAX: Final = 64  # VR LO


# A-ASSOCIATE-RJ (result, source, diagnostic): rejected-transient, service provider
# (presentation related), local limit exceeded.
LOCAL_LIMIT_EXCEEDED: Final = (0x02, 0x03, 0x02)
_REJECTIONS: Final[dict[tuple[int | None, int | None], str]] = {
    (0x01, 0x01): "no reason given",
    (0x01, 0x02): "application context name not supported",
    (0x01, 0x03): "calling AE title not recognised",
    (0x01, 0x07): "called AE title not recognised",
    (0x02, 0x01): "no reason given (ACSE)",
    (0x02, 0x02): "protocol version not supported",
    (0x03, 0x01): "temporary congestion",
    (0x03, 0x02): "local limit exceeded",
}
_PROVIDER_ABORTS: Final[dict[int | None, str]] = {
    0x00: "connection closed by the peer, broken, or stuck in a PDU past the network timeout",
    0x02: "unexpected PDU from the peer",
    0x05: "invalid or unexpected PDU from the peer",
}
# Why an association ended, noted by one event handler for the one that logs it.
_reasons: weakref.WeakKeyDictionary[Association, str] = weakref.WeakKeyDictionary()


def peer(assoc: Association) -> str:
    """How log lines name an association: the calling AE and its address."""
    requestor = assoc.requestor
    request = requestor.primitive
    title = requestor.ae_title or str(getattr(request, "calling_ae_title", "") or "?")
    return f"{title}@{requestor.address}:{requestor.port}"


def _status(code: int, comment: str | None = None) -> Dataset:
    status = Dataset()
    status.Status = code
    if comment:
        status.ErrorComment = comment[:_ERROR_COMMENT_MAX]
    return status


def _refuse(code: int, reason: str, message: str, who: str, sop_instance_uid: str) -> Dataset:
    metrics.REJECTED.labels(source=_SOURCE, reason=reason).inc()
    logger.warning(
        "C-STORE refused 0x%04X (%s) from %s sop=%s: %s",
        code,
        reason,
        who,
        sop_instance_uid,
        message,
    )
    return _status(code, message)


def handle_store(event: Event, receiver: DicomReceiver) -> Dataset:
    """EVT_C_STORE: store the dataset as received and commit its job, then answer."""
    started = time.perf_counter()
    request = cast(C_STORE, event.request)
    who = peer(event.assoc)
    affected = str(request.AffectedSOPInstanceUID or "")
    try:
        return _store(event, receiver, request, who, affected, started)
    except Exception:  # the listener must answer every request, whatever went wrong
        logger.exception("C-STORE failed unexpectedly from %s sop=%s", who, affected)
        metrics.REJECTED.labels(source=_SOURCE, reason="unexpected").inc()
        return _status(UNEXPECTED_FAILURE, "internal error")


def _store(
    event: Event,
    receiver: DicomReceiver,
    request: C_STORE,
    who: str,
    affected: str,
    started: float,
) -> Dataset:
    abstract_syntax = str(event.context.abstract_syntax)
    stream = request.DataSet  # the dataset bytes exactly as received
    if stream is None:
        return _refuse(CANNOT_UNDERSTAND, "malformed", "no dataset", who, affected)
    if str(request.AffectedSOPClassUID or "") != abstract_syntax:  # DIMSE's own consistency
        message = "AffectedSOPClassUID differs from the presentation context"
        return _refuse(DATASET_DOES_NOT_MATCH_SOP_CLASS, "sop_mismatch", message, who, affected)
    # What the request and its presentation context announce; the core checks the dataset.
    envelope = Envelope(sop_class_uid=abstract_syntax, sop_instance_uid=affected)
    with stream.getbuffer() as dataset:  # a view, not a copy
        receipt = receiver.receive(
            dataset,
            str(event.context.transfer_syntax),
            envelope=envelope,
            sender=event.assoc.requestor.ae_title,
        )
    if receipt.reason is not None:
        code = STATUS_FOR[receipt.reason]
        return _refuse(code, receipt.reason.value, receipt.message, who, affected)
    _log_stored(receipt, who, time.perf_counter() - started)
    return _status(SUCCESS)


def _log_stored(receipt: Receipt, who: str, elapsed: float) -> None:
    metrics.STORE_SECONDS.labels(source=_SOURCE).observe(elapsed)
    metrics.RECEIVED.labels(source=_SOURCE, outcome=receipt.outcome.value).inc()
    logger.info(
        "C-STORE %s from %s sop=%s study=%s item=%s version=%s in %.0f ms",
        receipt.outcome.value,
        who,
        receipt.sop_instance_uid,
        receipt.ids.study_instance_uid if receipt.ids else None,
        receipt.item_id,
        receipt.version,
        elapsed * 1000,
    )


def handle_echo(event: Event) -> int:
    """EVT_C_ECHO: verification always succeeds while the listener runs."""
    logger.debug("C-ECHO from %s", peer(event.assoc))
    return SUCCESS


def log_accepted(event: Event) -> None:
    logger.info("association accepted from %s", peer(event.assoc))


def refuse_over_peer_limit(event: Event, limit: int) -> None:
    """EVT_REQUESTED: reject with "local limit exceeded" when the caller's address already holds
    ``limit`` associations (pynetdicom's own ``maximum_associations`` counts all addresses)."""
    assoc = event.assoc
    address = assoc.requestor.address
    held = sum(
        1
        for other in assoc.ae.active_associations
        if other is not assoc
        and other.is_acceptor
        and other.requestor.address == address
        and not (other.is_released or other.is_aborted or other.is_rejected)
    )
    if held < limit:
        return
    _reasons[assoc] = f"{address} already holds {held} associations (per-address limit {limit})"
    # What pynetdicom does for its own rejections: A-ASSOCIATE-RJ, then wait for the DUL to close.
    assoc.acse.send_reject(*LOCAL_LIMIT_EXCEEDED)
    assoc.is_rejected = True  # the reactor then skips the negotiation
    evt.trigger(assoc, evt.EVT_REJECTED, {})
    assoc.kill()


def log_rejected(event: Event) -> None:
    metrics.REJECTED.labels(source=_SOURCE, reason="association_rejected").inc()
    assoc = event.assoc
    reason = _reasons.pop(assoc, None) or _reject_reason(assoc)
    logger.warning(
        "association rejected from %s (called %s): %s", peer(assoc), _called(assoc), reason
    )


def log_released(event: Event) -> None:
    logger.info("association released from %s", peer(event.assoc))


def note_abort(event: Event) -> None:
    """EVT_ACSE_RECV: remember why an A-ABORT or A-P-ABORT arrived, for :func:`log_aborted`."""
    primitive = event.primitive  # type: ignore[attr-defined]
    if isinstance(primitive, A_P_ABORT):
        reason = _PROVIDER_ABORTS.get(primitive.provider_reason, "provider abort")
        _reasons[event.assoc] = reason
    elif isinstance(primitive, A_ABORT):
        source = "service user" if primitive.abort_source == 0 else "its DICOM provider"
        _reasons[event.assoc] = f"A-ABORT from the peer's {source}"


def log_aborted(event: Event) -> None:
    assoc = event.assoc
    reason = _reasons.pop(assoc, None)
    if reason is None:  # radqc aborted it
        if assoc.dul.idle_timer_expired():
            reason = f"nothing received for the network timeout ({assoc.network_timeout:g} s)"
        else:
            reason = "aborted by radqc (the listener is stopping, or a DIMSE protocol error)"
    metrics.REJECTED.labels(source=_SOURCE, reason="association_aborted").inc()
    logger.warning("association aborted from %s: %s", peer(assoc), reason)


def _called(assoc: Association) -> str:
    request = assoc.requestor.primitive
    return str(getattr(request, "called_ae_title", "") or "?")


def _reject_reason(assoc: Association) -> str:
    answer = assoc.acceptor.primitive
    key = (getattr(answer, "result_source", None), getattr(answer, "diagnostic", None))
    return _REJECTIONS.get(key, f"source {key[0]}, diagnostic {key[1]}")
