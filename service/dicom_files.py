"""Reading stored DICOM files (header only; pixels are decoded by the engines that need them)."""

from __future__ import annotations

from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from service.errors import InvalidInputError


def read_header(path: Path) -> Dataset:
    """The dataset and file meta of a stored file, without the pixel data."""
    try:
        return dcmread(path, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise InvalidInputError(f"cannot read stored DICOM file {path.name}: {exc}") from exc
