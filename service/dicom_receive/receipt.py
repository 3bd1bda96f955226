"""What a protocol adapter hands in with a received dataset, and what it gets back.

The outcome is protocol-neutral: the DIMSE side maps a :class:`Receipt` to a C-STORE status, the
DICOMweb side to a Store Instances Response item and its Failure Reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from service.dicom_receive.identifiers import Identifiers
from service.ingest import Outcome


class Status(StrEnum):
    STORED = "stored"  # new object: file, row, item and job committed
    DUPLICATE = "duplicate"  # the same bytes again: nothing new
    NEW_VERSION = "new_version"  # same SOP Instance UID, other bytes: a new version, a conflict
    REJECTED = "rejected"  # nothing stored; see the reason


class Rejection(StrEnum):
    """Why nothing was stored (the values are the ``reason`` label of ``radqc_rejected_total``)."""

    MALFORMED = "malformed"  # undecodable, a required UID missing or invalid, cut short
    SOP_MISMATCH = "sop_mismatch"  # not the SOP class or instance the sender announced
    STUDY_MISMATCH = "study_mismatch"  # not in the study the sender announced
    SOP_CLASS_NOT_SUPPORTED = "sop_class_not_supported"  # not a chest X-ray image class
    TRANSFER_SYNTAX_NOT_SUPPORTED = "transfer_syntax_not_supported"
    OUT_OF_RESOURCES = "out_of_resources"  # the file or its rows could not be stored: retry


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the protocol said about the dataset before its bytes were read (the C-STORE request
    and presentation context, a DICOM file's meta, the study in a STOW-RS URL); None: unsaid."""

    sop_class_uid: str | None = None
    sop_instance_uid: str | None = None
    study_instance_uid: str | None = None


_OUTCOMES = {
    Status.STORED: Outcome.CREATED,
    Status.DUPLICATE: Outcome.DUPLICATE,
    Status.NEW_VERSION: Outcome.NEW_VERSION,
}


@dataclass(frozen=True, slots=True)
class Receipt:
    status: Status
    ids: Identifiers | None = None  # None when the dataset could not be read
    item_id: int | None = None
    version: int | None = None
    reason: Rejection | None = None
    message: str = ""  # why it was rejected; never patient data
    envelope: Envelope = Envelope()  # what the sender announced

    @property
    def stored(self) -> bool:
        """The object and its job are durable: the sender may be told "success"."""
        return self.status is not Status.REJECTED

    @property
    def outcome(self) -> Outcome:
        """The ingest outcome of a stored object (the ``outcome`` label of
        ``radqc_received_total``, shared with the other sources)."""
        return _OUTCOMES[self.status]

    @property
    def sop_class_uid(self) -> str | None:
        """The dataset's SOP Class UID, else the one announced (None if neither is known)."""
        return self.ids.sop_class_uid if self.ids else self.envelope.sop_class_uid

    @property
    def sop_instance_uid(self) -> str | None:
        """The dataset's SOP Instance UID, else the one announced (None if neither is known)."""
        return self.ids.sop_instance_uid if self.ids else self.envelope.sop_instance_uid


def rejected(
    reason: Rejection, message: str, ids: Identifiers | None, envelope: Envelope
) -> Receipt:
    return Receipt(Status.REJECTED, ids=ids, reason=reason, message=message, envelope=envelope)
