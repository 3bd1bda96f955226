"""Pixel checks on real chest radiographs: clean images pass, degraded ones are flagged."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from bench.quality.degrade import from_display, to_display
from service.engines.rules import (
    _pixel_findings,
    artifacts,
    exposure,
    geometry,
    orientation,
    positioning,
)
from service.engines.rules import anatomy as model
from service.engines.rules._display import looks_upside_down
from service.engines.rules._pixel_findings import pixel_check
from service.engines.rules.lungs import Anatomy, measure
from service.engines.rules.pixels import WorkingImage, box_mean, derived, from_array
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


def _dim_and_flat(v: np.ndarray) -> np.ndarray:
    """Darkened by a gamma of 1.6, and the dark end smoothed (the 5x5 mean under 0.3), as a
    grey scale that crushes the lungs' detail does."""
    dark = np.asarray(v**1.6, dtype=np.float32)
    return np.where(dark < 0.3, box_mean(dark, 2), dark)


def test_dim_lungs_with_flattened_detail_are_too_dark(shared_data: Path) -> None:
    """Darkened and its dark end flattened, test3's lungs sit at 0.24 of the heart's level
    (above the 0.2 of plainly black lungs) with less fine detail than the heart: too dark.
    Darkened alone, they are as dim but keep more detail than the heart (1.09): not flagged,
    lungs dim against a bright heart are not a fault by themselves."""
    ds = dcmread(shared_data / "cxr/udacity_nih_test3.dcm")
    dark, a = transformed(ds, ds.pixel_array, _dim_and_flat)
    found = exposure.check_exposure(dark, a)
    assert [e["metric"] for f in found for e in f.evidence] == [
        "lung_to_heart_level",
        "lung_to_heart_detail",
    ]
    level, detail = (e["value"] for e in found[0].evidence)
    assert exposure.DARK_LUNGS <= level < exposure.DIM_LUNGS and detail <= exposure.FLAT_DETAIL
    dim, b = transformed(ds, ds.pixel_array, lambda v: v**1.6)
    measured = exposure.lung_to_heart_level(dim)
    assert measured is not None
    assert exposure.DARK_LUNGS <= measured[0] < exposure.DIM_LUNGS
    assert measured[1] > exposure.FLAT_DETAIL
    assert exposure.check_exposure(dim, b) == []
    plain, c = transformed(ds, ds.pixel_array, lambda v: v)
    assert exposure.check_exposure(plain, c) == []


def _dark_lower_zone(v: np.ndarray) -> np.ndarray:
    out = v.copy()
    out[int(v.shape[0] * 0.8) :] *= 0.3
    return out


@pytest.mark.parametrize("base", TUNE)
def test_an_upright_reading_overrules_a_dark_lower_zone(bases: dict, base: str) -> None:
    """Dark lower zones look upside down to the grey-level layout; the anatomy model reads an
    upright chest, surely, so no orientation error is reported and the anatomy is measured."""
    ds, pixels = bases[base]
    image, a = transformed(ds, pixels, _dark_lower_zone)
    assert looks_upside_down(a) and model.of_image(image).upright
    assert orientation.check_orientation(image, a) == []


def _fake_anatomy(heart_cols: tuple[int, int]) -> model.Anatomy:
    """Two tall lungs side by side on a 128-pixel mask grid (film 512), the heart low between
    them over ``heart_cols``."""
    prob = np.full((5, 128, 128), 0.01, dtype=np.float32)
    prob[0, 20:100, 15:55] = 0.99  # the patient's right lung, on the image left
    prob[1, 20:100, 73:113] = 0.99
    prob[2, 60:95, heart_cols[0] : heart_cols[1]] = 0.99
    return model._assemble(prob, 4.0, (512, 512))


@pytest.mark.parametrize(("heart_cols", "flipped"), [((30, 70), True), ((45, 62), False)])
def test_a_heart_on_the_image_left_reads_flipped_only_when_heart_sized(
    heart_cols: tuple[int, int], flipped: bool
) -> None:
    pixels = np.zeros((512, 512), dtype=np.float32)
    image = WorkingImage(pixels, 1, (512, 512), "MONOCHROME2", 0.0, 0.0, 256, 8, 1.0)
    fake = _fake_anatomy(heart_cols)
    assert fake.upright and fake.landmarks.heart_share_image_right is not None
    assert fake.landmarks.heart_share_image_right < orientation.FLIPPED_HEART_SHARE
    derived(pixels, "anatomy", lambda: fake)
    found = orientation.check_flip(image, measure(pixels))
    assert bool(found) == flipped
    ratio = fake.landmarks.cardiothoracic_ratio
    assert ratio is not None and (ratio >= orientation.MIN_HEART_WIDTH) == flipped


