"""``cxr.artifact`` (bright compact foreign bodies over the lungs) and ``cxr.annotation``
(burned-in text over the lungs), from the same bright-spot mask.

A bright spot is a pixel near the top of the grey range and much brighter than its
surroundings, inside the lung zones, with spot neighbours (isolated noise pixels are dropped).
Text and metal differ in shape: a line of text crosses a row many times (one run per stroke),
a few metal objects only once or twice. Metal must also be solid and compact: each part must
stay bright on the 3x3-smoothed image (quantum noise does not) and must not be a line (the
bright edge of a tilted image, a grid line). Laterality markers and text in the corners are
outside the lung zones and not counted here.
"""

from __future__ import annotations

import numpy as np

from service.engines.base import Finding
from service.engines.rules._findings import finding
from service.engines.rules._measure import bright_spots, row_runs
from service.engines.rules._pixel_findings import pixel_check, region_evidence
from service.engines.rules.exposure import noise_dominated
from service.engines.rules.lungs import Anatomy, content_mask
from service.engines.rules.pixels import WorkingImage, box_mean, derived
from service.taxonomy import Severity

TEXT_ROWS = 4  # rows crossed by at least TEXT_RUNS separate strokes
TEXT_RUNS = 6
METAL_PIXELS = 20  # bright-spot pixels (working image) that make an object
SOLID_SHARE = 0.25  # share of an object's spots still bright after 3x3 smoothing
ELONGATED = 4.0  # longest extent / sqrt(area) beyond which a part is a line
TEXT_PARTS = 6  # small bright parts in one band that make a line of text
TEXT_ASPECT = 3.0  # the band's width over its height
MAX_SPOT_PIXELS = 20000  # more spots than this is a processing fault, not objects


def _spots(image: WorkingImage, a: Anatomy) -> np.ndarray:
    return derived(image.pixels, f"spots{a.body}", lambda: _find_spots(image, a))


def _find_spots(image: WorkingImage, a: Anatomy) -> np.ndarray:
    mask = bright_spots(image.pixels, a, 6)
    inside = box_mean(content_mask(image.pixels).astype(np.float32), 12) > 0.7
    mask &= inside
    # isolated spots (quantum noise) go: a stroke or an object pixel has spot neighbours
    neighbours = box_mean(mask.astype(np.float32), 1) * 9
    return np.asarray(mask & (neighbours >= 2 - 1e-3))


def _components(mask: np.ndarray) -> list[np.ndarray]:
    """8-connected components of ``mask`` as arrays of (row, col); at most a few thousand
    pixels are ever set, so a plain flood fill is fast enough."""
    points = {(int(r), int(c)) for r, c in zip(*np.nonzero(mask), strict=True)}
    found: list[np.ndarray] = []
    while points:
        stack = [points.pop()]
        part = []
        while stack:
            r, c = stack.pop()
            part.append((r, c))
            for dr in (-1, 0, 1):
                for dc in (-1, 0, 1):
                    near = (r + dr, c + dc)
                    if near in points:
                        points.remove(near)
                        stack.append(near)
        found.append(np.asarray(part))
    return found


def _solid(image: WorkingImage, a: Anatomy, mask: np.ndarray) -> np.ndarray:
    """The spots that form solid, compact objects. A part must stay bright on the 3x3-smoothed
    image (quantum noise does not) and must not be elongated (the bright edge of a tilted
    image, a grid line or a cable is a line, not a compact foreign body)."""
    if int(mask.sum()) > MAX_SPOT_PIXELS:
        return np.zeros_like(mask)
    smooth = bright_spots(box_mean(image.pixels, 1), a, 6)
    keep = np.zeros_like(mask)
    for part in _components(mask):
        rows, cols = part[:, 0], part[:, 1]
        if len(part) < 4 or float(smooth[rows, cols].mean()) < SOLID_SHARE:
            continue
        extent = max(int(np.ptp(rows)), int(np.ptp(cols))) + 1
        if extent / np.sqrt(len(part)) > ELONGATED:
            continue
        keep[rows, cols] = True
    return keep


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


def _text_line(mask: np.ndarray) -> np.ndarray:
    """Pixels of a line of glyphs: at least ``TEXT_PARTS`` small parts within one thin
    horizontal band (a glyph's height), the band at least ``TEXT_ASPECT`` times as wide as
    it is tall. Strokes too thick for the row-run test, seen only at their edges, still make
    such a band; one to three foreign bodies do not."""
    out = np.zeros_like(mask)
    if not mask.any() or int(mask.sum()) > MAX_SPOT_PIXELS:
        return out
    limit = max(3, int(mask.shape[0] * 0.06))  # a glyph is small against the image
    boxes: list[tuple[int, int, int, int]] = []
    parts: list[np.ndarray] = []
    for part in _components(mask):
        r0, r1 = int(part[:, 0].min()), int(part[:, 0].max())
        c0, c1 = int(part[:, 1].min()), int(part[:, 1].max())
        if len(part) >= 3 and r1 - r0 < limit and c1 - c0 < 2 * limit:
            boxes.append((r0, r1, c0, c1))
            parts.append(part)
    for top, _, _, _ in boxes:
        members = [i for i, b in enumerate(boxes) if top <= b[0] and b[1] < top + limit]
        if len(members) < TEXT_PARTS:
            continue
        height = max(boxes[i][1] for i in members) - top + 1
        width = max(boxes[i][3] for i in members) - min(boxes[i][2] for i in members) + 1
        if width >= TEXT_ASPECT * height:
            for i in members:
                out[parts[i][:, 0], parts[i][:, 1]] = True
    return out


def _text(image: WorkingImage, a: Anatomy) -> np.ndarray:
    """The bright spots that are text: rows crossed by many strokes, or a line of glyphs."""

    def compute() -> np.ndarray:
        mask = _spots(image, a)
        rows = _text_rows(mask)
        # on a noise-dominated image chance clusters of noise line up: row runs only there
        text = np.zeros_like(mask) if noise_dominated(image, a) else _text_line(mask)
        if int(rows.sum()) >= TEXT_ROWS:
            text |= mask & ~_without_text(mask, rows)
        return text

    return derived(image.pixels, f"text{a.body}", compute)


def check_text(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Burned-in text over the lung fields."""
    text = _text(image, a)
    count = int(text.sum())
    if count == 0:
        return []
    message = (
        "Burned-in text lies over the lung fields and may hide anatomy or show patient data; "
        "check the image and remove the text."
    )
    evidence = region_evidence(image, _box(text), "text_pixels", count, 1)
    return [finding("cxr.annotation", Severity.MAJOR, message, [evidence], 0.75)]


def check_metal(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """Bright compact objects over the lung fields (text excluded: cxr.annotation)."""
    mask = _spots(image, a)
    text = _text(image, a)
    if text.any():
        # the text's band, widened by a glyph height, is text: its stray pieces are not metal
        rows = np.flatnonzero(text.any(axis=1))
        cols = np.flatnonzero(text.any(axis=0))
        margin = int(rows[-1] - rows[0]) + 1
        mask = mask.copy()
        mask[
            max(0, int(rows[0]) - margin) : int(rows[-1]) + margin + 1,
            max(0, int(cols[0]) - margin) : int(cols[-1]) + margin + 1,
        ] = False
    mask = _solid(image, a, mask)
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
