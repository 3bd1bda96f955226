"""Render a DICOM image to a downscaled 8-bit PNG for the model.

Why: models see display pixels, so the image must look as a radiologist's viewer shows it:
rescale (Modality LUT), then the VOI LUT or window (else the full range), then MONOCHROME1
inverted so bone is bright. Burned-in text is blacked out first (:mod:`.redact`, always on). Only
pixels go out; no header value is embedded in the PNG.
"""

from __future__ import annotations

import io

import numpy as np
from numpy.typing import NDArray
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from service.engines.base import ImageInput
from service.engines.llm.redact import downscale, redact
from service.errors import EngineError


class RenderError(EngineError):
    """The DICOM pixels could not be decoded or displayed."""


def display_array(ds: Dataset) -> NDArray[np.uint8]:
    """The 8-bit display image of a single-frame greyscale dataset."""
    try:
        arr = ds.pixel_array
    except Exception as exc:  # pydicom raises many types for undecodable pixel data
        raise RenderError(f"cannot decode pixel data: {exc}") from exc
    if arr.ndim == 3 and ds.get("SamplesPerPixel", 1) == 1:
        arr = arr[0]
    if arr.ndim != 2:
        raise RenderError(f"unsupported pixel array shape {arr.shape}")
    values = apply_modality_lut(arr, ds).astype(np.float64)
    if "VOILUTSequence" in ds or "WindowCenter" in ds:
        values = apply_voi_lut(values, ds, index=0).astype(np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) if high > low else np.zeros_like(values)
    if str(ds.get("PhotometricInterpretation", "")).strip() == "MONOCHROME1":
        scaled = 1.0 - scaled
    return np.asarray(np.round(scaled * 255.0), dtype=np.uint8)


def load_display(path: str) -> NDArray[np.uint8]:
    """The 8-bit display image of the DICOM file at ``path``."""
    try:
        ds = dcmread(path, force=True)
    except Exception as exc:  # a file that is not readable DICOM fails the same way every time
        raise RenderError(f"cannot read the DICOM file: {exc}") from exc
    if "TransferSyntaxUID" not in ds.file_meta:  # files written without a meta header
        ds.file_meta.TransferSyntaxUID = (
            ImplicitVRLittleEndian if ds.is_implicit_VR else ExplicitVRLittleEndian
        )
    return display_array(ds)


def render_png(path: str, max_side: int = 768, item: ImageInput | None = None) -> bytes:
    """PNG bytes of the image at ``path``, burned-in text redacted (always), longest side at
    most ``max_side``; no metadata. ``item`` lets the rules engine's text check add its regions."""
    image = downscale(redact(load_display(path), item), max_side)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()