def test_lungs_cut_close_to_the_edge_are_found(bases: dict) -> None:
    """An 18 % top crop of rg1 cuts its apices, a 28 % bottom crop its costophrenic angles;
    the model's lungs stop a few rows short of the edge (3-5 % of their height at the top,
    5-8 % at the bottom: the margins rules-0.5.0 widened from 3 % and 5 %)."""
    ds, pixels = bases["rg1"]
    image, _ = transformed(ds, pixels, lambda v: v[int(v.shape[0] * 0.18) :])
    assert [c.edge for c in geometry.field_cuts(image)] == ["top"]
    image, _ = transformed(ds, pixels, lambda v: v[: int(v.shape[0] * 0.72)])
    assert [c.edge for c in geometry.field_cuts(image)] == ["bottom"]


def _model_lungs(bases: dict, base: str) -> tuple[np.ndarray, np.ndarray]:
    """The model's right and left lung masks of an uncut base film."""
    ds, pixels = bases[base]
    found = model.of_image(degraded(ds, pixels, None)[0])
    return found.mask("right_lung"), found.mask("left_lung")


def _width(lung: np.ndarray) -> int:
    return int(np.ptp(np.flatnonzero(lung.any(axis=0)))) + 1


def test_a_lung_running_along_the_edge_row_is_cut(bases: dict) -> None:
    """A lung whose mask runs along the film's first or last row at a width is cut straight
    there even when the rows just inside are narrower than the apex and base width tests ask:
    rg1's right lung with its top 3 mask rows taken off (the edge row a third of the widest
    row, 4 % lower still under APEX_WIDTH), siim's left lung with its lowest 4 rows taken off
    (the edge row 0.18 of the widest, under BASE_WIDTH 4 % above). Whole, neither is cut."""
    right, left = _model_lungs(bases, "rg1")
    assert geometry._lung_cuts(right, "left", _width(left)) == []
    cut = right[np.flatnonzero(right.any(axis=1))[0] + 3 :]
    found = geometry._lung_cuts(cut, "left", _width(left))
    assert [(edge, metric) for edge, metric, _, _ in found] == [("top", "lung_along_edge")]
    assert found[0][2] >= geometry.EDGE_RUN
    right, left = _model_lungs(bases, "siim")
    assert geometry._lung_cuts(left, "right", _width(right)) == []
    cut = left[: np.flatnonzero(left.any(axis=1))[-1] + 1 - 4]
    found = geometry._lung_cuts(cut, "right", _width(right))
    assert [(edge, metric) for edge, metric, _, _ in found] == [("bottom", "lung_along_edge")]


def test_anatomy_checks_stand_down_on_a_film_the_model_reads_inverted(
    bases: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Even when the grey-level layout misses an inversion, the model's reading of it keeps
    the anatomy checks off the film (the orientation check reports it, once)."""
    ds, pixels = bases["siim"]
    inverted = from_display(1.0 - to_display(pixels, ds), ds, pixels.dtype)
    out = ds.copy()
    out.PixelData = np.ascontiguousarray(inverted).tobytes()
    out.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = tmp_path / "inverted.dcm"
    out.save_as(path, enforce_file_format=True)
    item = image_input(path)
    image, a = degraded(out, inverted, None)
    assert geometry.check_field_of_view(image, a)  # measured anyway, it finds a false cut
    assert model.turn_of(image) is None and model.reads_inverted(image)
    monkeypatch.setattr(_pixel_findings, "misdisplayed", lambda layout: False)
    assert pixel_check(geometry.check_field_of_view)(item) == []
    assert [
        f.code for f in pixel_check(orientation.check_orientation, upright_only=False)(item)
    ] == ["cxr.orientation"]


def test_a_band_across_an_inverted_film_is_inversion_not_a_turn(
    bases: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An inverted film's dark mediastinum can make a band across the rows that looks like a
    film turned by 90 degrees (4 inverted dev films); the model reads the film upright once its
    grey scale is reversed, so it is reported inverted (cxr.orientation under MONOCHROME2, the
    label under MONOCHROME1)."""
    monkeypatch.setattr(orientation, "looks_rotated", lambda a: True)
    ds, pixels = bases["siim"]
    image, a = transformed(ds, pixels, lambda v: 1.0 - v)
    found = orientation.check_orientation(image, a)
    assert [f.code for f in found] == ["cxr.orientation"]
    assert "inverted" in found[0].message
    wrong = ds.copy()
    wrong.PhotometricInterpretation = "MONOCHROME1"
    relabelled, b = degraded(wrong, pixels, None)  # MONOCHROME2 pixels, displayed inverted
    assert [f.code for f in orientation.check_photometric_label(relabelled, b)] == ["cxr.metadata"]
