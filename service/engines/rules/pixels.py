"""Decoding a stored radiograph once into a small float working image the pixel checks share.

The grey levels come from :mod:`service.display`, the pipeline the audit page and the LLM's
picture share, up to and without its VOI step: the first frame, the Modality LUT (rescale or
Modality LUT Sequence), MONOCHROME1 inverted so that dense tissue is bright, colour as its
luminance (:func:`service.display.grey_levels`). The file's window is not applied: the checks'
thresholds are tuned on the full range of the modality values, and a window (often narrower,
clipping the lungs or the bone; on the tuning films the whole bit range) would move them. Instead
the values are block-averaged to at most ``WORK_SIZE`` pixels on the long side and scaled to 0..1
between their 0.5th and 99.5th percentiles. Statistics that need full resolution (clipping at the
bit-depth limits, distinct stored values) are taken once, on the stored values, while decoding.

Decoding is memoised per file (path, size and modification time): the engine runs its checks
in sequence on one ``ImageInput`` and every pixel check asks for the same working image.
A file without pixel data, or one that fails to decode, gives None: no pixel findings.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset

from service import display
from service.engines.base import ImageInput
from service.engines.rules._dicom import parse_numbers, value_text

log = logging.getLogger(__name__)

WORK_SIZE = 512  # long side of the working image
MIN_SIDE = 32  # smaller images are not analysed
_CACHE_SIZE = 4
FloatImage = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class WorkingImage:
    """A decoded image ready for the pixel checks."""

    pixels: FloatImage  # 0..1, dense tissue bright, shape (h, w)
    factor: int  # one working pixel covers factor x factor original pixels
    shape: tuple[int, int]  # rows, columns of the original image
    photometric: str  # as labelled in the header
    clip_low: float  # share of original pixels at the lowest possible value
    clip_high: float  # share at the highest possible value
    levels: int  # distinct stored values in a central sample
    bits: int  # BitsStored (0 when the header does not say)
    range_used: float  # stored values' 0.5th..99.5th percentile span over what the bits hold

    def region(self, r0: int, c0: int, r1: int, c1: int) -> list[int]:
        """A working-image box as ``[x0, y0, x1, y1]`` in original pixel coordinates."""
        f = self.factor
        rows, cols = self.shape
        return [
            max(0, c0 * f),
            max(0, r0 * f),
            min(cols, c1 * f),
            min(rows, r1 * f),
        ]


_cache: OrderedDict[tuple[str, int, int], WorkingImage | None] = OrderedDict()
_lock = threading.Lock()


def working_image(item: ImageInput) -> WorkingImage | None:
    """The item's working image, decoded at most once per file version."""
    try:
        stat = os.stat(item.path)
    except OSError:
        return None
    key = (item.path, stat.st_size, stat.st_mtime_ns)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    image = load(item.path)
    with _lock:
        _cache[key] = image
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return image


def load(path: str) -> WorkingImage | None:
    """Decode ``path`` into a working image; None when it has no usable pixels."""
    try:
        ds = display.read_image(path)
        raw = display.decode(ds)
    except display.NoPixelData:
        return None
    except display.ImageDecodeError as exc:  # stored_object and header checks report it
        log.info("pixels not decoded for %s: %s", os.path.basename(path), exc)
        return None
    try:
        return from_array(raw, ds)
    except Exception as exc:
        log.warning("pixels not analysed for %s: %s", os.path.basename(path), type(exc).__name__)
        return None


