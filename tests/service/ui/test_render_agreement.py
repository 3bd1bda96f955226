"""The auditor's page, the LLM and the rules engine see one picture of a film (issue 14): the
same display pixels for the page and the LLM, the same polarity for the rules; and the page's
default window follows the file's VOI without washing the film out (issue 15)."""

from __future__ import annotations

import io
from copy import deepcopy
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from service.engines.llm.redacted_png import display_array, load_display
from service.engines.rules.pixels import block_mean, load
from service.ui.film_png import Window, render_png
from tests.service.engines.support import CXR_FILES

FILMS = [
    "rg1",
    "rg1_j2kr",
    "orthanc",
    "fodicom",
    "siim",
    "siim_fake_mono1",
    "test1",
    "test3",
    "nhsx",
    "tfio",
    "nonhuman",
]
WHOLE = 4096  # no shrinking: the page's pixels one for one


def _page(path: Path, window: Window | None = None) -> np.ndarray:
    png = render_png(path, window, max_side=WHOLE).png
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int32)


def _spread(grey: np.ndarray) -> float:
    """Contrast: the grey levels between the 1st and the 99th percentile."""
    low, high = np.percentile(grey, [1, 99])
    return float(high - low)


@pytest.mark.parametrize("name", FILMS)
def test_page_llm_and_rules_see_the_same_picture(name: str, shared_data: Path) -> None:
    path = shared_data / CXR_FILES[name]
    page = _page(path)
    llm = load_display(str(path)).astype(np.int32)
    assert np.array_equal(page, llm), name
    rules = load(str(path))
    assert rules is not None
    shown = block_mean(page, rules.factor)[: rules.pixels.shape[0], : rules.pixels.shape[1]]
    # the rules do not window, so equal only up to a monotone curve: same polarity, same film
    correlation = np.corrcoef(shown.ravel(), rules.pixels.ravel())[0, 1]
    assert correlation > 0.9, (name, correlation)


def test_a_monochrome1_label_turns_all_three_round(shared_data: Path) -> None:
    right = shared_data / CXR_FILES["siim"]
    wrong = shared_data / CXR_FILES["siim_fake_mono1"]  # the same pixels, labelled MONOCHROME1
    assert np.array_equal(_page(wrong), 255 - _page(right))
    llm_right = display_array(dcmread(right)).astype(np.int32)
    assert np.array_equal(display_array(dcmread(wrong)).astype(np.int32), 255 - llm_right)
    rules_right, rules_wrong = load(str(right)), load(str(wrong))
    assert rules_right is not None and rules_wrong is not None
    assert np.allclose(rules_wrong.pixels, 1.0 - rules_right.pixels, atol=1e-6)


def test_a_window_over_the_whole_bit_range_does_not_wash_the_film_out(
    shared_data: Path,
) -> None:
    """The NEMA CR chest names a 0-30000 window over values 874-26479. Shown as given (the
    page before this change) its 1st percentile was grey 61, its 1-99 % spread 176 levels and
    its standard deviation 38.8; stretched over the values it holds: 37, 205 and 45.5."""
    path = shared_data / CXR_FILES["rg1"]
    header = dcmread(path, stop_before_pixels=True)
    assert (float(header.WindowCenter), float(header.WindowWidth)) == (15000, 30000)
    rendered = render_png(path, max_side=WHOLE)
    page = _page(path)
    assert page.min() == 0 and page.max() == 255  # the whole display range is used
    assert np.percentile(page, 1) < 45 and _spread(page) > 195 and page.std() > 44
    # the default window the sliders start from draws the same picture
    assert np.abs(_page(path, rendered.default_window) - page).max() <= 1
    assert rendered.default_window.width < 30000


def _voi_lut_film(shared_data: Path, tmp_path: Path) -> tuple[Path, Dataset]:
    """The NEMA CR chest with a VOI LUT as CR readers write them: 12-bit output in a 16-bit
    descriptor, linear over the film's 2nd-98th percentile, flat beyond."""
    ds = dcmread(shared_data / CXR_FILES["rg1"])
    low, high = (int(v) for v in np.percentile(ds.pixel_array, [2, 98]))
    ramp = np.linspace(0, 4095, high - low + 1).round().astype(int).tolist()
    item = Dataset()
    item.add_new(0x00283002, "US", [len(ramp), low, 16])
    item.add_new(0x00283006, "US", ramp)
    lut = deepcopy(ds)
    lut.VOILUTSequence = Sequence([item])
    path = tmp_path / "voi_lut.dcm"
    lut.save_as(path, enforce_file_format=True)
    return path, lut


def test_a_voi_lut_is_followed_and_not_washed_out(shared_data: Path, tmp_path: Path) -> None:
    path, ds = _voi_lut_film(shared_data, tmp_path)
    rendered = render_png(path, max_side=WHOLE)
    page = _page(path)
    assert np.array_equal(page, display_array(ds).astype(np.int32))  # the LLM sees it too
    # 2 % of the film at each end is saturated by the LUT: black lungs and white bone
    assert float((page == 255).mean()) > 0.015 and float((page == 0).mean()) > 0.015
    full_range = _page(shared_data / CXR_FILES["rg1"])
    assert _spread(page) > _spread(full_range)
    # "reset window" asks for the default window: it gives the LUT's picture, not a washed one
    reset = _page(path, rendered.default_window)
    assert np.abs(reset - page).mean() < 1.0
    assert _spread(reset) == pytest.approx(_spread(page), abs=2)
