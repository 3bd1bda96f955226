"""Lines of burned-in text on the working image, wherever they lie.

Burned-in text (patient data, dates, labels) is written in bright strokes: narrow, much
brighter than the film around them, in glyphs of one height set side by side on one baseline.
Anatomy and foreign bodies make bright detail too, but not that layout. The test, on the
working image:

1. Strokes: pixels whose top-hat over a 5x5 square (``STROKE_RADIUS``) is at least
   ``STROKE_CONTRAST``: bright detail up to 4 working pixels wide. The outermost 1.5 % of
   each side is left out (detector and collimator edges).
2. Glyphs: 8-connected pieces of the strokes at least 2 pixels tall and 3 in area, no taller
   than ``GLYPH_HEIGHT`` of the image and no wider than twice that.
3. Lines: glyphs chained left to right, each next one within 1.5 glyph heights, overlapping
   it vertically by half the smaller height and at most three times as tall. A chain is a line
   of text when it has ``LINE_GLYPHS`` glyphs or more, is at least ``LINE_ASPECT`` times as wide
   as it is tall (and no taller than a glyph may be), and at least ``ALIGNED`` of its glyphs
   share the line's top row and its baseline (within 15 % of the glyph height). Bone edges,
   vessels, beads and electrodes chain up at times, but along curves, at varying heights.

Tuned on the dev films of the image benchmark (``bench/quality/images.py --split dev``): text
lines were found on 55 of the 60 films with burned-in text (the other five: text of nearly the
grey of a bright abdomen, 3 of them barely visible), and on none of the 788 other dev cases
(clean films and every other kind of fault: ECG leads, necklaces, buttons, noise, cuts); with
6 glyphs per line one clean film had a line, with 5 fifteen cases. Not measured on a
noise-dominated image (chance clusters of noise line up there; cxr.exposure reports it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.engines.rules._morphology import Piece, pieces, tophat
from service.engines.rules.pixels import WorkingImage, derived

STROKE_RADIUS = 2  # strokes up to 2r working pixels wide
STROKE_CONTRAST = 0.1  # top-hat of a stroke, 0..1 working scale
GLYPH_HEIGHT = 0.06  # tallest glyph, share of the image height
LINE_GLYPHS = 7  # glyphs in a line of text
LINE_ASPECT = 4.0  # width over height of a line of text
ALIGNED = 0.6  # share of the glyphs on the line's top row and on its baseline
EDGE = 0.015  # share of each side left out
_GAP = 1.5  # glyph heights between neighbours in a line


@dataclass(frozen=True, slots=True)
class TextLine:
    """A line of glyphs: its box in working pixels (r0, c0, r1, c1; end exclusive)."""

    box: tuple[int, int, int, int]
    glyphs: int


def stroke_mask(pixels: np.ndarray) -> np.ndarray:
    """Narrow bright detail (strokes), the image's outer edge left out."""
    h, w = pixels.shape
    mask = tophat(pixels, STROKE_RADIUS) >= STROKE_CONTRAST
    e = max(2, int(EDGE * min(h, w)))
    mask[:e], mask[h - e :], mask[:, :e], mask[:, w - e :] = False, False, False, False
    return np.asarray(mask)


def _glyphs(mask: np.ndarray, tallest: int) -> list[Piece]:
    found = [
        p
        for p in pieces(mask)
        if p.area >= 3 and 2 <= p.height <= tallest and p.width <= 2 * tallest
    ]
    return sorted(found, key=lambda p: p.left)


def _chains(glyphs: list[Piece], tallest: int) -> list[list[Piece]]:
    """Glyphs joined to their neighbours along a row (union-find over near pairs)."""
    parent = list(range(len(glyphs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, a in enumerate(glyphs):
        for j in range(i + 1, len(glyphs)):
            b = glyphs[j]
            gap = b.left - a.right
            if gap > _GAP * tallest:
                break  # sorted by left edge: nothing further can be near
            high, low = max(a.height, b.height), min(a.height, b.height)
            overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
            if gap <= _GAP * high and overlap >= 0.5 * low and high <= 3 * low:
                parent[root(i)] = root(j)
    groups: dict[int, list[Piece]] = {}
    for i, glyph in enumerate(glyphs):
        groups.setdefault(root(i), []).append(glyph)
    return list(groups.values())


def _aligned(chain: list[Piece]) -> float:
    """The smaller of the shares of glyphs on the chain's median top row and baseline."""
    tops = np.array([g.top for g in chain], dtype=float)
    bottoms = np.array([g.bottom for g in chain], dtype=float)
    tolerance = max(1.0, 0.15 * float(np.median(bottoms - tops)))
    on_top = np.abs(tops - np.median(tops)) <= tolerance
    on_base = np.abs(bottoms - np.median(bottoms)) <= tolerance
    return float(min(on_top.mean(), on_base.mean()))


def find_lines(pixels: np.ndarray) -> list[TextLine]:
    """The lines of text in ``pixels`` (a working image, 0..1, bright = dense)."""
    tallest = max(4, int(GLYPH_HEIGHT * pixels.shape[0]))
    lines = []
    for chain in _chains(_glyphs(stroke_mask(pixels), tallest), tallest):
        if len(chain) < LINE_GLYPHS:
            continue
        r0, r1 = min(g.top for g in chain), max(g.bottom for g in chain)
        c0, c1 = min(g.left for g in chain), max(g.right for g in chain)
        if r1 - r0 > tallest or c1 - c0 < LINE_ASPECT * (r1 - r0):
            continue
        if _aligned(chain) >= ALIGNED:
            lines.append(TextLine((r0, c0, r1, c1), len(chain)))
    return sorted(lines, key=lambda line: line.box)


def text_lines(image: WorkingImage) -> list[TextLine]:
    """The lines of burned-in text on the working image (computed once)."""
    return derived(image.pixels, "text_lines", lambda: find_lines(image.pixels))
