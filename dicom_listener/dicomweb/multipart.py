"""``multipart/related`` request bodies (RFC 2387, RFC 2046 5.1) as DICOMweb STOW-RS sends them.

The body is first spooled to a temporary file (it may be gigabytes) and then split here, over a
memory map of that file: every part is a ``(start, end)`` span of it, handed on as a view and never
copied. Header blocks and Content-Type parameters are parsed by the standard library's ``email``
package. The boundary scan is our own: radqc has no multipart parser among its dependencies
(python-multipart is not installed; the ``email`` parser would hold the whole body in memory as
text), and over a memory map it is a few ``find`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from typing import Final, Protocol

from service.errors import InvalidInputError, RadqcError

DICOM: Final = "application/dicom"
MAX_HEADER_BYTES: Final = 16 * 1024  # one part's header block
_BOUNDARY_MAX: Final = 70  # RFC 2046 5.1.1
_PADDING: Final = b" \t"


class UnsupportedMediaType(RadqcError):
    """The request's Content-Type is not one STOW-RS here accepts (HTTP 415)."""


class Body(Protocol):
    """What the splitter reads: ``bytes`` or a read-only ``mmap``."""

    def find(self, sub: bytes, start: int = ..., end: int = ..., /) -> int: ...

    def __getitem__(self, index: slice, /) -> bytes: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Part:
    index: int  # 1-based, as a sender counts its parts
    content_type: str  # lower case, without parameters
    start: int  # of the content in the body
    end: int


def stow_boundary(content_type: str | None) -> bytes:
    """The boundary of a ``multipart/related; type="application/dicom"`` request.

    :class:`UnsupportedMediaType` for another media type or another ``type`` of parts;
    :class:`InvalidInputError` for a missing or invalid boundary.
    """
    header = Message()
    header["Content-Type"] = content_type or ""
    if not content_type or header.get_content_type() != "multipart/related":
        raise UnsupportedMediaType(
            f'the request must be multipart/related; type="{DICOM}" (PS3.10 files, one a part)'
        )
    kind = header.get_param("type")
    if kind is not None and str(kind).strip().lower() != DICOM:
        raise UnsupportedMediaType(
            f'only type="{DICOM}" parts are accepted (no metadata and bulk data requests)'
        )
    boundary = header.get_boundary()
    if not boundary:
        raise InvalidInputError("the Content-Type has no boundary parameter", location="boundary")
    if len(boundary) > _BOUNDARY_MAX or not boundary.isascii():  # email strips trailing spaces
        raise InvalidInputError(
            "the boundary is not a valid multipart boundary", location="boundary"
        )
    return boundary.encode("ascii")


def split(body: Body, boundary: bytes, *, max_parts: int) -> list[Part]:
    """The parts of ``body``; :class:`InvalidInputError` when the body is not delimited by
    ``boundary`` from its first part to its closing delimiter, or has more than ``max_parts``."""
    delimiter = b"\r\n--" + boundary
    if body[: len(delimiter) - 2] == delimiter[2:]:  # the first delimiter may open the body
        position = len(delimiter) - 2
    else:
        found = body.find(delimiter)
        if found < 0:
            raise InvalidInputError("no part of the body is delimited by the boundary given")
        position = found + len(delimiter)
    parts: list[Part] = []
    while body[position : position + 2] != b"--":  # not yet the closing delimiter
        if len(parts) == max_parts:
            raise InvalidInputError(f"the body has more than {max_parts} parts")
        start, content_type = _part_header(body, _line_end(body, position), len(parts) + 1)
        end = body.find(delimiter, start)
        if end < 0:
            raise InvalidInputError("the body ends without its closing boundary delimiter")
        parts.append(Part(len(parts) + 1, content_type, start, end))
        position = end + len(delimiter)
    return parts


def _line_end(body: Body, position: int) -> int:
    """Past the CRLF ending a boundary line (transport padding allowed before it)."""
    while body[position : position + 1] and body[position : position + 1] in _PADDING:
        position += 1
    if body[position : position + 2] != b"\r\n":
        raise InvalidInputError("a boundary delimiter is not followed by a line break")
    return position + 2


def _part_header(body: Body, position: int, index: int) -> tuple[int, str]:
    """Where the part's content starts, and its media type (``application/dicom`` if unsaid)."""
    if body[position : position + 2] == b"\r\n":  # no header fields at all
        return position + 2, DICOM
    end = body.find(b"\r\n\r\n", position, position + MAX_HEADER_BYTES)
    if end < 0:
        raise InvalidInputError(
            f"the header of part {index} does not end within {MAX_HEADER_BYTES} bytes"
        )
    header = BytesHeaderParser().parsebytes(body[position : end + 4])
    content_type = header.get_content_type() if "Content-Type" in header else DICOM
    return end + 4, content_type
