"""STOW-RS Store Instances (PS3.18 10.5): the parts of a spooled request body through the core's
one entry for received DICOM objects, and the Store Instances Response (Annex I) built from the
receipts.

Every part is a whole DICOM file; each is received on its own (a bad part fails alone, with its
Failure Reason) and only after the whole body has arrived and split cleanly: a body cut short, or
not delimited by its boundary, stores nothing (400). No success is reported before the object and
its job are committed: the core returns only then.
"""

from __future__ import annotations

import logging
import mmap
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from pydicom.dataset import Dataset

from dicom_listener.dicomweb.multipart import DICOM, Part, split
from service import metrics
from service.dicom_receive import DicomReceiver, Receipt, Rejection
from service.errors import InvalidInputError

logger = logging.getLogger(__name__)

_SOURCE: Final = "dicomweb"
MAX_PARTS: Final = 10_000
_WARNINGS_MAX: Final = 10  # Warning header fields on one response

# Failure Reason (0008,1197) values, PS3.18 Table I.2-2.
OUT_OF_RESOURCES: Final = 0xA700
DATA_SET_DOES_NOT_MATCH_SOP_CLASS: Final = 0xA900
CANNOT_UNDERSTAND: Final = 0xC000
TRANSFER_SYNTAX_NOT_SUPPORTED: Final = 0xC122
PROCESSING_FAILURE: Final = 0x0110
SOP_CLASS_NOT_SUPPORTED: Final = 0x0122
FAILURE_REASON: Final[dict[Rejection, int]] = {
    Rejection.MALFORMED: CANNOT_UNDERSTAND,
    Rejection.SOP_MISMATCH: DATA_SET_DOES_NOT_MATCH_SOP_CLASS,
    Rejection.STUDY_MISMATCH: DATA_SET_DOES_NOT_MATCH_SOP_CLASS,
    Rejection.SOP_CLASS_NOT_SUPPORTED: SOP_CLASS_NOT_SUPPORTED,
    Rejection.TRANSFER_SYNTAX_NOT_SUPPORTED: TRANSFER_SYNTAX_NOT_SUPPORTED,
    Rejection.OUT_OF_RESOURCES: OUT_OF_RESOURCES,
}


@dataclass(frozen=True, slots=True)
class PartResult:
    index: int
    sop_class_uid: str | None
    sop_instance_uid: str | None
    failure_reason: int | None  # None: stored (new, duplicate or new version)
    message: str = ""


@dataclass(frozen=True, slots=True)
class StowResult:
    parts: tuple[PartResult, ...]

    @property
    def http_status(self) -> int:
        """200 all stored; 202 some stored, some failed; 409 none stored (PS3.18 10.5.3.1)."""
        failed = sum(part.failure_reason is not None for part in self.parts)
        if not failed:
            return 200
        return 202 if failed < len(self.parts) else 409

    def response(self) -> dict[str, Any]:
        """The Store Instances Response Module as DICOM JSON (no Retrieve URL: radqc serves no
        WADO-RS)."""
        module = Dataset()
        stored = [_reference(part) for part in self.parts if part.failure_reason is None]
        failed = [_reference(part) for part in self.parts if part.failure_reason is not None]
        if failed:
            module.FailedSOPSequence = failed
        if stored:
            module.ReferencedSOPSequence = stored
        return dict(module.to_json_dict())

    def warnings(self) -> list[str]:
        """Warning header fields for the first failures (PS3.18 8.4: a status code and reason)."""
        failed = [part for part in self.parts if part.failure_reason is not None]
        return [
            f"299 radqc: part {part.index} failed with {part.failure_reason:04X}: {part.message}"
            for part in failed[:_WARNINGS_MAX]
        ]


def _reference(part: PartResult) -> Dataset:
    """A SOP Instance Reference item; the UIDs of a part too broken to read them are left out."""
    item = Dataset()
    if part.sop_class_uid:
        item.ReferencedSOPClassUID = part.sop_class_uid
    if part.sop_instance_uid:
        item.ReferencedSOPInstanceUID = part.sop_instance_uid
    if part.failure_reason is not None:
        item.FailureReason = part.failure_reason
    return item


