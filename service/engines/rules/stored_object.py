"""``cxr.metadata``: the stored object itself — does it carry an image, is the image complete,
and was this SOP Instance UID already received with other content?

The pixel check reads the stored file's elements up to the pixel data and stops there: it costs
a header read, not a decode.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.filereader import read_partial
from pydicom.tag import BaseTag

from service.engines.base import Finding, ImageInput
from service.engines.rules._dicom import parse_numbers, value_text
from service.engines.rules._findings import finding, tag_evidence
from service.errors import EngineError
from service.taxonomy import Severity

log = logging.getLogger(__name__)

CODE = "cxr.metadata"
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00009, 0x7FE00008})
_PIXEL_KEYWORDS = {
    0x7FE00010: "PixelData",
    0x7FE00009: "DoubleFloatPixelData",
    0x7FE00008: "FloatPixelData",
}
_UNDEFINED = 0xFFFFFFFF
_DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass(frozen=True, slots=True)
class PixelElement:
    """Where the pixel data element of a file starts and how long it says it is."""

    tag: int
    length: int
    value_offset: int
    file_size: int


def find_pixel_element(path: str) -> tuple[Dataset, PixelElement | None]:
    """The file's dataset up to its pixel data, and the pixel data element if there is one."""
    seen: list[PixelElement] = []
    try:
        with open(path, "rb") as fp:
            size = os.fstat(fp.fileno()).st_size

            def at_pixels(tag: BaseTag, vr: str | None, length: int) -> bool:
                if int(tag) in _PIXEL_TAGS:
                    seen.append(PixelElement(int(tag), length, fp.tell(), size))
                    return True
                return False

            dataset = read_partial(fp, at_pixels, force=True)
    except OSError as exc:
        raise EngineError(f"cannot read the stored file {os.path.basename(path)}: {exc}") from exc
    return dataset, (seen[0] if seen else None)


def _expected_native_length(ds: Dataset) -> int | None:
    """Bytes of uncompressed pixel data the image dimensions call for, when they are known."""
    numbers = [
        parse_numbers(value_text(ds, kw))
        for kw in ("Rows", "Columns", "SamplesPerPixel", "BitsAllocated")
    ]
    if any(n is None or len(n) != 1 for n in numbers):
        return None
    rows, columns, samples, bits = (int(n[0]) for n in numbers if n is not None)
    frames_value = parse_numbers(value_text(ds, "NumberOfFrames"))
    frames = int(frames_value[0]) if frames_value and len(frames_value) == 1 else 1
    if bits <= 0 or bits % 8 or min(rows, columns, samples, frames) <= 0:
        return None
    return rows * columns * samples * (bits // 8) * frames


def check_pixel_data(item: ImageInput) -> list[Finding]:
    """The stored file must contain pixel data, and all of it."""
    try:
        ds, element = find_pixel_element(item.path)
    except EngineError:
        raise
    except Exception as exc:  # a file pydicom cannot walk: other checks report its header
        log.warning(
            "pixel data check skipped for %s: %s", item.sop_instance_uid, type(exc).__name__
        )
        return []
    if element is None:
        message = (
            "The stored object contains no pixel data, so there is no image to read; ask the "
            "sender to resend the image."
        )
        return [finding(CODE, Severity.MAJOR, message, [tag_evidence("PixelData", None)], 0.97)]
    found = _incomplete(ds, element)
    if found is None:
        return []
    reason, expected = found
    message = f"The stored image is incomplete: {reason}; ask the sender to resend the image."
    keyword = _PIXEL_KEYWORDS[element.tag]
    evidence = [tag_evidence(keyword, None, length=element.length, expected=expected)]
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.95)]


def _incomplete(ds: Dataset, element: PixelElement) -> tuple[str, int | None] | None:
    """Why the pixel data is incomplete (and the length the image needs), or None if it is not.

    Native pixel data has a defined length; encapsulated (compressed) pixel data does not.
    """
    meta = getattr(ds, "file_meta", None)
    if isinstance(meta, Dataset) and value_text(meta, "TransferSyntaxUID") == _DEFLATED:
        return None  # offsets are in the inflated stream, not the file
    remaining = element.file_size - element.value_offset
    if element.length == _UNDEFINED:
        return ("the compressed pixel data is empty", None) if remaining < 16 else None
    expected = _expected_native_length(ds)
    if element.length > remaining:
        return f"the file ends {element.length - remaining} bytes early", expected
    if expected is not None and element.length < expected:
        return f"it holds {element.length} of the {expected} bytes the image size needs", expected
    return None


def check_resent_instance(item: ImageInput) -> list[Finding]:
    """The same SOP Instance UID received before with different content."""
    if not item.previous_sha256:
        return []
    message = (
        "This SOP Instance UID was received before with different content; check which "
        "version is correct before reading."
    )
    evidence = [
        tag_evidence(
            "SOPInstanceUID",
            item.sop_instance_uid,
            version=item.version,
            previous_sha256=item.previous_sha256,
        )
    ]
    return [finding(CODE, Severity.MAJOR, message, evidence, 0.95)]


CHECKS: tuple[Callable[[ImageInput], list[Finding]], ...] = (
    check_pixel_data,
    check_resent_instance,
)
