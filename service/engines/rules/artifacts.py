"""``cxr.artifact`` (foreign bodies over the lungs) and ``cxr.annotation`` (burned-in text
over the lungs).

- Text: a bright spot is a pixel near the top of the grey range and much brighter than its
  surroundings, inside the lung zones, with spot neighbours (isolated noise pixels are
  dropped). A line of text crosses a row many times (one run per stroke), or makes a thin
  band of small parts. Laterality markers and text in the corners are outside the lung zones
  and not counted here.
- Foreign bodies (ECG electrodes and their leads, buttons and snaps, jewellery, detector
  defects): pixels inside the lungs the anatomy model finds that are much brighter than the
  13x13 neighbourhood around them (``OBJECT_CONTRAST`` on the working image's 0..1 scale),
  with object neighbours, text excluded; reported from ``METAL_PIXELS`` of them. Inside the
  lungs nothing normal is that much brighter than its surroundings (the ribs, vessels and
  the heart border are softer, and the bones of the mediastinum and shoulders are outside
  the masks): on the dev films of the image benchmark clean films had 0-35 such pixels but
  for two at 94 and 348 (one holds a real device), films with an ECG set 64-496. Tubes and
  lines that belong in the chest are not told apart yet. Not measured on a noise-dominated
  image (cxr.exposure reports it).
- Detector line defects: a row or column of the detector that reads brighter or darker than
  both its neighbours two pixels away along most of its length (the median over the line of
  the smaller of the two differences, ``LINE_RIDGE``), 3 % inside the edges. Anatomy has no
  straight ridge across the whole film and a collimator or shutter edge is a step, not a
  ridge: clean dev films of the image benchmark scored at most 0.01, films with line defects
  0.09-0.82.
"""

from __future__ import annotations

import numpy as np

from service.engines.base import Finding
from service.engines.rules import anatomy as model
from service.engines.rules._findings import finding
from service.engines.rules._measure import bright_spots, row_runs
from service.engines.rules._pixel_findings import pixel_check, region_evidence
from service.engines.rules.exposure import noise_dominated
from service.engines.rules.lungs import Anatomy, content_mask
from service.engines.rules.pixels import WorkingImage, box_mean, derived
from service.taxonomy import Severity

OBJECT_CONTRAST = 0.25  # brighter than the 13x13 mean around it (0..1 working scale)
TEXT_ROWS = 4  # rows crossed by at least TEXT_RUNS separate strokes
TEXT_RUNS = 6
METAL_PIXELS = 30  # object pixels (working image, 512 on its long side) that are reported
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


def _lung_objects(image: WorkingImage) -> np.ndarray:
    """Pixels inside the model's lungs far brighter than their neighbourhood, with object
    neighbours (computed once)."""

    def compute() -> np.ndarray:
        found = model.of_image(image)
        if not found.lungs_found:
            return np.zeros(image.pixels.shape, dtype=bool)
        lungs = model.working_mask(found, ("right_lung", "left_lung"), image.pixels.shape)
        contrast = image.pixels - box_mean(image.pixels, 6)
        mask = lungs & (contrast > OBJECT_CONTRAST)
        neighbours = box_mean(mask.astype(np.float32), 1) * 9
        return np.asarray(mask & (neighbours >= 2 - 1e-3))

    return derived(image.pixels, "lung_objects", compute)


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
    """Foreign bodies over the lung fields (text excluded: cxr.annotation)."""
    if noise_dominated(image, a):
        return []
    mask = _lung_objects(image)
    if int(mask.sum()) > MAX_SPOT_PIXELS:
        return []  # a processing fault over the whole image, not objects
    text = _text(image, a)
    if text.any():
        # the text's block, widened by its own height, is text: its strokes dimmer than the
        # text test's bar are not foreign bodies
        r0, c0, r1, c1 = _box(text)
        grow = r1 - r0
        mask = mask.copy()
        mask[max(0, r0 - grow) : r1 + grow, max(0, c0 - grow) : c1 + grow] = False
    count = int(mask.sum())
    if count < METAL_PIXELS:
        return []
    message = (
        "A foreign object (metal or similar: electrodes, leads, buttons, jewellery) projects "
        "over the lung fields; check whether it hides anatomy and remove it if possible."
    )
    evidence = region_evidence(image, _box(mask), "bright_object_pixels", count, METAL_PIXELS)
    return [finding("cxr.artifact", Severity.MINOR, message, [evidence], 0.7)]


LINE_RIDGE = 0.05  # median ridge height of a defective detector row or column (0..1 scale)


def _ridges(pixels: np.ndarray) -> np.ndarray:
    """Per column: the median over its rows of how much it stands out from both columns two
    pixels away, in the same direction (bright or dark); a step edge scores about 0."""
    if pixels.shape[1] < 5:
        return np.zeros(0, dtype=np.float32)
    up = pixels[:, 2:-2] - pixels[:, :-4]
    down = pixels[:, 2:-2] - pixels[:, 4:]
    bright = np.median(np.minimum(up, down), axis=0)
    dark = -np.median(np.maximum(up, down), axis=0)
    return np.asarray(np.maximum(bright, dark), dtype=np.float32)


def check_detector_lines(image: WorkingImage, a: Anatomy) -> list[Finding]:
    """A defective detector row or column: a straight line across the film."""
    h, w = image.pixels.shape
    m = max(1, int(0.03 * max(h, w)))
    inner = image.pixels[m : h - m, m : w - m]
    if min(inner.shape) < 16:
        return []
    best: tuple[float, tuple[int, int, int, int]] | None = None
    for axis, ridges in (("column", _ridges(inner)), ("row", _ridges(inner.T))):
        if ridges.size == 0:
            continue
        at = int(np.argmax(ridges))
        value = float(ridges[at])
        line = m + 2 + at
        box = (m, line, h - m, line + 1) if axis == "column" else (line, m, line + 1, w - m)
        if value >= LINE_RIDGE and (best is None or value > best[0]):
            best = (value, box)
    if best is None:
        return []
    message = (
        "A straight line runs across the image (a defective detector row or column); check "
        "the detector calibration and repeat the image if the line hides anatomy."
    )
    evidence = region_evidence(image, best[1], "line_ridge", best[0], LINE_RIDGE)
    return [finding("cxr.artifact", Severity.MINOR, message, [evidence], 0.75)]


CHECKS = (
    pixel_check(check_text),
    pixel_check(check_metal),
    pixel_check(check_detector_lines, upright_only=False),
)
