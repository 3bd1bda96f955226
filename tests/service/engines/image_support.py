"""Real chest radiographs decoded once, degraded for the pixel-check tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from pydicom import dcmread
from pydicom.dataset import Dataset

from bench.quality.degrade import DEGRADATIONS, from_display, to_display
from service.engines.rules.lungs import Anatomy, measure
from service.engines.rules.pixels import WorkingImage, from_array

BASES = {
    "rg1": "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm",
    "orthanc": "cxr/orthanc_Issue44_Monochrome1-Jpeg_CR.dcm",
    "test2": "cxr/udacity_nih_test2.dcm",
    "siim": "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
}


def load_bases(data: Path) -> dict[str, tuple[Dataset, NDArray[np.generic]]]:
    found = {}
    for key, name in BASES.items():
        ds = dcmread(data / name)
        found[key] = (ds, ds.pixel_array)
    return found


def degraded(
    ds: Dataset, pixels: NDArray[np.generic], name: str | None, seed: int = 3
) -> tuple[WorkingImage, Anatomy]:
    """The working image and anatomy of ``pixels`` after degradation ``name``."""
    array = pixels
    if name is not None:
        fn = DEGRADATIONS[name][1]
        assert fn is not None
        array = from_display(
            fn(to_display(pixels, ds), np.random.default_rng(seed)), ds, pixels.dtype
        )
    image = from_array(array, ds)
    assert image is not None
    return image, measure(image.pixels)


def transformed(
    ds: Dataset,
    pixels: NDArray[np.generic],
    fn: Callable[[NDArray[np.float64]], NDArray[np.float64]],
) -> tuple[WorkingImage, Anatomy]:
    """The working image and anatomy of ``pixels`` after ``fn`` (in the display domain)."""
    array = from_display(fn(to_display(pixels, ds)), ds, pixels.dtype)
    image = from_array(array, ds)
    assert image is not None
    return image, measure(image.pixels)


def squeeze_left(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """A proxy for patient rotation: the image-left half compressed to 40 % of its width (the
    hemithorax projected narrow), the right half kept; both chest walls stay in the image."""
    w = v.shape[1]
    half = w // 2
    cols = (np.arange(int(half * 0.4)) / 0.4).astype(int)
    return np.hstack([v[:, cols], v[:, half:]])


def squash_rows(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """A proxy for a poor inspiration: the chest squashed to half its height (lungs short
    for the width of the chest), apices and bases still inside the image."""
    h, _ = v.shape
    rows = (np.arange(h // 2) * 2).astype(int)
    return v[rows]
