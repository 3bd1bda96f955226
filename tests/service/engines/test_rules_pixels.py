"""Pixel checks on real chest radiographs: clean images pass, degraded ones are flagged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from service.engines.rules import artifacts, exposure, geometry, orientation
from service.engines.rules.lungs import Anatomy
from service.engines.rules.pixels import WorkingImage
from tests.service.engines.image_support import BASES, degraded, load_bases

CHECKS = {
    "cxr.orientation": orientation.check_orientation,
    "cxr.exposure": exposure.check_exposure,
    "cxr.sharpness": exposure.check_sharpness,
    "cxr.field_of_view": geometry.check_field_of_view,
    "cxr.centering": geometry.check_centering,
    "cxr.artifact": artifacts.check_metal,
    "cxr.annotation": artifacts.check_text,
}


@pytest.fixture(scope="module")
def bases() -> dict[str, tuple[Dataset, np.ndarray]]:
    return load_bases(Path(__file__).resolve().parents[4] / "shared" / "data")


def codes(image: WorkingImage, a: Anatomy) -> set[str]:
    found = set()
    for check in (*CHECKS.values(), orientation.check_photometric_label):
        for f in check(image, a):
            found.add(f.code)
            for evidence in f.evidence:
                if "region" in evidence:
                    x0, y0, x1, y1 = evidence["region"]
                    rows, cols = image.shape
                    assert 0 <= x0 <= x1 <= cols and 0 <= y0 <= y1 <= rows
            assert (f.engine, f.message.endswith(".")) == ("rules", True)
    return found


@pytest.mark.parametrize("base", sorted(BASES))
def test_clean_real_images_pass(bases: dict, base: str) -> None:
    ds, pixels = bases[base]
    assert codes(*degraded(ds, pixels, None)) == set()


@pytest.mark.parametrize(
    ("degradation", "code"),
    [
        ("rot90", "cxr.orientation"),
        ("upside_down", "cxr.orientation"),
        ("invert", "cxr.orientation"),
        ("overexpose", "cxr.exposure"),
        ("underexpose", "cxr.exposure"),
        ("blur", "cxr.sharpness"),
        ("shift", "cxr.centering"),
        ("tilt", "cxr.centering"),
        ("metal", "cxr.artifact"),
        ("text", "cxr.annotation"),
    ],
)
@pytest.mark.parametrize("base", sorted(BASES))
def test_degraded_real_images_are_flagged(
    bases: dict, base: str, degradation: str, code: str
) -> None:
    ds, pixels = bases[base]
    image, a = degraded(ds, pixels, degradation)
    found = codes(image, a)
    if base in {"orthanc", "rg1"} and degradation == "invert":
        code = "cxr.metadata"  # MONOCHROME1 label: an inverted look is reported as the label
    assert code in found


def test_mono1_label_on_mono2_pixels_is_metadata(bases: dict) -> None:
    ds, pixels = bases["test2"]
    wrong = ds.copy()
    wrong.PhotometricInterpretation = "MONOCHROME1"
    found = codes(*degraded(wrong, pixels, None))
    assert "cxr.metadata" in found
    assert "cxr.orientation" not in found


def test_bottom_crop_is_field_of_view(bases: dict) -> None:
    ds, pixels = bases["siim"]
    cut = pixels[: int(pixels.shape[0] * 0.7)]
    assert "cxr.field_of_view" in codes(*degraded(ds, cut, None))
