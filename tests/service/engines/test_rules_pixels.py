"""Pixel checks on real chest radiographs: clean images pass, degraded ones are flagged."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset

from service.engines.rules import anatomy as model
from service.engines.rules import artifacts, exposure, geometry, orientation, positioning
from service.engines.rules.lungs import Anatomy, measure
from service.engines.rules.pixels import WorkingImage, from_array
from tests.service.engines.image_support import (
    BASES,
    degraded,
    load_bases,
    squash_rows,
    squeeze_left,
    transformed,
)
from tests.service.engines.support import image_input

CHECKS = {
    "cxr.orientation": orientation.check_orientation,
    "cxr.exposure": exposure.check_exposure,
    "cxr.sharpness": exposure.check_sharpness,
    "cxr.field_of_view": geometry.check_field_of_view,
    "cxr.centering": geometry.check_centering,
    "cxr.artifact": artifacts.check_metal,
    "cxr.annotation": artifacts.check_text,
    "cxr.rotation": positioning.check_rotation,
    "cxr.inspiration": positioning.check_inspiration,
}


@pytest.fixture(scope="module")
def bases(shared_data: Path) -> dict[str, tuple[Dataset, np.ndarray]]:
    return load_bases(shared_data)


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


# Tuning bases of bench/quality/images.py (the held-out ones are not used to set thresholds).
TUNE = ("rg1", "siim")


@pytest.mark.parametrize("base", TUNE)
@pytest.mark.parametrize("side", ["left", "right"])
@pytest.mark.parametrize("share", [0.2, 0.27])
def test_lateral_crop_is_field_of_view(bases: dict, base: str, side: str, share: float) -> None:
    ds, pixels = bases[base]
    w = pixels.shape[1]
    cut = pixels[:, int(w * share) :] if side == "left" else pixels[:, : int(w * (1 - share))]
    image, a = degraded(ds, cut, None)
    found = [
        f
        for f in geometry.check_field_of_view(image, a)
        if f.evidence[0]["metric"] in {"wall_height_at_edge", "lung_width_to_other"}
    ]
    assert [f.code for f in found] == ["cxr.field_of_view"]
    assert f"{side} edge" in found[0].message


@pytest.mark.parametrize("base", TUNE)
def test_complete_films_have_no_cut_edges(bases: dict, base: str) -> None:
    ds, pixels = bases[base]
    image, _ = degraded(ds, pixels, None)
    assert geometry.field_cuts(image) == []


@pytest.mark.parametrize("base", ["rg1", "test1"])
def test_rotation_proxy_is_flagged_with_low_confidence(
    bases: dict, base: str, shared_data: Path
) -> None:
    if base == "test1":
        ds = dcmread(shared_data / "cxr/udacity_nih_test1.dcm")
        pixels = ds.pixel_array
    else:
        ds, pixels = bases[base]
    image, a = transformed(ds, pixels, squeeze_left)
    found = positioning.check_rotation(image, a)
    assert [f.code for f in found] == ["cxr.rotation"]
    assert found[0].confidence <= 0.5
    assert "image right" in found[0].message  # the right lung field projects wider
    assert codes(*degraded(ds, pixels, None)) == set()


@pytest.mark.parametrize("base", TUNE)
def test_short_lungs_proxy_is_inspiration(bases: dict, base: str) -> None:
    ds, pixels = bases[base]
    image, a = transformed(ds, pixels, squash_rows)
    found = positioning.check_inspiration(image, a)
    assert [f.code for f in found] == ["cxr.inspiration"]
    assert found[0].confidence <= 0.5
    assert found[0].evidence[0]["metric"] == "lung_height_to_width"


@pytest.mark.parametrize("degradation", ["crop", "tilt", "overexpose", "metal", "text"])
@pytest.mark.parametrize("base", TUNE)
def test_positioning_checks_stay_quiet_on_other_errors(
    bases: dict, base: str, degradation: str
) -> None:
    ds, pixels = bases[base]
    for seed in (1, 2, 3):
        image, a = degraded(ds, pixels, degradation, seed)
        assert positioning.check_rotation(image, a) == []
        assert positioning.check_inspiration(image, a) == []


@pytest.mark.parametrize("base", TUNE)
def test_metal_is_not_confused_with_noise_or_a_tilted_edge(bases: dict, base: str) -> None:
    ds, pixels = bases[base]
    for seed in (1, 2, 3, 4):
        for degradation in ("underexpose", "tilt"):
            assert artifacts.check_metal(*degraded(ds, pixels, degradation, seed)) == []
        assert artifacts.check_metal(*degraded(ds, pixels, "metal", seed))


@pytest.mark.parametrize("base", TUNE)
def test_a_film_flipped_left_right_is_found_by_its_heart(bases: dict, base: str) -> None:
    """The anatomy model's heart on the image left: reported by the orientation check."""
    ds, pixels = bases[base]
    clean, a = degraded(ds, pixels, None)
    flipped, b = degraded(ds, pixels, "fliplr")
    assert orientation.check_orientation(clean, a) == []
    found = orientation.check_orientation(flipped, b)
    assert [f.code for f in found] == ["cxr.orientation"]
    assert found[0].evidence[0]["metric"] == "heart_share_image_right"
    assert "flipped left-right" in found[0].message


