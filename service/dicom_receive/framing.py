"""Is a received dataset whole? Every top-level element must end inside it, and the last one at
its very end.

:func:`~service.dicom_receive.identifiers.parse_identifiers` stops reading at (0020,1208), so a
dataset cut short in its pixel data, or one whose pixel data claims more bytes than were sent,
would be stored and acknowledged, and only fail later in a worker, when the sender no longer has a
chance to send it again. This walk reads element headers only: values longer than a few hundred
bytes are skipped with a seek, so a 10 MB image costs well under a millisecond.
"""

from __future__ import annotations

import io
import zlib
from typing import BinaryIO, Final

from pydicom.dataelem import RawDataElement
from pydicom.filereader import data_element_generator

from service.dicom_receive.accepted import DEFLATED, IMPLICIT_VR
from service.errors import InvalidInputError

_DEFER_BYTES: Final = 256  # values longer than this are skipped, not read
_UNDEFINED: Final = 0xFFFFFFFF
# A deflated dataset is inflated whole in memory: bounded, so a small "zip bomb" cannot take the
# listener's memory (a 4096x4096 16-bit image is 32 MiB).
MAX_INFLATED_BYTES: Final = 256 * 1024 * 1024


def inflated(stream: BinaryIO) -> io.BytesIO:
    """The bytes of a deflated dataset, inflated; :class:`InvalidInputError` if they are not
    deflate data or inflate to more than :data:`MAX_INFLATED_BYTES`."""
    stream.seek(0)
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    try:
        data = inflater.decompress(stream.read(), MAX_INFLATED_BYTES)
    except zlib.error as exc:
        raise InvalidInputError("the deflated dataset cannot be inflated") from exc
    if inflater.unconsumed_tail:
        raise InvalidInputError(
            f"the deflated dataset inflates to more than {MAX_INFLATED_BYTES} bytes"
        )
    return io.BytesIO(data)


def check_framing(stream: BinaryIO, transfer_syntax: str) -> None:
    """Raise :class:`InvalidInputError` unless the dataset's top-level elements tile it exactly."""
    if transfer_syntax == DEFLATED:
        stream = inflated(stream)
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    try:
        end = _last_element_end(stream, transfer_syntax == IMPLICIT_VR, size)
    except InvalidInputError:
        raise
    except Exception as exc:  # a parser fed untrusted bytes can fail in any way
        raise InvalidInputError(f"cannot walk the dataset: {type(exc).__name__}") from exc
    if end != size:
        raise InvalidInputError(f"the dataset ends inside an element ({size - end} bytes left)")


def _last_element_end(stream: BinaryIO, implicit: bool, size: int) -> int:
    end = 0
    elements = data_element_generator(stream, implicit, True, defer_size=_DEFER_BYTES)
    for element in elements:
        if isinstance(element, RawDataElement) and element.length != _UNDEFINED:
            end = element.value_tell + element.length
        else:  # undefined length: the generator has read up to its delimiter
            end = stream.tell()
        if end > size:
            raise InvalidInputError(
                f"element ({element.tag.group:04X},{element.tag.element:04X}) runs past the end"
                " of the dataset"
            )
    return end
