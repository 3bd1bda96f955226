"""Grey-level morphology and connected pieces on the working image, in plain numpy.

- ``erode`` / ``dilate``: minimum / maximum over a (2r+1) square, as two 1-D passes.
- ``tophat``: the image minus its opening: what is brighter than its surroundings *and*
  narrower than the square in some direction (a stroke, a bead, a wire). A step edge (the skin
  line, a collimator edge, a bone margin) has no top-hat: the opening keeps it.
- ``pieces`` / ``components``: the connected pieces of a mask (8- or 4-connected) as boxes and
  pixel counts, or as masks largest first, from row runs joined by union-find (no per-pixel
  Python loop). The anatomy model's masks (:mod:`.anatomy`) use the same code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatImage = NDArray[np.float32]
_Reduce = np.ufunc


def _pass(image: FloatImage, radius: int, reduce: _Reduce, axis: int) -> FloatImage:
    n = image.shape[axis]
    pad = [(radius, radius) if i == axis else (0, 0) for i in range(image.ndim)]
    padded = np.pad(image, pad, mode="edge")
    window = padded[:n] if axis == 0 else padded[:, :n]
    out = np.array(window, dtype=np.float32)
    for k in range(1, 2 * radius + 1):
        shifted = padded[k : k + n] if axis == 0 else padded[:, k : k + n]
        reduce(out, shifted, out=out)
    return out


def erode(image: FloatImage, radius: int) -> FloatImage:
    """The minimum over a (2r+1) square around each pixel (edges replicated)."""
    if radius <= 0:
        return image
    return _pass(_pass(image, radius, np.minimum, 0), radius, np.minimum, 1)


def dilate(image: FloatImage, radius: int) -> FloatImage:
    """The maximum over a (2r+1) square around each pixel (edges replicated)."""
    if radius <= 0:
        return image
    return _pass(_pass(image, radius, np.maximum, 0), radius, np.maximum, 1)


def tophat(image: FloatImage, radius: int) -> FloatImage:
    """White top-hat: how much each pixel stands above the opening of the image by a (2r+1)
    square (bright detail narrower than the square)."""
    image = np.asarray(image, dtype=np.float32)
    return np.asarray(image - dilate(erode(image, radius), radius), dtype=np.float32)


def open_mask(mask: NDArray[np.bool_], radius: int = 1) -> NDArray[np.bool_]:
    """``mask`` opened by a (2r+1) square: thin lines and single pixels go, blobs stay."""
    as_float = mask.astype(np.float32)
    return np.asarray(dilate(erode(as_float, radius), radius) > 0.5)


@dataclass(frozen=True, slots=True)
class Piece:
    """One 8-connected piece of a mask: its pixel count and box (end exclusive)."""

    area: int
    top: int
    left: int
    bottom: int
    right: int

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def width(self) -> int:
        return self.right - self.left


def _runs(
    mask: NDArray[np.bool_], diagonal: bool
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp], list[int]]:
    """The row runs of ``mask`` (row, first column, end column exclusive) and the piece each
    belongs to (a root run's index), joined by union-find: runs of adjacent rows that share a
    column, or also touch at a corner when ``diagonal`` (8-connected pieces; else 4)."""
    edges = np.diff(np.pad(mask.astype(np.int8), ((0, 0), (1, 1))), axis=1)
    run_rows, starts = np.nonzero(edges == 1)
    ends = np.nonzero(edges == -1)[1]
    parent = list(range(len(starts)))
    reach = 1 if diagonal else 0  # how far past a run's end a run below may start and touch it

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    row_first = np.searchsorted(run_rows, np.arange(mask.shape[0] + 1))
    for r in range(mask.shape[0] - 1):
        a, a_end = int(row_first[r]), int(row_first[r + 1])
        b, b_end = a_end, int(row_first[r + 2])
        while a < a_end and b < b_end:
            if starts[a] < ends[b] + reach and starts[b] < ends[a] + reach:
                ra, rb = root(a), root(b)
                if ra != rb:
                    parent[ra] = rb
            if ends[a] < ends[b]:
                a += 1
            else:
                b += 1
    return run_rows, starts, ends, [root(i) for i in range(len(starts))]


def pieces(mask: NDArray[np.bool_], diagonal: bool = True) -> list[Piece]:
    """The connected pieces of ``mask`` as boxes and pixel counts (8-connected, or 4-connected
    without ``diagonal``)."""
    run_rows, starts, ends, roots = _runs(mask, diagonal)
    boxes: dict[int, list[int]] = {}
    for i, key in enumerate(roots):
        row, s, e = int(run_rows[i]), int(starts[i]), int(ends[i])
        box = boxes.setdefault(key, [0, row, s, row + 1, e])
        box[0] += e - s
        box[1], box[2] = min(box[1], row), min(box[2], s)
        box[3], box[4] = max(box[3], row + 1), max(box[4], e)
    return [Piece(*box) for box in boxes.values()]


def components(mask: NDArray[np.bool_], diagonal: bool = False) -> list[NDArray[np.bool_]]:
    """The connected pieces of ``mask`` as masks, largest first (4-connected, or 8-connected
    with ``diagonal``)."""
    run_rows, starts, ends, roots = _runs(mask, diagonal)
    groups: dict[int, list[int]] = {}
    for i, key in enumerate(roots):
        groups.setdefault(key, []).append(i)
    found = []
    for runs in groups.values():
        piece = np.zeros(mask.shape, dtype=bool)
        for i in runs:
            piece[run_rows[i], starts[i] : ends[i]] = True
        found.append(piece)
    found.sort(key=lambda p: -int(p.sum()))
    return found
