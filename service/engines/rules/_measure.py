"""Pixel measurements shared by the pixel checks, each computed on the working image.

Thresholds live with the checks; these functions only measure. Every measurement is cheap
(a few passes over a 512-pixel image) and returns a plain number or a working-pixel box.
"""

from __future__ import annotations

import numpy as np

from service.engines.rules.lungs import content_mask
from service.engines.rules.pixels import FloatImage, box_mean


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
