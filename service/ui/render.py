"""Rendering a stored chest X-ray to PNG for the audit page, on the server.

Display pipeline, in DICOM's order: stored values -> Modality LUT (RescaleSlope/Intercept or a
Modality LUT Sequence) -> VOI: the auditor's window when given, else the file's VOI LUT or first
window, else the full range -> MONOCHROME1 inverted so bone is always white -> 8 bits. Large
images are shrunk (``max_side``) before the PNG is encoded: the page zooms in the browser, and a
3000-pixel detector image does not need 9 MB of PNG to be judged.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from numpy.typing import NDArray
from PIL import Image
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut

from service.errors import InvalidInputError

MAX_SIDE = 1024


@dataclass(frozen=True, slots=True)
class Window:
    """An explicit VOI window in modality units (after rescale)."""

    center: float
    width: float

    def __post_init__(self) -> None:
        if not self.width > 0:
            raise InvalidInputError("window width must be greater than 0", location="width")


@dataclass(frozen=True, slots=True)
class Rendered:
    png: bytes
    default_window: Window  # what the page's sliders start from
    value_range: tuple[float, float]


class NoPixelData(ValueError):
    """The stored object has no pixel data (a header-only or dose-report object)."""


_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def placeholder_png(size: int = 256) -> bytes:
    """A plain dark square the page shows where an object has no pixels to render."""
    return _png(Image.new("L", (size, size), 40))


def render_png(
    path: Path, window: Window | None = None, *, invert: bool = False, max_side: int = MAX_SIDE
) -> Rendered:
    dataset = pydicom.dcmread(path, force=True)
    if not any(keyword in dataset for keyword in _PIXEL_KEYWORDS):
        raise NoPixelData("the object has no pixel data")
    pixels = np.asarray(dataset.pixel_array)
    if pixels.ndim == 3 and pixels.shape[-1] in (3, 4):  # colour (e.g. secondary capture)
        return _colour(pixels, max_side)
    if pixels.ndim == 3:  # multi-frame: the first frame
        pixels = pixels[0]
    values = np.asarray(apply_modality_lut(pixels, dataset), dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    default = _default_window(dataset, pixels, low, high)
    if window is None and "VOILUTSequence" in dataset:
        shown = _normalise(np.asarray(apply_voi_lut(pixels, dataset), dtype=np.float64))
    else:
        shown = _apply_window(values, window or default)
    if str(dataset.get("PhotometricInterpretation", "")) == "MONOCHROME1":
        shown = 1.0 - shown
    if invert:
        shown = 1.0 - shown
    image = Image.fromarray(np.round(shown * 255).astype(np.uint8), mode="L")
    return Rendered(_png(_shrink(image, max_side)), default, (low, high))


def _default_window(
    dataset: pydicom.Dataset, pixels: NDArray[np.generic], low: float, high: float
) -> Window:
    center, width = dataset.get("WindowCenter"), dataset.get("WindowWidth")
    if center is not None and width is not None:
        first = _first(center), _first(width)
        if first[1] > 0:
            return Window(first[0], first[1])
    return Window((low + high) / 2, max(high - low, 1.0))


def _first(value: object) -> float:
    if isinstance(value, pydicom.multival.MultiValue | list | tuple):
        return float(value[0])
    return float(value)  # type: ignore[arg-type]


def _apply_window(values: NDArray[np.float64], window: Window) -> NDArray[np.float64]:
    """DICOM's linear VOI function (PS3.3 C.11.2.1.2.1), scaled to 0..1."""
    c, w = window.center - 0.5, window.width - 1.0
    if w <= 0:
        return np.where(values > c, 1.0, 0.0)
    return np.clip((values - c) / w + 0.5, 0.0, 1.0)


def _normalise(values: NDArray[np.float64]) -> NDArray[np.float64]:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros_like(values)
    return (values - low) / (high - low)


def _colour(pixels: NDArray[np.generic], max_side: int) -> Rendered:
    image = Image.fromarray(np.asarray(pixels[..., :3], dtype=np.uint8), mode="RGB")
    return Rendered(_png(_shrink(image, max_side)), Window(127.5, 256.0), (0.0, 255.0))


def _shrink(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    scale = max_side / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=3)
    return buffer.getvalue()
