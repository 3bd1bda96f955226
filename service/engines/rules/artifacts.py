"""``cxr.artifact`` (bright compact foreign bodies over the lungs) and ``cxr.annotation``
(burned-in text over the lungs), from the same bright-spot mask.

A bright spot is a pixel near the top of the grey range and much brighter than its
surroundings, inside the lung zones. Text and metal differ in shape: a line of text crosses
a row many times (one run per stroke), a few metal objects only once or twice. Laterality
markers and text in the corners are outside the lung zones and not counted here.
"""

from __future__ import annotations

import numpy as np

from service.engines.base import Finding
from service.engines.rules._findings import finding
from service.engines.rules._measure import bright_spots, row_runs
from service.engines.rules._pixel_findings import pixel_check, region_evidence
from service.engines.rules.lungs import Anatomy, content_mask
from service.engines.rules.pixels import WorkingImage, box_mean
from service.taxonomy import Severity

TEXT_ROWS = 4  # rows crossed by at least TEXT_RUNS separate strokes
TEXT_RUNS = 6
METAL_PIXELS = 20  # bright-spot pixels (working image) that make an object


def _spots(image: WorkingImage, a: Anatomy) -> np.ndarray:
    mask = bright_spots(image.pixels, a, 6)
    inside = box_mean(content_mask(image.pixels).astype(np.float32), 12) > 0.7
    return np.asarray(mask & inside)


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _text_rows(mask: np.ndarray) -> np.ndarray:
    return np.asarray(row_runs(mask) >= TEXT_RUNS)


def _without_text(mask: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``mask`` without the text block: the text rows' band, widened by its own height (the
    glyphs' first and last rows cross fewer strokes), over the columns the text spans."""
    text_rows = np.flatnonzero(rows)
    margin = int(text_rows[-1] - text_rows[0]) + 1
    r0, r1 = max(0, int(text_rows[0]) - margin), int(text_rows[-1]) + margin + 1
    cols = np.flatnonzero(mask[text_rows].any(axis=0))
    c0, c1 = max(0, int(cols[0]) - margin), int(cols[-1]) + margin + 1
    out = mask.copy()
    out[r0:r1, c0:c1] = False
    return out


def check_text(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Burned-in text over the lung fields."""
    mask = _spots(image, a)
    rows = _text_rows(mask)
    if int(rows.sum()) < TEXT_ROWS:
        return []
    text = mask & rows[:, None]
    message = (
        "Burned-in text lies over the lung fields and may hide anatomy or show patient data; "
        "check the image and remove the text."
    )
    evidence = region_evidence(image, _box(text), "text_rows", int(rows.sum()), TEXT_ROWS)
    return [finding("cxr.annotation", Severity.MAJOR, message, [evidence], 0.75)]


def check_metal(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Bright compact objects over the lung fields (text rows excluded)."""
    mask = _spots(image, a)
    rows = _text_rows(mask)
    if int(rows.sum()) >= TEXT_ROWS:
        mask = _without_text(mask, rows)
    count = int(mask.sum())
    if count < METAL_PIXELS:
        return []
    message = (
        "A bright foreign object (metal or similar) projects over the lung fields; check "
        "whether it hides anatomy and remove it if possible."
    )
    evidence = region_evidence(image, _box(mask), "bright_object_pixels", count, METAL_PIXELS)
    return [finding("cxr.artifact", Severity.MINOR, message, [evidence], 0.7)]


CHECKS = (pixel_check(check_text), pixel_check(check_metal))