@pytest.mark.parametrize("base", TUNE)
@pytest.mark.parametrize("edge", ["top"])
def test_top_crops_are_field_of_view(bases: dict, base: str, edge: str) -> None:
    ds, pixels = bases[base]
    h = pixels.shape[0]
    cut = pixels[int(h * 0.27) :] if edge == "top" else pixels[: int(h * 0.73)]
    found = geometry.check_field_of_view(*degraded(ds, cut, None))
    wanted = "apices" if edge == "top" else "bases"
    assert [f.code for f in found if wanted in f.message] == ["cxr.field_of_view"]
    assert all(wanted in f.message for f in found)  # the other edge is not blamed


@pytest.mark.parametrize("degradation", ["blur", "underexpose", "metal", "text", "shift"])
@pytest.mark.parametrize("base", TUNE)
def test_field_of_view_quiet_on_complete_chests(bases: dict, base: str, degradation: str) -> None:
    ds, pixels = bases[base]
    for seed in (1, 2, 3):
        assert geometry.check_field_of_view(*degraded(ds, pixels, degradation, seed)) == []


@pytest.mark.parametrize("base", TUNE)
def test_burned_in_text_is_annotation_never_artifact(bases: dict, base: str) -> None:
    """DESIGN section 4: burned-in text is cxr.annotation, never cxr.artifact, also when its
    strokes are too thick for the row-run test (a line of glyph parts on one band)."""
    ds, pixels = bases[base]
    for seed in range(1, 7):
        image, a = degraded(ds, pixels, "text", seed)
        assert artifacts.check_text(image, a), seed
        assert artifacts.check_metal(image, a) == [], seed


@pytest.mark.parametrize("base", TUNE)
def test_noise_does_not_make_text(bases: dict, base: str) -> None:
    ds, pixels = bases[base]
    for seed in range(1, 5):
        assert artifacts.check_text(*degraded(ds, pixels, "underexpose", seed)) == []


@pytest.mark.parametrize("base", TUNE)
@pytest.mark.parametrize("quarter_turns", [1, 2, 3])
def test_a_turned_film_is_found_by_its_anatomy(bases: dict, base: str, quarter_turns: int) -> None:
    """Turned back, the anatomy model reads an upright chest it is surer of."""
    ds, pixels = bases[base]
    image, a = transformed(ds, pixels, lambda v: np.rot90(v, quarter_turns))
    turn = model.turn_of(image)
    assert turn is not None
    assert turn.degrees == (180 if quarter_turns == 2 else 90)
    assert (turn.quarter_turns + quarter_turns) % 4 == 0
    assert [f.code for f in orientation.check_orientation(image, a)] == ["cxr.orientation"]
    upright, _ = transformed(ds, pixels, lambda v: v)
    assert model.turn_of(upright) is None


