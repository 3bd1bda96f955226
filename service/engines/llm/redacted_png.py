"""Render a DICOM image to a downscaled 8-bit PNG for the model.

Why: models see display pixels, so the image must look as the auditor's page shows it. The
pixels come from :mod:`service.display`, the one pipeline the audit page and the rules share:
Modality LUT, the file's VOI LUT or window (else the full range) stretched over the display
range, MONOCHROME1 inverted so bone is bright; a colour image as its luminance. Burned-in text
is blacked out first (:mod:`.redact`, always on). Only pixels go out; no header value is
embedded in the PNG.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from service.display import ImageDecodeError, display_image, read_image, to_uint8
from service.engines.base import ImageInput
from service.engines.llm.redact import downscale, redact
from service.errors import EngineError


class RenderError(EngineError):
    """The DICOM pixels could not be decoded or displayed."""


def display_array(ds: Dataset) -> NDArray[np.uint8]:
    """The 8-bit display image of the first frame of ``ds`` (greyscale)."""
    try:
        return to_uint8(display_image(ds).pixels)
    except ImageDecodeError as exc:
        raise RenderError(str(exc)) from exc


def load_display(path: str) -> NDArray[np.uint8]:
    """The 8-bit display image of the DICOM file at ``path``."""
    try:
        ds = read_image(path)
    except ImageDecodeError as exc:  # a file that is not readable DICOM fails the same way
        raise RenderError(str(exc)) from exc
    return display_array(ds)


def render_png(path: str, max_side: int = 768, item: ImageInput | None = None) -> bytes:
    """PNG bytes of the image at ``path``, burned-in text redacted (always), longest side at
    most ``max_side``; no metadata. ``item`` lets the rules engine's text check add its regions."""
    image = downscale(redact(load_display(path), item), max_side)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
