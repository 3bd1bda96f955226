"""The rules' working image takes its grey levels from service.display (Modality LUT, polarity,
first frame, colour as luminance) and, unlike the display, never from the file's VOI window:
the pixel checks' thresholds are tuned on percentile-scaled modality values."""

from __future__ import annotations

from copy import deepcopy
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from service.engines.rules.pixels import WorkingImage, from_array, load
from tests.service.engines.support import CXR_FILES


@pytest.fixture(scope="module")
def siim(shared_data: Path) -> tuple[Dataset, np.ndarray]:
    ds = dcmread(shared_data / CXR_FILES["siim"])
    return ds, ds.pixel_array


def _image(raw: np.ndarray, ds: Dataset) -> WorkingImage:
    image = from_array(raw, ds)
    assert image is not None
    return image


def _voi_lut() -> Sequence:
    item = Dataset()
    item.add_new(0x00283002, "US", [256, 0, 16])
    item.add_new(0x00283006, "US", [min(v, 60) * 1000 for v in range(256)])
    return Sequence([item])


def test_the_files_voi_does_not_move_the_working_image(siim: tuple[Dataset, np.ndarray]) -> None:
    ds, raw = siim
    plain = _image(raw, ds)
    for elements in (
        {"WindowCenter": 40, "WindowWidth": 60},
        {"WindowCenter": 40, "WindowWidth": 60, "VOILUTFunction": "SIGMOID"},
        {"VOILUTSequence": _voi_lut()},
    ):
        windowed = deepcopy(ds)
        for name, value in elements.items():
            setattr(windowed, name, value)
        assert np.array_equal(_image(raw, windowed).pixels, plain.pixels), elements


def test_monochrome1_is_inverted_as_the_display_inverts_it(
    siim: tuple[Dataset, np.ndarray],
) -> None:
    ds, raw = siim
    mono1 = deepcopy(ds)
    mono1.PhotometricInterpretation = "MONOCHROME1"
    plain, inverted = _image(raw, ds), _image(raw, mono1)
    assert np.allclose(inverted.pixels, 1.0 - plain.pixels, atol=1e-6)
    assert (inverted.clip_low, inverted.clip_high) == (plain.clip_high, plain.clip_low)
    assert inverted.photometric == "MONOCHROME1"


def test_signed_pixels_with_rescale_match_their_unsigned_twin(
    siim: tuple[Dataset, np.ndarray],
) -> None:
    ds, raw = siim
    signed = deepcopy(ds)
    signed.PixelRepresentation, signed.BitsStored = 1, 16
    signed.RescaleSlope, signed.RescaleIntercept = 1, 128
    stored = raw.astype(np.int16) - 128
    assert np.allclose(_image(stored, signed).pixels, _image(raw, ds).pixels, atol=1e-6)
    flipped = deepcopy(signed)
    flipped.RescaleSlope = -1  # a negative slope turns the grey scale round
    assert np.allclose(_image(stored, flipped).pixels, 1.0 - _image(raw, ds).pixels, atol=1e-6)


def test_a_modality_lut_sequence_is_applied(siim: tuple[Dataset, np.ndarray]) -> None:
    ds, raw = siim
    table = [min(v, 128) * 256 for v in range(256)]  # everything above 128 is one value
    lut = deepcopy(ds)
    item = Dataset()
    item.add_new(0x00283002, "US", [256, 0, 16])
    item.add_new(0x00283006, "US", table)
    lut.ModalityLUTSequence = Sequence([item])
    with_lut = _image(raw, lut).pixels
    assert not np.allclose(with_lut, _image(raw, ds).pixels)
    expected = _image(np.minimum(raw, 128).astype(raw.dtype), ds).pixels
    assert np.allclose(with_lut, expected, atol=1e-6)


def test_a_multi_frame_image_is_read_by_its_first_frame(
    siim: tuple[Dataset, np.ndarray],
) -> None:
    ds, raw = siim
    frames = deepcopy(ds)
    frames.NumberOfFrames = 2
    assert np.array_equal(_image(np.stack([raw, raw[::-1]]), frames).pixels, _image(raw, ds).pixels)


def test_a_colour_image_is_read_by_its_luminance(siim: tuple[Dataset, np.ndarray]) -> None:
    """Before, a colour secondary capture gave no working image and no pixel findings."""
    ds, raw = siim
    rgb = deepcopy(ds)
    rgb.SamplesPerPixel, rgb.PhotometricInterpretation = 3, "RGB"
    grey = np.stack([raw, raw, raw], axis=-1)  # equal channels: the luminance is the grey
    colour = _image(grey, rgb)
    assert np.array_equal(colour.pixels, _image(raw, ds).pixels)
    assert colour.photometric == "RGB"


def test_a_legacy_file_without_file_meta(shared_data: Path) -> None:
    image = load(str(shared_data / CXR_FILES["fodicom"]))
    assert image is not None and image.shape == (440, 440)
    assert image.photometric == "MONOCHROME1"