@pytest.mark.parametrize("base", TUNE)
def test_inverted_grey_scale_is_read_by_the_anatomy_model(bases: dict, base: str) -> None:
    ds, pixels = bases[base]
    inverted, _ = transformed(ds, pixels, lambda v: 1.0 - v)
    upright, _ = transformed(ds, pixels, lambda v: v)
    assert model.reads_inverted(inverted)
    assert not model.reads_inverted(upright)


@pytest.mark.parametrize(("view", "expected"), [("LL", ["cxr.metadata"]), ("PA", [])])
def test_a_lateral_label_on_a_frontal_film_is_metadata(
    shared_data: Path, view: str, expected: list[str]
) -> None:
    path = shared_data / "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm"
    item = image_input(path)
    item.header.ViewPosition = view
    found = orientation.check_lateral_label(item)
    assert [f.code for f in found] == expected
    if found:
        assert found[0].evidence[0]["keyword"] == "ViewPosition"


def test_short_lungs_are_measured_on_the_model_lungs(bases: dict) -> None:
    ds, pixels = bases["siim"]
    upright, _ = transformed(ds, pixels, lambda v: v)
    squashed, _ = transformed(ds, pixels, squash_rows)
    tall = positioning.lung_height_ratio(upright)
    short = positioning.lung_height_ratio(squashed)
    assert tall is not None and short is not None
    assert tall[0] > positioning.SHORT_LUNGS > short[0]


def test_a_film_squeezed_into_a_narrow_grey_range_is_exposure(bases: dict) -> None:
    ds, pixels = bases["siim"]
    twelve_bit = copy.deepcopy(ds)
    twelve_bit.BitsStored, twelve_bit.BitsAllocated, twelve_bit.HighBit = 12, 16, 11
    display = pixels.astype(np.float64) / 255
    narrow = from_array(((0.4 + 0.15 * display) * 4095).astype(np.uint16), twelve_bit)
    full = from_array((display * 4095).astype(np.uint16), twelve_bit)
    assert narrow is not None and full is not None
    found = exposure.check_exposure(narrow, measure(narrow.pixels))
    assert [f.evidence[0]["metric"] for f in found] == ["stored_range_used"]
    assert exposure.check_exposure(full, measure(full.pixels)) == []


def test_lungs_crushed_to_black_are_exposure(bases: dict) -> None:
    ds, pixels = bases["siim"]
    dark, a = transformed(ds, pixels, lambda v: v**3.2)
    plain, b = transformed(ds, pixels, lambda v: v)
    found = exposure.check_exposure(dark, a)
    assert [f.evidence[0]["metric"] for f in found] == ["lung_to_heart_level"]
    assert exposure.check_exposure(plain, b) == []


def _with_line(v: np.ndarray) -> np.ndarray:
    out = v.copy()
    out[:, int(v.shape[1] * 0.37)] = np.clip(out[:, int(v.shape[1] * 0.37)] + 0.3, 0, 1)
    return out


def _with_shutter(v: np.ndarray) -> np.ndarray:
    out = v.copy()
    out[:, : int(v.shape[1] * 0.2)] = 0.0  # a straight collimator edge: a step, not a line
    return out


@pytest.mark.parametrize("base", TUNE)
def test_a_detector_line_is_an_artifact_and_a_shutter_edge_is_not(bases: dict, base: str) -> None:
    ds, pixels = bases[base]
    lined, a = transformed(ds, pixels, _with_line)
    found = artifacts.check_detector_lines(lined, a)
    assert [f.evidence[0]["metric"] for f in found] == ["line_ridge"]
    for fn in (lambda v: v, _with_shutter):
        image, b = transformed(ds, pixels, fn)
        assert artifacts.check_detector_lines(image, b) == []
