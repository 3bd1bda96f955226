"""A robust proxy for the chest anatomy on the working image: where the thorax is, where its
midline (spine and mediastinum) runs, and where the lung fields are.

No learned segmentation: the thorax is the part of the image that carries structure (constant
padding and empty detector carry none); the midline is the brightest vertical band in the middle
of the thorax; the lung fields are the pixels of the thorax darker than an Otsu threshold, in the
lateral zones either side of the midline. Measured features are computed once per working image.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from service.engines.rules.pixels import FloatImage, WorkingImage, box_mean, derived

_STRUCTURE = 0.004  # local standard deviation that separates content from padding
_MEMO_SIZE = 4


@dataclass(frozen=True, slots=True)
class Anatomy:
    """Boxes are (r0, c0, r1, c1) in working-image pixels, end exclusive."""

    body: tuple[int, int, int, int]
    midline: float  # column of the mediastinum in working pixels
    tilt_degrees: float  # angle of the midline from vertical
    lung_threshold: float
    lung_level: float  # median intensity of the lung fields
    tissue_level: float  # median intensity of the mediastinum band
    horizontal_contrast: float  # mediastinum minus lateral zones, across columns
    vertical_contrast: float  # the same measured across rows (a 90-degree rotation)
    top_bottom: float  # lateral zones: bottom band minus top band
    heart_side: float  # cardiac zone: image-right excess over image-left (see heart_shift)
    spine_offset: float  # midline from the centre of the thorax box, share of its width


_memo: dict[int, tuple[WorkingImage, Anatomy]] = {}
_lock = threading.Lock()


def anatomy(image: WorkingImage) -> Anatomy:
    """The anatomy of ``image``, measured once."""
    key = id(image)
    with _lock:
        hit = _memo.get(key)
        if hit is not None and hit[0] is image:
            return hit[1]
    found = measure(image.pixels)
    with _lock:
        if len(_memo) >= _MEMO_SIZE:
            _memo.clear()
        _memo[key] = (image, found)
    return found


def content_mask(pixels: FloatImage) -> np.ndarray:
    """Pixels with local structure: the image itself rather than padding (computed once)."""
    return derived(pixels, "content_mask", lambda: _content_mask(pixels))


def _content_mask(pixels: FloatImage) -> np.ndarray:
    mean = box_mean(pixels, 2)
    var = box_mean(pixels * pixels, 2) - mean * mean
    return np.asarray(var > _STRUCTURE**2)


def body_box(pixels: FloatImage) -> tuple[int, int, int, int]:
    mask = content_mask(pixels)
    h, w = pixels.shape
    rows = np.flatnonzero(mask.mean(axis=1) > 0.2)
    cols = np.flatnonzero(mask.mean(axis=0) > 0.2)
    if rows.size < 4 or cols.size < 4:
        return 0, 0, h, w
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def otsu(values: np.ndarray) -> float:
    hist, edges = np.histogram(values, bins=64, range=(0.0, 1.0))
    total = hist.sum()
    if total == 0:
        return 0.5
    centres = (edges[:-1] + edges[1:]) / 2
    weight = np.cumsum(hist)
    mean = np.cumsum(hist * centres)
    w0, w1 = weight, total - weight
    valid = (w0 > 0) & (w1 > 0)
    between = np.zeros_like(centres)
    between[valid] = (mean[-1] * w0[valid] - mean[valid] * total) ** 2 / (w0[valid] * w1[valid])
    return float(centres[int(np.argmax(between))])


def _band_contrast(zone: FloatImage) -> float:
    """Middle band of columns minus the lateral lung zones, rows 25..70 %."""
    h, w = zone.shape
    band = zone[int(h * 0.25) : int(h * 0.7)]
    if band.size == 0 or w < 10:
        return 0.0
    centre = band[:, int(w * 0.44) : int(w * 0.56)]
    lateral = np.hstack(
        [band[:, int(w * 0.15) : int(w * 0.35)], band[:, int(w * 0.65) : int(w * 0.85)]]
    )
    return float(np.median(centre) - np.median(lateral))


def _midline(zone: FloatImage) -> tuple[float, float]:
    """Column of the mediastinum and its tilt, from the bright band in row strips."""
    h, w = zone.shape
    lo, hi = int(w * 0.3), int(w * 0.7)
    if hi - lo < 3 or h < 8:
        return w / 2, 0.0
    xs: list[float] = []
    ys: list[float] = []
    for k in range(8):
        r0 = int(h * (0.15 + 0.07 * k))
        strip = zone[r0 : r0 + max(1, int(h * 0.07)), lo:hi].mean(axis=0)
        smooth = np.convolve(strip, np.ones(5) / 5, mode="same")
        xs.append(lo + float(np.argmax(smooth)))
        ys.append(r0 + h * 0.035)
    centre = float(np.median(xs))
    slope = float(np.polyfit(ys, xs, 1)[0]) if np.ptp(xs) > 0 else 0.0
    return centre, float(np.degrees(np.arctan(slope)))


def measure(pixels: FloatImage) -> Anatomy:
    r0, c0, r1, c1 = body_box(pixels)
    zone = pixels[r0:r1, c0:c1]
    h, w = zone.shape
    inner = zone[int(h * 0.05) : int(h * 0.95), int(w * 0.05) : int(w * 0.95)]
    threshold = otsu(inner if inner.size else zone)
    mid, tilt = _midline(zone)
    lateral = np.hstack(
        [zone[:, int(w * 0.12) : int(w * 0.38)], zone[:, int(w * 0.62) : int(w * 0.88)]]
    )
    lungs = lateral[int(h * 0.2) : int(h * 0.7)]
    dark = lungs[lungs < threshold]
    lung_level = float(np.median(dark)) if dark.size else threshold
    mi = int(mid)
    tissue = zone[int(h * 0.25) : int(h * 0.7), max(0, mi - max(1, w // 20)) : mi + max(1, w // 20)]
    tissue_level = float(np.median(tissue)) if tissue.size else threshold
    top = float(lateral[: max(1, int(h * 0.15))].mean()) if lateral.size else 0.0
    bottom = float(lateral[int(h * 0.85) :].mean()) if lateral.size and h > 6 else 0.0
    heart = (heart_shift(zone, w / 2) + heart_shift(zone, mid)) / 2
    return Anatomy(
        body=(r0, c0, r1, c1),
        midline=c0 + mid,
        tilt_degrees=tilt,
        lung_threshold=threshold,
        lung_level=lung_level,
        tissue_level=tissue_level,
        horizontal_contrast=_band_contrast(zone),
        vertical_contrast=_band_contrast(np.ascontiguousarray(zone.T)),
        top_bottom=bottom - top,
        heart_side=heart,
        spine_offset=(mid - w / 2) / max(w, 1),
    )


def _side_difference(zone: FloatImage, rows: tuple[float, float], centre: float) -> float:
    """Mean of a box right of ``centre`` minus its mirror box left of it (4-22 % of the width
    out from the centre), over the given share of the rows."""
    h, w = zone.shape
    band = zone[int(h * rows[0]) : int(h * rows[1])]
    right = band[:, int(centre + w * 0.04) : int(centre + w * 0.22)]
    left = band[:, max(0, int(centre - w * 0.22)) : max(0, int(centre - w * 0.04))]
    if not right.size or not left.size:
        return 0.0
    return float(right.mean() - left.mean())


def heart_shift(zone: FloatImage, centre: float) -> float:
    """Where the cardiac silhouette lies: the image-right minus image-left brightness of the
    cardiac zone (rows 50-75 % of the thorax), less the same difference in the upper chest
    (rows 20-40 %), which cancels brightness gradients across the whole image. About two
    thirds of the heart lies left of the spine, so on a correctly displayed PA/AP film this is
    positive; a left-right flip negates it exactly."""
    return _side_difference(zone, (0.5, 0.75), centre) - _side_difference(zone, (0.2, 0.4), centre)
