"""A received frame as an HL7 message: the MSH header checked by hand, the rest parsed by
python-hl7.

python-hl7 takes the separators from the message without checking them, so MSH-1 and MSH-2 are
checked first: a field separator and four (v2.7+: five) distinct encoding characters, none a
letter, digit or white space. The character set is MSH-18's (ASCII when absent; UTF-8 is
accepted as its superset), read before the message is decoded. Segments may be separated by CR,
LF or CRLF.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import hl7

from hl7_adapter.errors import AckCode, ErrorCode, HL7Problem, content_error
from hl7_adapter.fields import value

DEFAULT_ENCODING_CHARACTERS = "^~\\&"
# MSH-18 (HL7 table 0211) -> Python codec; absent: ASCII, read as UTF-8 (its superset)
_CHARSETS = {
    "": "utf-8",
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8",
    "UTF-8": "utf-8",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/5": "iso8859-5",
    "8859/7": "iso8859-7",
    "8859/9": "iso8859-9",
    "8859/15": "iso8859-15",
}


class Unreadable(HL7Problem):
    """Not an HL7 message that can be answered in its own terms (no MSH, wrong encoding
    characters): answered with a generic ``AR`` and the connection is closed."""

    def __init__(self, reason: str) -> None:
        super().__init__(AckCode.REJECT, ErrorCode.SEGMENT_SEQUENCE, reason, "MSH")


@dataclass(frozen=True, slots=True)
class Header:
    """What radqc reads from MSH, and the separators to answer with."""

    field_separator: str
    encoding_characters: str
    sending_application: str  # MSH-3.1
    sending_facility: str  # MSH-4.1
    message_type: str  # MSH-9.1
    trigger_event: str  # MSH-9.2
    control_id: str  # MSH-10
    processing_id: str  # MSH-11.1
    version: str  # MSH-12.1
    charset: str  # MSH-18 (first repetition), as sent
    raw_fields: tuple[str, ...]  # MSH-1 .. MSH-n as sent (escaped), for echoing in the ACK

    def raw(self, number: int) -> str:
        """MSH-``number`` exactly as sent ("" when absent)."""
        return self.raw_fields[number - 1] if number <= len(self.raw_fields) else ""


@dataclass(frozen=True, slots=True)
class ParsedMessage:
    header: Header
    message: Any  # hl7.Message


def _separators(frame: bytes) -> tuple[str, str]:
    """(MSH-1, MSH-2), or :class:`Unreadable`."""
    if not frame.startswith(b"MSH") or len(frame) < 8:
        raise Unreadable("not an HL7 v2 message: it does not begin with an MSH segment")
    head = frame[:16].decode("latin-1")
    separator = head[3]
    end = head.find(separator, 4)
    encoding = head[4:end] if end > 0 else ""
    characters = separator + encoding
    if (
        len(encoding) not in (4, 5)
        or len(set(characters)) != len(characters)
        or any(c.isalnum() or c.isspace() or not c.isprintable() for c in characters)
        or any(ord(c) > 126 for c in characters)
    ):
        raise Unreadable(
            "MSH-1/MSH-2 do not hold a field separator and four distinct encoding characters"
        )
    return separator, encoding


def _msh_fields(frame: bytes, separator: str) -> list[str]:
    """MSH-1 .. MSH-n as sent (decoded as Latin-1, which any byte is: only ASCII is read)."""
    line = frame.decode("latin-1").replace("\n", "\r").split("\r", 1)[0]
    parts = line.split(separator)
    return [separator, *parts[1:]]


def first_component(msh: Sequence[str], number: int, component: int = 1) -> str:
    """A component of the first repetition of MSH-``number`` as sent (MSH-1 is ``msh[0]``),
    still escaped: for the header fields that hold codes and names."""
    raw = msh[number - 1] if number <= len(msh) else ""
    encoding = msh[1]
    parts = raw.split(encoding[1], 1)[0].split(encoding[0])
    return parts[component - 1].strip() if component <= len(parts) else ""


def codec_of(msh: Sequence[str]) -> str | None:
    """The Python codec of the message's character set (MSH-18); ``None`` if unsupported."""
    name = _CHARSETS.get(first_component(msh, 18).upper())
    return codecs.lookup(name).name if name else None


def header_of(frame: bytes) -> tuple[list[str], str, str]:
    """(MSH fields as sent, MSH-1, MSH-2) of a frame, or :class:`Unreadable`."""
    separator, encoding = _separators(frame)
    return _msh_fields(frame, separator), separator, encoding


def parse(frame: bytes) -> ParsedMessage:
    """The frame's message; :class:`Unreadable` or an ``AE`` :class:`HL7Problem` if it is not
    one radqc can read."""
    raw_fields, separator, encoding = header_of(frame)
    charset = first_component(raw_fields, 18)
    codec = codec_of(raw_fields)
    if codec is None:
        raise content_error(
            ErrorCode.TABLE_VALUE, "this character set (MSH-18) is not supported", "MSH^1^18"
        )
    try:
        text = frame.decode(codec)
    except UnicodeDecodeError as exc:
        raise content_error(
            ErrorCode.DATA_TYPE,
            f"the message is not valid {charset or 'ASCII or UTF-8'} text (MSH-18)",
            "MSH^1^18",
        ) from exc
    if "\x00" in text:
        raise content_error(ErrorCode.DATA_TYPE, "the message holds a NUL character")
    text = text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")
    try:
        message = hl7.parse(text)
        msh = message.segment("MSH")
    except (hl7.HL7Exception, ValueError, IndexError, KeyError, TypeError) as exc:
        raise content_error(ErrorCode.SEGMENT_SEQUENCE, "the message cannot be parsed") from exc
    header = Header(
        field_separator=separator,
        encoding_characters=encoding,
        sending_application=value(msh, 3),
        sending_facility=value(msh, 4),
        message_type=value(msh, 9, 1),
        trigger_event=value(msh, 9, 2),
        control_id=value(msh, 10),
        processing_id=value(msh, 11),
        version=value(msh, 12),
        charset=charset,
        raw_fields=tuple(raw_fields),
    )
    return ParsedMessage(header, message)
