"""Burned-in text redaction: black out text printed on the pixels before an image leaves.

Why: modalities print patient names, ids and dates on the image itself, where de-identifying the
header cannot reach. Redaction is always on; there is no setting to turn it off. Three sources of
regions, all blacked out (value 0) on the full-resolution display image before it is downscaled,
and once more on the downscaled image so that no resampling lobe brings a grey edge back:

1. Fixed zones where modalities print text: a band along the top and the bottom edge, and the
   four corners. Blacked out whatever they contain (conservative: a little shoulder and neck is
   lost, the lung fields are not touched on a normally positioned film).
2. The rules engine's burned-in text check (``cxr.annotation``, text over the lung fields),
   imported from :mod:`service.engines.rules.artifacts`, its region widened by its own height.
3. A text detector for the whole image, both polarities (:func:`detect_text`): text is where
   sharp edges start often both along rows and along columns over a run of cells along a row (a
   wire, a grid line or a collimation border changes along one direction, or only once).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from service.engines.base import ImageInput
from service.engines.rules._pixel_findings import pixel_check
from service.engines.rules.artifacts import check_text

log = logging.getLogger(__name__)

Mask = NDArray[np.bool_]

BAND = 0.06  # top and bottom bands: share of the height
CORNER_W, CORNER_H = 0.22, 0.14  # corner boxes: share of width and height
RULES_MARGIN = 0.015  # around the rules engine's text region: share of the height
WORK = 1024  # long side the detector works at
EDGE = 30  # grey-level step (over two pixels at WORK) that makes a stroke edge
CELL = 16  # detector cell (px at WORK), scored at every half cell down the image
RUN = 4  # cells along a row scored together (a line of text is wide)
TEXT_SCORE = 53  # edges in RUN cells that make text (clean films: at most 46; text: 60+)
GROW_SCORE = 2  # neighbouring half cells with this many edges join a text region

_rules_text = pixel_check(check_text, upright_only=False)


@dataclass(frozen=True, slots=True)
class Redaction:
    pixels: NDArray[np.uint8]  # the display image with the regions blacked out
    mask: Mask  # what was blacked out, same shape
    detected: int  # text cells found by the detector (0: only the fixed zones and rules)


def fixed_zones(shape: tuple[int, int]) -> Mask:
    """The top and bottom bands and the four corners."""
    h, w = shape
    mask = np.zeros(shape, dtype=bool)
    band = max(1, round(h * BAND))
    mask[:band], mask[h - band :] = True, True
    ch, cw = max(1, round(h * CORNER_H)), max(1, round(w * CORNER_W))
    for rows in (slice(0, ch), slice(h - ch, h)):
        for cols in (slice(0, cw), slice(w - cw, w)):
            mask[rows, cols] = True
    return mask


def rules_text_regions(item: ImageInput, shape: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, y0, x1, y1, original pixels) of text the rules engine finds over the lungs,
    each widened by RULES_MARGIN of the height (the check's mask leaves out the glyphs' first
    and last rows)."""
    m = max(8, round(shape[0] * RULES_MARGIN))
    try:
        found = _rules_text(item)
    except Exception:  # the fixed zones and the detector still apply; never send unredacted
        log.warning("item %s: the rules text check failed during redaction", item.item_id)
        found = []
    boxes = []
    for f in found:
        for ev in f.evidence:
            region = ev.get("region")
            if isinstance(region, list) and len(region) == 4:
                x0, y0, x1, y1 = (int(v) for v in region)
                boxes.append((x0 - m, y0 - m, x1 + m, y1 + m))
    return boxes


