"""DIMSE event handlers: every C-STORE ends in a named status, never in an exception.

Runs on the association's thread, so it does only what the acknowledgement needs: parse the
identifiers, write the file, commit the row and job. QC happens later, in the workers.
"""

from __future__ import annotations

import logging
import time
from typing import Final, cast

from pydicom.dataset import Dataset
from pynetdicom.association import Association
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.events import Event

from dicom_listener.identifiers import Identifiers, parse_identifiers
from dicom_listener.receiver import InstanceReceiver
from service import metrics
from service.errors import InvalidInputError, StorageError

logger = logging.getLogger(__name__)

SUCCESS: Final = 0x0000
OUT_OF_RESOURCES: Final = 0xA700  # the file or its row could not be stored: retry later
DATASET_DOES_NOT_MATCH_SOP_CLASS: Final = 0xA900
CANNOT_UNDERSTAND: Final = 0xC210  # undecodable dataset, missing or malformed UIDs
UNEXPECTED_FAILURE: Final = 0xC211  # a defect in radqc; the same code pynetdicom uses

_SOURCE: Final = "dicom"
_ERROR_COMMENT_MAX: Final = 64  # VR LO


def peer(assoc: Association) -> str:
    """How log lines name an association: the calling AE and its address."""
    requestor = assoc.requestor
    return f"{requestor.ae_title}@{requestor.address}:{requestor.port}"


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


def _mismatch(ids: Identifiers, request: C_STORE, abstract_syntax: str) -> str | None:
    """Why the dataset does not belong to the request's context, or None when it does."""
    affected_class = str(request.AffectedSOPClassUID or "")
    affected_instance = str(request.AffectedSOPInstanceUID or "")
    if affected_class != abstract_syntax:
        return "AffectedSOPClassUID differs from the presentation context"
    if ids.sop_class_uid != abstract_syntax:
        return "SOPClassUID differs from the presentation context"
    if ids.sop_instance_uid != affected_instance:
        return "SOPInstanceUID differs from AffectedSOPInstanceUID"
    return None


def handle_store(event: Event, receiver: InstanceReceiver) -> Dataset:
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
    receiver: InstanceReceiver,
    request: C_STORE,
    who: str,
    affected: str,
    started: float,
) -> Dataset:
    abstract_syntax = str(event.context.abstract_syntax)
    transfer_syntax = str(event.context.transfer_syntax)
    stream = request.DataSet  # the dataset bytes exactly as received
    if stream is None:
        return _refuse(CANNOT_UNDERSTAND, "malformed", "no dataset", who, affected)
    try:
        ids = parse_identifiers(stream, transfer_syntax)
    except InvalidInputError as exc:
        return _refuse(CANNOT_UNDERSTAND, "malformed", str(exc), who, affected)
    mismatch = _mismatch(ids, request, abstract_syntax)
    if mismatch is not None:
        return _refuse(DATASET_DOES_NOT_MATCH_SOP_CLASS, "sop_mismatch", mismatch, who, affected)
    try:
        with stream.getbuffer() as dataset:  # a view, not a copy
            result = receiver.receive(dataset, ids, transfer_syntax, event.assoc.requestor.ae_title)
    except StorageError as exc:
        return _refuse(OUT_OF_RESOURCES, "out_of_resources", str(exc), who, affected)
    elapsed = time.perf_counter() - started
    metrics.STORE_SECONDS.labels(source=_SOURCE).observe(elapsed)
    metrics.RECEIVED.labels(source=_SOURCE, outcome=result.outcome.value).inc()
    logger.info(
        "C-STORE %s from %s sop=%s study=%s item=%d version=%d in %.0f ms",
        result.outcome.value,
        who,
        ids.sop_instance_uid,
        ids.study_instance_uid,
        result.item_id,
        result.version,
        elapsed * 1000,
    )
    return _status(SUCCESS)


def handle_echo(event: Event) -> int:
    """EVT_C_ECHO: verification always succeeds while the listener runs."""
    logger.debug("C-ECHO from %s", peer(event.assoc))
    return SUCCESS


def log_accepted(event: Event) -> None:
    logger.info("association accepted from %s", peer(event.assoc))


def log_rejected(event: Event) -> None:
    metrics.REJECTED.labels(source=_SOURCE, reason="association_rejected").inc()
    logger.warning("association rejected from %s", peer(event.assoc))


def log_released(event: Event) -> None:
    logger.info("association released from %s", peer(event.assoc))


def log_aborted(event: Event) -> None:
    logger.warning("association aborted from %s", peer(event.assoc))