class StowService:
    """Spools request bodies and stores their parts; one per process, called from a thread."""

    def __init__(
        self, receiver: DicomReceiver, spool_dir: Path, max_parts: int = MAX_PARTS
    ) -> None:
        self._receiver = receiver
        self._spool_dir = spool_dir
        self._max_parts = max_parts

    def spool(self) -> IO[bytes]:
        """A nameless temporary file for one request body (gone when closed, or on a crash)."""
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.TemporaryFile(dir=self._spool_dir)

    def store(self, spooled: IO[bytes], boundary: bytes, study: str | None, who: str) -> StowResult:
        """Store every part of the body in ``spooled``; :class:`InvalidInputError` (400) when the
        body is empty or not a multipart body delimited by ``boundary``: then nothing is stored."""
        started = time.perf_counter()
        spooled.flush()
        if spooled.seek(0, 2) == 0:
            raise InvalidInputError("the request body is empty")
        with mmap.mmap(spooled.fileno(), 0, access=mmap.ACCESS_READ) as body:
            parts = split(body, boundary, max_parts=self._max_parts)
            results = tuple(self._one(body, part, study) for part in parts)
        result = StowResult(results)
        _log(result, who, study, time.perf_counter() - started)
        return result

    def _one(self, body: mmap.mmap, part: Part, study: str | None) -> PartResult:
        started = time.perf_counter()
        if part.content_type != DICOM:
            message = f"a {part.content_type} part, not {DICOM}"
            return _failed(part, CANNOT_UNDERSTAND, message, "not_dicom")
        try:
            with memoryview(body) as whole, whole[part.start : part.end] as data:
                receipt = self._receiver.receive_file(data, study_instance_uid=study)
        except Exception as exc:  # one part's defect must not lose the others' answers
            logger.exception("STOW-RS part %d failed unexpectedly", part.index)
            return _failed(part, PROCESSING_FAILURE, f"internal error ({type(exc).__name__})")
        return _result(part, receipt, time.perf_counter() - started)


def _result(part: Part, receipt: Receipt, elapsed: float) -> PartResult:
    if receipt.reason is not None:
        reason = FAILURE_REASON[receipt.reason]
        return _failed(
            part,
            reason,
            receipt.message,
            receipt.reason.value,
            receipt.sop_class_uid,
            receipt.sop_instance_uid,
        )
    metrics.STORE_SECONDS.labels(source=_SOURCE).observe(elapsed)
    metrics.RECEIVED.labels(source=_SOURCE, outcome=receipt.outcome.value).inc()
    logger.info(
        "STOW-RS part %d %s sop=%s study=%s item=%s version=%s in %.0f ms",
        part.index,
        receipt.outcome.value,
        receipt.sop_instance_uid,
        receipt.ids.study_instance_uid if receipt.ids else None,
        receipt.item_id,
        receipt.version,
        elapsed * 1000,
    )
    return PartResult(part.index, receipt.sop_class_uid, receipt.sop_instance_uid, None)


def _failed(
    part: Part,
    reason: int,
    message: str,
    label: str = "unexpected",
    sop_class_uid: str | None = None,
    sop_instance_uid: str | None = None,
) -> PartResult:
    metrics.REJECTED.labels(source=_SOURCE, reason=label).inc()
    logger.warning(
        "STOW-RS part %d refused %04X (%s) sop=%s: %s",
        part.index,
        reason,
        label,
        sop_instance_uid,
        message,
    )
    return PartResult(part.index, sop_class_uid, sop_instance_uid, reason, message)


def _log(result: StowResult, who: str, study: str | None, elapsed: float) -> None:
    parts: Sequence[PartResult] = result.parts
    failed = sum(part.failure_reason is not None for part in parts)
    logger.info(
        "STOW-RS from %s study=%s: %d part(s), %d stored, %d failed, HTTP %d in %.0f ms",
        who,
        study,
        len(parts),
        len(parts) - failed,
        failed,
        result.http_status,
        elapsed * 1000,
    )
