"""Why a message is not accepted, in HL7's terms: the ACK code and the ERR segment's parts."""

from __future__ import annotations

from enum import StrEnum

from service.errors import RadqcError


class AckCode(StrEnum):
    ACCEPT = "AA"  # stored, with its QC job
    ERROR = "AE"  # the content is wrong: fix the message before sending it again
    REJECT = "AR"  # not accepted here (sender, type, version, processing id) or not now


class ErrorCode(StrEnum):
    """HL7 table 0357 (message error condition codes) as ``code^text``."""

    SEGMENT_SEQUENCE = "100^Segment sequence error"
    REQUIRED_FIELD = "101^Required field missing"
    DATA_TYPE = "102^Data type error"
    TABLE_VALUE = "103^Table value not found"
    UNSUPPORTED_MESSAGE_TYPE = "200^Unsupported message type"
    UNSUPPORTED_EVENT = "201^Unsupported event code"
    UNSUPPORTED_PROCESSING_ID = "202^Unsupported processing id"
    UNSUPPORTED_VERSION = "203^Unsupported version id"
    UNKNOWN_KEY = "204^Unknown key identifier"
    DUPLICATE_KEY = "205^Duplicate key identifier"
    INTERNAL_ERROR = "207^Application internal error"


class HL7Problem(RadqcError):
    """A message radqc does not store: the ACK code to answer, the 0357 error code, where in the
    message (``PID^1^3``: segment, its sequence, field) and a reason for the sender's people.

    ``reason`` and ``location`` never quote the message's values: they go into the logs too."""

    def __init__(
        self,
        ack: AckCode,
        code: ErrorCode,
        reason: str,
        location: str = "",
    ) -> None:
        super().__init__(reason)
        self.ack = ack
        self.code = code
        self.reason = reason
        self.location = location


def content_error(code: ErrorCode, reason: str, location: str = "") -> HL7Problem:
    """``AE``: the message's content is wrong."""
    return HL7Problem(AckCode.ERROR, code, reason, location)


def rejected(code: ErrorCode, reason: str, location: str = "") -> HL7Problem:
    """``AR``: not accepted here, whatever its content."""
    return HL7Problem(AckCode.REJECT, code, reason, location)
