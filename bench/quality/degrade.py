"""Degrading real chest radiographs into labelled error cases.

Every degradation takes the stored pixel array (as decoded, any bit depth, MONOCHROME1 or 2) and
the dataset, and returns a new array; ``apply`` writes the result into a copy of the dataset
as uncompressed pixels. Values are computed in a display domain (0 dark .. 1 bright) and
mapped back, so one degradation means the same on MONOCHROME1 and MONOCHROME2 images.
The code each degradation should be found as is ``DEGRADATIONS[name][0]``.

This is the unit tests' fixture (tests/service/engines/image_support.py imports it) and the
pixel thresholds were tuned against it, so the image benchmark does not use it: its faults are in
``film_faults.py`` and ``film_objects.py``. It belongs under tests/ (see README.md).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

Array = NDArray[np.float64]
Rng = np.random.Generator

# 5x7 glyphs for the burned-in text (rows top to bottom, '#' = ink)
_GLYPHS = {
    "A": ".###.#...##...#######...##...##...#",
    "B": "####.#...#####.#...##...##...#####.",
    "D": "####.#...##...##...##...##...#####.",
    "E": "######....####.#....#....#....#####",
    "H": "#...##...##...#######...##...##...#",
    "J": "..###...#....#....#....##...#.###..",
    "L": "#....#....#....#....#....#....#####",
    "N": "#...###..##.#.##..###...##...##...#",
    "O": ".###.#...##...##...##...##...#.###.",
    "P": "####.#...##...#####.#....#....#....",
    "R": "####.#...##...#####.#.#..#..#.#...#",
    "T": "#####..#....#....#....#....#....#..",
    "0": ".###.#...##..###.#.###..##...#.###.",
    "1": "..#...##....#....#....#....#...###.",
    "2": ".###.#...#....#...#...#...#...#####",
    "3": "####.....#....#.###.....#....#####.",
    "4": "...#...##..#.#.#..#.#####...#....#.",
    "9": ".###.#...##...#.####....#...#..##..",
    "/": "....#....#...#...#...#...#....#....",
    " ": "." * 35,
}
TEXTS = ("DOE JOHN 1942", "PORTABLE AP", "ER 2 BED 4", "JANE DOE", "TORONTO 19/04")


def _limits(ds: Dataset, pixels: NDArray[np.generic]) -> tuple[float, float]:
    bits = int(ds.get("BitsStored", 0) or 0)
    if 1 <= bits <= 16:
        return 0.0, float(2**bits - 1)
    return float(pixels.min()), float(pixels.max())


def to_display(pixels: NDArray[np.generic], ds: Dataset) -> Array:
    lo, hi = _limits(ds, pixels)
    v = (pixels.astype(np.float64) - lo) / max(hi - lo, 1.0)
    return 1.0 - v if ds.get("PhotometricInterpretation") == "MONOCHROME1" else v


def from_display(v: Array, ds: Dataset, dtype: np.dtype[np.generic]) -> NDArray[np.generic]:
    lo, hi = _limits(ds, np.zeros(1))
    v = np.clip(v, 0.0, 1.0)
    if ds.get("PhotometricInterpretation") == "MONOCHROME1":
        v = 1.0 - v
    return np.rint(lo + v * (hi - lo)).astype(dtype)


def _air(v: Array) -> float:
    return float(np.percentile(v, 0.5))


def crop(v: Array, rng: Rng) -> Array:
    h, w = v.shape
    side = rng.choice(["top", "bottom", "left", "right"])
    frac = rng.uniform(0.22, 0.32)
    if side == "top":
        return v[int(h * frac) :]
    if side == "bottom":
        return v[: int(h * (1 - frac))]
    if side == "left":
        return v[:, int(w * frac) :]
    return v[:, : int(w * (1 - frac))]


def shift(v: Array, rng: Rng) -> Array:
    """The thorax off-centre but complete: empty detector on one side."""
    h, w = v.shape
    pad = int(w * rng.uniform(0.35, 0.6))
    fill = np.full((h, pad), _air(v))
    return np.hstack([fill, v]) if rng.random() < 0.5 else np.hstack([v, fill])


def tilt(v: Array, rng: Rng) -> Array:
    angle = np.deg2rad(rng.choice([-1, 1]) * rng.uniform(9, 16))
    h, w = v.shape
    c, s = np.cos(angle), np.sin(angle)
    nh, nw = int(abs(h * c) + abs(w * s)) + 1, int(abs(w * c) + abs(h * s)) + 1
    yy, xx = np.mgrid[0:nh, 0:nw]
    y0, x0 = yy - nh / 2, xx - nw / 2
    sy = np.rint(c * y0 - s * x0 + h / 2).astype(int)
    sx = np.rint(s * y0 + c * x0 + w / 2).astype(int)
    inside = (sy >= 0) & (sy < h) & (sx >= 0) & (sx < w)
    out = np.full((nh, nw), _air(v))
    out[inside] = v[sy[inside], sx[inside]]
    return out


def underexpose(v: Array, rng: Rng) -> Array:
    """Too few photons: a dark, compressed, noisy image."""
    dark = v * rng.uniform(0.12, 0.22)
    noise = rng.normal(0.0, rng.uniform(0.02, 0.04), v.shape)
    return np.clip(dark + noise, 0.0, 1.0)


def overexpose(v: Array, rng: Rng) -> Array:
    """Burnt out: the image pushed to the bright limit and clipped."""
    lo, hi = np.percentile(v, [5, 60])
    return np.clip((v - lo) / max(hi - lo, 1e-3), 0.0, 1.0)


def motion_blur(v: Array, rng: Rng) -> Array:
    length = max(5, int(max(v.shape) * rng.uniform(0.02, 0.035)))
    axis = int(rng.integers(0, 2))
    kernel = np.ones(length) / length
    return np.apply_along_axis(lambda line: np.convolve(line, kernel, mode="same"), axis, v)


def _lung_point(v: Array, rng: Rng) -> tuple[int, int]:
    h, w = v.shape
    y = int(h * rng.uniform(0.3, 0.6))
    x = int(w * (rng.uniform(0.2, 0.35) if rng.random() < 0.5 else rng.uniform(0.65, 0.8)))
    return y, x


def metal(v: Array, rng: Rng) -> Array:
    """Bright compact foreign bodies over the lungs (coins, buttons, a pendant, a clip)."""
    out = v.copy()
    h, w = v.shape
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(int(rng.integers(1, 4))):
        y, x = _lung_point(v, rng)
        r = max(3, int(max(h, w) * rng.uniform(0.008, 0.02)))
        if rng.random() < 0.6:
            mask = (yy - y) ** 2 + (xx - x) ** 2 <= r * r
        else:
            mask = (abs(yy - y) <= r) & (abs(xx - x) <= 2 * r)
        out[mask] = rng.uniform(0.97, 1.0)
    return out


def text(v: Array, rng: Rng) -> Array:
    """Burned-in text over the lungs."""
    out = v.copy()
    h, w = v.shape
    label = str(rng.choice(TEXTS))
    scale = max(2, int(max(h, w) * rng.uniform(0.005, 0.008)))
    y = int(h * rng.uniform(0.25, 0.6))
    x = int(w * rng.uniform(0.08, 0.25))
    for index, char in enumerate(label):
        glyph = np.array([c == "#" for c in _GLYPHS[char]]).reshape(7, 5)
        block = np.kron(glyph, np.ones((scale, scale), dtype=bool))
        gx = x + index * 6 * scale
        part = out[y : y + block.shape[0], gx : gx + block.shape[1]]
        part[block[: part.shape[0], : part.shape[1]]] = 1.0
    return out


PixelFn = Callable[[Array, Rng], Array]
DEGRADATIONS: dict[str, tuple[str, PixelFn | None]] = {
    "crop": ("cxr.field_of_view", crop),
    "shift": ("cxr.centering", shift),
    "tilt": ("cxr.centering", tilt),
    "underexpose": ("cxr.exposure", underexpose),
    "overexpose": ("cxr.exposure", overexpose),
    "blur": ("cxr.sharpness", motion_blur),
    "metal": ("cxr.artifact", metal),
    "fliplr": ("cxr.orientation", lambda v, rng: v[:, ::-1]),
    "upside_down": ("cxr.orientation", lambda v, rng: v[::-1, :]),
    "rot90": ("cxr.orientation", lambda v, rng: np.rot90(v, int(rng.choice([1, 3])))),
    "invert": ("cxr.orientation", lambda v, rng: 1.0 - v),
    "text": ("cxr.annotation", text),
    "header_photometric": ("cxr.metadata", None),
    "header_modality": ("cxr.metadata", None),
}


def _header_fault(name: str, ds: Dataset) -> None:
    if name == "header_photometric":
        mono1 = ds.PhotometricInterpretation == "MONOCHROME1"
        ds.PhotometricInterpretation = "MONOCHROME2" if mono1 else "MONOCHROME1"
    elif name == "header_modality":
        ds.Modality = "CT"


def apply(ds: Dataset, pixels: NDArray[np.generic], name: str | None, rng: Rng) -> Dataset:
    """A new dataset (new SOP Instance UID) with degradation ``name`` (None: clean copy)."""
    out = copy.deepcopy(ds)
    array = pixels
    if name is not None:
        fn = DEGRADATIONS[name][1]
        if fn is not None:
            array = from_display(fn(to_display(pixels, ds), rng), ds, pixels.dtype)
        else:
            _header_fault(name, out)
    array = np.ascontiguousarray(array)
    out.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    out.Rows, out.Columns = array.shape
    out.PixelData = array.tobytes()
    out["PixelData"].VR = "OW" if array.dtype.itemsize > 1 else "OB"
    uid = generate_uid()
    out.SOPInstanceUID = uid
    out.file_meta.MediaStorageSOPInstanceUID = uid
    return out