def from_array(raw: NDArray[Any], ds: Dataset) -> WorkingImage | None:
    """Normalise decoded stored values (first frame of a multi-frame, colour as luminance)
    into a working image."""
    raw = display.luminance(display.first_frame(raw, ds))
    if raw.ndim != 2 or min(raw.shape) < MIN_SIDE or not np.issubdtype(raw.dtype, np.number):
        return None
    lo_limit, hi_limit = _stored_limits(raw, ds)
    clip_low = float(np.count_nonzero(raw <= lo_limit)) / raw.size
    clip_high = float(np.count_nonzero(raw >= hi_limit)) / raw.size
    centre = raw[raw.shape[0] // 4 : 3 * raw.shape[0] // 4 : 3, raw.shape[1] // 4 :: 3]
    levels = int(np.unique(centre).size)
    sample = raw[::3, ::3]
    spread = np.percentile(sample, [0.5, 99.5]) if sample.size else np.zeros(2)
    range_used = float(spread[1] - spread[0]) / max(float(hi_limit - lo_limit), 1.0)
    bits = int(_number(ds, "BitsStored", 0))
    factor = max(1, -(-max(raw.shape) // WORK_SIZE))
    small = block_mean(display.grey_levels(raw, ds), factor)
    if not np.all(np.isfinite(small)):
        return None
    low, high = np.percentile(small, [0.5, 99.5])
    span = float(high - low)
    scaled = (small - np.float32(low)) / np.float32(span if span > 0 else 1.0)
    pixels = np.clip(scaled, 0.0, 1.0).astype(np.float32)
    rows, cols = raw.shape
    photometric = display.photometric(ds)
    if display.inverted(ds):
        clip_low, clip_high = clip_high, clip_low
    return WorkingImage(
        pixels, factor, (rows, cols), photometric, clip_low, clip_high, levels, bits, range_used
    )


def _number(ds: Dataset, keyword: str, default: float) -> float:
    numbers = parse_numbers(value_text(ds, keyword))
    return numbers[0] if numbers else default


def _stored_limits(raw: NDArray[np.generic], ds: Dataset) -> tuple[float, float]:
    """The lowest and highest values the stored bit depth allows (the data's own range when
    the header does not say)."""
    bits = int(_number(ds, "BitsStored", 0))
    signed = int(_number(ds, "PixelRepresentation", 0)) == 1
    if 1 <= bits <= 32:
        if signed:
            return -(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1
        return 0.0, 2.0**bits - 1
    return float(raw.min()), float(raw.max())


def block_mean(array: NDArray[np.generic], factor: int) -> FloatImage:
    """Average ``factor`` x ``factor`` blocks (edges that do not fill a block are dropped)."""
    data = np.asarray(array, dtype=np.float32)
    if factor <= 1:
        return data
    rows = data.shape[0] // factor * factor
    cols = data.shape[1] // factor * factor
    blocks = data[:rows, :cols].reshape(rows // factor, factor, cols // factor, factor)
    return np.asarray(blocks.mean(axis=(1, 3), dtype=np.float32), dtype=np.float32)


def box_mean(image: FloatImage, radius: int) -> FloatImage:
    """Mean over a (2r+1) square window, edges replicated (integral image)."""
    if radius <= 0:
        return image
    padded = np.pad(image.astype(np.float64), radius + 1, mode="edge")
    integral = padded.cumsum(axis=0).cumsum(axis=1)
    size = 2 * radius + 1
    total = (
        integral[size:, size:]
        - integral[:-size, size:]
        - integral[size:, :-size]
        + integral[:-size, :-size]
    )
    h, w = image.shape
    out = total[:h, :w] / (size * size)
    return np.asarray(out, dtype=np.float32)


_T = TypeVar("_T")
_derived: OrderedDict[tuple[int, str], tuple[FloatImage, object]] = OrderedDict()
_DERIVED_SIZE = 64


def derived(pixels: FloatImage, name: str, compute: Callable[[], _T]) -> _T:
    """A measurement of ``pixels`` computed once: several checks of one review share the
    content mask, the smoothed image, the bright spots. Keyed by the array's identity."""
    key = (id(pixels), name)
    with _lock:
        hit = _derived.get(key)
        if hit is not None and hit[0] is pixels:
            return cast(_T, hit[1])
    value = compute()
    with _lock:
        _derived[key] = (pixels, value)
        while len(_derived) > _DERIVED_SIZE:
            _derived.popitem(last=False)
    return value


def clear_cache() -> None:
    with _lock:
        _cache.clear()
        _derived.clear()
