"""Pixel measurements shared by the pixel checks, each computed on the working image.

Thresholds live with the checks; these functions only measure. Every measurement is cheap
(a few passes over a 512-pixel image) and returns a plain number or a working-pixel box.
"""

from __future__ import annotations

import numpy as np

from service.engines.rules.lungs import Anatomy, content_mask
from service.engines.rules.pixels import FloatImage, box_mean

EDGE_INSET = 0.02  # share of the thorax height skipped at the top and bottom edges


def detail_ratio(pixels: FloatImage, body: tuple[int, int, int, int]) -> tuple[float, float]:
    """Fine-scale energy over mid-scale energy inside the body (low: blurred; high: noisy),
    and the mid-scale energy itself."""
    r0, c0, r1, c1 = body
    zone = pixels[r0:r1, c0:c1]
    if min(zone.shape) < 12:
        return 0.5, 0.0
    fine = box_mean(zone, 1)
    coarse = box_mean(zone, 4)
    e1 = float(np.abs(zone - fine).mean())
    e2 = float(np.abs(fine - coarse).mean())
    return e1 / max(e2, 1e-6), e2


def empty_corners(pixels: FloatImage) -> list[float]:
    """Share of each corner square (15 % of the side) without image structure: TL, TR, BL, BR."""
    mask = content_mask(pixels)
    h, w = mask.shape
    s, t = max(1, int(h * 0.15)), max(1, int(w * 0.15))
    corners = (mask[:s, :t], mask[:s, -t:], mask[-s:, :t], mask[-s:, -t:])
    return [1.0 - float(c.mean()) for c in corners]


def border_lungness(pixels: FloatImage, a: Anatomy) -> dict[str, tuple[float, list[int]]]:
    """For each border of the thorax: how lung-like (0 tissue .. 1 lung) its strip is, and the
    strip as a working box (r0, c0, r1, c1)."""
    r0, c0, r1, c1 = a.body
    h, w = r1 - r0, c1 - c0
    dh, dw = max(1, int(h * 0.04)), max(1, int(w * 0.03))
    # the outermost rows carry edge effects (collimator lines, filter roll-off, processing
    # kernels running off the image): the strips start 2 % inside the edge
    inset = int(h * EDGE_INSET)
    t0, b1 = r0 + inset, r1 - inset
    left = (int(c0 + w * 0.12), int(c0 + w * 0.38))
    right = (int(c0 + w * 0.62), int(c0 + w * 0.88))
    mid_rows = (int(r0 + h * 0.3), int(r0 + h * 0.65))
    strips = {
        "top": [(t0, left[0], t0 + dh, left[1]), (t0, right[0], t0 + dh, right[1])],
        "bottom": [(b1 - dh, left[0], b1, left[1]), (b1 - dh, right[0], b1, right[1])],
        "left": [(mid_rows[0], c0, mid_rows[1], c0 + dw)],
        "right": [(mid_rows[0], c1 - dw, mid_rows[1], c1)],
    }
    span = max(a.tissue_level - a.lung_level, 0.05)
    found: dict[str, tuple[float, list[int]]] = {}
    for side, boxes in strips.items():
        values = [
            float(np.median(pixels[b[0] : b[2], b[1] : b[3]]))
            for b in boxes
            if pixels[b[0] : b[2], b[1] : b[3]].size
        ]
        if not values:
            continue
        lung = [(a.tissue_level - v) / span for v in values]
        # air outside the body is darker than lung: lung-like means within the lung band
        score = max((x if x <= 1.6 else 0.0) for x in lung)
        box = [min(b[0] for b in boxes), min(b[1] for b in boxes)]
        box += [max(b[2] for b in boxes), max(b[3] for b in boxes)]
        found[side] = (score, box)
    return found


def edge_bands(pixels: FloatImage, a: Anatomy) -> dict[str, tuple[float, list[int]]]:
    """For the top and bottom 20 % of the thorax: how lung-like (0 tissue .. 1 lung) the
    band's most tissue-like row is in the lateral zones, the larger of the two sides; and the
    band as a working box (r0, c0, r1, c1). A complete chest has shoulders above and the
    diaphragm below the lungs, so some row of each band is tissue."""
    r0, c0, r1, c1 = a.body
    h, w = r1 - r0, c1 - c0
    if h < 10 or w < 10:
        return {}
    zone = box_mean(pixels, 2)[r0:r1, c0:c1]
    span = max(a.tissue_level - a.lung_level, 0.05)
    band = max(1, int(h * 0.2))
    inset = int(h * EDGE_INSET)
    found: dict[str, tuple[float, list[int]]] = {}
    for side, rows in (
        ("top", slice(inset, inset + band)),
        ("bottom", slice(h - inset - band, h - inset)),
    ):
        scores = []
        for lo, hi in ((0.12, 0.38), (0.62, 0.88)):
            profile = np.median(zone[rows, int(w * lo) : int(w * hi)], axis=1)
            lungness = (a.tissue_level - profile) / span
            if float(lungness.max()) > 1.6:
                scores.append(0.0)  # air beyond the body in the band: the body ends inside
            else:
                scores.append(float(lungness.min()))
        top = r0 + inset if side == "top" else r1 - inset - band
        found[side] = (max(scores), [top, c0, top + band, c1])
    return found


def bright_spots(pixels: FloatImage, a: Anatomy, radius: int) -> np.ndarray:
    """Pixels over the lung zones far brighter than their surroundings and near the top of
    the grey range: metal, or burned-in text."""
    r0, c0, r1, c1 = a.body
    h, w = r1 - r0, c1 - c0
    mask = np.zeros(pixels.shape, dtype=bool)
    rows = slice(int(r0 + h * 0.15), int(r0 + h * 0.8))
    cols = slice(int(c0 + w * 0.08), int(c1 - w * 0.08))
    zone = pixels[rows, cols]
    if min(zone.shape) < 8:
        return mask
    contrast = zone - box_mean(zone, radius)
    spots = (zone > 0.93) & (contrast > max(0.2, 0.6 * (a.tissue_level - a.lung_level)))
    mask[rows, cols] = spots
    return mask


def row_runs(mask: np.ndarray) -> np.ndarray:
    """Number of separate runs of True in each row."""
    starts = mask[:, 1:] & ~mask[:, :-1]
    return np.asarray(starts.sum(axis=1) + mask[:, 0])
