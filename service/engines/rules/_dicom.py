"""Reading DICOM values without ever raising: headers from the wild carry malformed values.

pydicom converts a value when it is first accessed and raises on a malformed one (``DS`` of
``"abc"``); these helpers fall back to the raw bytes instead, so a check sees the text as it
was sent.
"""

from __future__ import annotations

import math
from typing import Any

from pydicom.datadict import tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence


def value_text(ds: Dataset, keyword: str) -> str | None:
    """The element's value as stripped text (``""`` when empty), or None when it is absent.

    Multiple values are joined with a backslash, as DICOM stores them.
    """
    tag = tag_for_keyword(keyword)
    if tag is None:
        return None
    try:
        if tag not in ds:
            return None
        value: Any = ds[tag].value
    except Exception:  # malformed value: use the bytes as received
        value = _raw_value(ds, tag)
    return _as_text(value)


def upper_text(ds: Dataset, keyword: str) -> str:
    """The value upper-cased, ``""`` when absent or empty."""
    return (value_text(ds, keyword) or "").upper()


def sequence_items(ds: Dataset, keyword: str) -> list[Dataset]:
    """The items of a sequence element; empty when absent or unreadable."""
    tag = tag_for_keyword(keyword)
    if tag is None:
        return []
    try:
        if tag not in ds:
            return []
        value = ds[tag].value
    except Exception:
        return []
    if isinstance(value, Sequence):
        return [item for item in value if isinstance(item, Dataset)]
    return []


def parse_numbers(text: str | None) -> list[float] | None:
    """``"0.143\\0.143"`` -> [0.143, 0.143]; None when empty or any part is not a finite number."""
    if not text:
        return None
    numbers: list[float] = []
    for part in text.split("\\"):
        try:
            number = float(part.strip())
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        numbers.append(number)
    return numbers


def sop_class_uid(ds: Dataset) -> str:
    """SOPClassUID from the dataset, else from the file meta; ``""`` when neither has it."""
    uid = value_text(ds, "SOPClassUID")
    if uid:
        return uid
    meta = getattr(ds, "file_meta", None)
    if isinstance(meta, Dataset):
        return value_text(meta, "MediaStorageSOPClassUID") or ""
    return ""


def _raw_value(ds: Dataset, tag: int) -> Any:
    try:
        return ds.get_item(tag).value
    except Exception:
        return None


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("latin-1").strip(" \x00\t\r\n")
    if isinstance(value, Sequence):
        return f"<{len(value)} item(s)>" if len(value) else ""
    if isinstance(value, str):
        return value.strip(" \x00\t\r\n")
    if isinstance(value, list | tuple | MultiValue):
        return "\\".join(_as_text(v) for v in value)
    return str(value).strip(" \x00\t\r\n")