def detect_text(display: NDArray[np.uint8]) -> tuple[Mask, int]:
    """Text-like regions of ``display`` (full resolution) and the number of text cells.

    Text is where sharp edges (a step of EDGE grey levels) start often both along rows and
    along columns: per CELL, the smaller of the two counts; a run of RUN cells along a row
    scoring TEXT_SCORE is text, and the region grows into neighbouring half cells that have
    edges. The count is the number of text half cells found.
    The same test runs on the pixels at the extremes of the grey range (burned-in text is
    usually written at the brightest or darkest value), which finds faint text on a
    background of nearly the same grey. Calibrated on the shared films with text drawn in
    (sizes 1-5 % of the height, white, black and grey): clean films score at most 46, text
    lines at least 60.
    """
    h, w = display.shape
    scale = max(h, w) / WORK if max(h, w) > WORK else 1.0
    layers = (display, np.where(display >= 255, 255, 0), np.where(display <= 0, 255, 0))
    seeds: Mask | None = None
    score: NDArray[np.int32] | None = None
    for layer in layers:
        small = _work(np.asarray(layer, dtype=np.uint8), scale)
        if min(small.shape) < CELL * 2:
            return np.zeros((h, w), dtype=bool), 0
        a, d = _edge_counts(small)
        # cells one CELL tall starting at every half cell: a text line straddling two cells
        # is still counted whole in one of them
        windows = np.minimum(a[:-1] + a[1:], d[:-1] + d[1:])
        hits = _runs(windows) >= TEXT_SCORE
        seed = np.zeros(a.shape, dtype=bool)
        seed[:-1] |= hits
        seed[1:] |= hits
        seeds = seed if seeds is None else seeds | seed
        cells = np.minimum(a, d)
        score = cells if score is None else np.maximum(score, cells)
    assert seeds is not None and score is not None
    grown = _grow(seeds, score)
    found = int(grown.sum())
    text = _dilate(grown)
    half = CELL // 2
    rows = np.minimum((np.arange(h) / scale).astype(int) // half, text.shape[0] - 1)
    cols = np.minimum((np.arange(w) / scale).astype(int) // CELL, text.shape[1] - 1)
    return np.asarray(text[rows[:, None], cols[None, :]], dtype=bool), found


def _work(layer: NDArray[np.uint8], scale: float) -> NDArray[np.int16]:
    image = Image.fromarray(layer, mode="L")
    if scale > 1.0:
        h, w = layer.shape
        size = (max(1, round(w / scale)), max(1, round(h / scale)))
        image = image.resize(size, Image.Resampling.BOX)
    return np.asarray(image, dtype=np.int16)


def _edge_counts(small: NDArray[np.int16]) -> tuple[NDArray[np.int32], NDArray[np.int32]]:
    """Per half cell (CELL/2 rows x CELL columns): edges starting along rows, along columns."""
    across = np.zeros(small.shape, dtype=bool)
    down = np.zeros(small.shape, dtype=bool)
    across[:, 1:-1] = np.abs(small[:, 2:] - small[:, :-2]) > EDGE
    down[1:-1, :] = np.abs(small[2:, :] - small[:-2, :]) > EDGE
    starts_a = np.zeros(small.shape, dtype=np.int32)
    starts_d = np.zeros(small.shape, dtype=np.int32)
    starts_a[:, 1:] = across[:, 1:] & ~across[:, :-1]
    starts_d[1:, :] = down[1:, :] & ~down[:-1, :]
    half = CELL // 2
    sh, sw = small.shape
    gh, gw = -(-sh // half), -(-sw // CELL)
    pad = ((0, gh * half - sh), (0, gw * CELL - sw))
    a = np.pad(starts_a, pad).reshape(gh, half, gw, CELL).sum(axis=(1, 3))
    d = np.pad(starts_d, pad).reshape(gh, half, gw, CELL).sum(axis=(1, 3))
    return a, d


def _runs(score: NDArray[np.int32]) -> NDArray[np.int32]:
    """For each cell, the best total over the runs of RUN cells along its row it belongs to."""
    width = score.shape[1]
    padded = np.pad(score, ((0, 0), (0, RUN - 1)))
    run = sum(padded[:, k : k + width] for k in range(RUN))  # run starting at each cell
    back = np.pad(run, ((0, 0), (RUN - 1, 0)))
    return np.asarray(np.max([back[:, k : k + width] for k in range(RUN)], axis=0))


def _grow(seed: Mask, score: NDArray[np.int32]) -> Mask:
    """Extend text regions into 4-neighbouring cells that have edges (line ends, glyphs that
    straddle a cell row)."""
    able = score >= GROW_SCORE
    region = seed.copy()
    while True:
        p = np.pad(region, 1)
        near = p[:-2, 1:-1] | p[2:, 1:-1] | p[1:-1, :-2] | p[1:-1, 2:]
        grown = region | (near & able)
        if np.array_equal(grown, region):
            return region
        region = grown


def _dilate(cells: Mask) -> Mask:
    """Each text half cell and its neighbours: two half cells up and down, one cell across."""
    padded = np.pad(cells, ((2, 2), (1, 1)))
    out = np.zeros_like(cells)
    for dr in range(5):
        for dc in range(3):
            out |= padded[dr : dr + cells.shape[0], dc : dc + cells.shape[1]]
    return out


def _boxes_mask(shape: tuple[int, int], boxes: Iterable[tuple[int, int, int, int]]) -> Mask:
    h, w = shape
    mask = np.zeros(shape, dtype=bool)
    for x0, y0, x1, y1 in boxes:
        mask[max(0, y0) : min(h, y1), max(0, x0) : min(w, x1)] = True
    return mask


def redact(display: NDArray[np.uint8], item: ImageInput | None = None) -> Redaction:
    """Black out every region that may carry burned-in text."""
    shape = (int(display.shape[0]), int(display.shape[1]))
    detected, cells = detect_text(display)
    mask = fixed_zones(shape) | detected
    if item is not None:
        mask |= _boxes_mask(shape, rules_text_regions(item, shape))
    pixels = display.copy()
    pixels[mask] = 0
    return Redaction(pixels, mask, cells)


def downscale(redaction: Redaction, max_side: int) -> Image.Image:
    """The redacted image with its long side at most ``max_side``; every output pixel whose
    footprint touches a redacted pixel is black."""
    image = Image.fromarray(redaction.pixels, mode="L")
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    if image.size == (redaction.pixels.shape[1], redaction.pixels.shape[0]):
        return image
    footprint = Image.fromarray(redaction.mask.astype(np.uint8) * 255, mode="L")
    covered = np.asarray(footprint.resize(image.size, Image.Resampling.BOX)) > 0
    out = np.asarray(image).copy()
    out[covered] = 0
    return Image.fromarray(out, mode="L")
