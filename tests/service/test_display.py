"""The one display pipeline (service.display) on synthetic datasets: Modality LUT, VOI (window,
VOI LUT Function, VOI LUT Sequence, missing or unusable windows), MONOCHROME1, signed pixels,
multi-frame and colour; and on real files for reading."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from service import display
from service.display import ImageDecodeError, NoPixelData, Window

RAMP = np.tile(np.arange(0, 4000, 40, dtype=np.uint16), (8, 1))  # 8 x 100, 0..3960


def _ds(pixels: np.ndarray, **elements: object) -> Dataset:
    """An uncompressed dataset holding ``pixels`` (frames first, samples last)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    colour = elements.get("SamplesPerPixel", 1) == 3
    shape = pixels.shape[-3:-1] if colour else pixels.shape[-2:]
    ds.Rows, ds.Columns = shape
    if pixels.ndim == (4 if colour else 3):
        ds.NumberOfFrames = pixels.shape[0]
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    bits = pixels.dtype.itemsize * 8
    ds.BitsAllocated = ds.BitsStored = bits
    ds.HighBit = bits - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    if colour:
        ds.PlanarConfiguration = 0
    for name, value in elements.items():
        setattr(ds, name, value)
    ds.PixelData = pixels.tobytes()
    return ds


def _lut(first: int, data: list[int], bits: int = 16) -> Sequence:
    item = Dataset()
    vr = "SS" if first < 0 else "US"  # the first input value is signed for signed inputs
    item.add_new(0x00283002, vr, [len(data) % 65536, first, bits])  # LUT Descriptor
    item.add_new(0x00283006, "US", data)  # LUT Data
    return Sequence([item])


def _shown(ds: Dataset, window: Window | None = None) -> np.ndarray:
    return display.display_image(ds, window).pixels


def test_monochrome1_is_the_mirror_of_monochrome2() -> None:
    mono2 = _shown(_ds(RAMP))
    mono1 = _shown(_ds(RAMP, PhotometricInterpretation="MONOCHROME1"))
    assert mono2[0, 0] == 0.0 and mono2[0, -1] == 1.0  # dark stored values display dark
    assert np.allclose(mono1, 1.0 - mono2)
    grey1 = display.grey_levels(RAMP, _ds(RAMP, PhotometricInterpretation="MONOCHROME1"))
    assert np.array_equal(grey1, -RAMP.astype(np.float32))  # denser is higher, always


def test_signed_pixels_go_through_the_rescale() -> None:
    stored = np.tile(np.arange(-500, 1500, 20, dtype=np.int16), (8, 1))
    ds = _ds(stored, RescaleSlope=0.5, RescaleIntercept=-100)
    assert np.array_equal(display.modality_values(display.decode(ds), ds), stored * 0.5 - 100)
    shown = display.display_image(ds)
    assert shown.value_range == (-350.0, 1480 * 0.5 - 100)
    assert shown.pixels[0, 0] == 0.0 and shown.pixels[0, -1] == 1.0
    assert np.all(np.diff(shown.pixels[0]) > 0)  # no wrap-around of negative values


def test_a_rescale_slope_of_zero_is_ignored() -> None:
    ds = _ds(RAMP, RescaleSlope=0, RescaleIntercept=5)
    assert np.array_equal(display.modality_values(RAMP, ds), RAMP)
    assert np.ptp(_shown(ds)) == 1.0


@pytest.mark.parametrize(
    "window", [None, (1000, 0), (1000, -50), (1000, 0.5)], ids=["none", "0", "-50", "0.5"]
)
def test_a_missing_or_unusable_window_shows_the_full_range(
    window: tuple[float, float] | None,
) -> None:
    elements = {} if window is None else {"WindowCenter": window[0], "WindowWidth": window[1]}
    shown = display.display_image(_ds(RAMP, **elements))
    assert np.allclose(shown.pixels[0], RAMP[0] / 3960)
    # LINEAR counts whole values: the window over 0..3960 is 3961 wide, centred on 1980.5
    assert shown.default_window == Window(1980.5, 3961)
    assert np.array_equal(_shown(_ds(RAMP), shown.default_window), shown.pixels)


def test_a_narrow_width_is_usable_for_linear_exact() -> None:
    ds = _ds(RAMP, WindowCenter=1000, WindowWidth=0.5, VOILUTFunction="LINEAR_EXACT")
    row = _shown(ds)[0]
    assert row[RAMP[0] < 1000].max() == 0.0 and row[RAMP[0] > 1000].min() == 1.0
    assert row[RAMP[0] == 1000].tolist() == [0.5]  # PS3.3 C.11.2.1.3.2 at the centre


def test_the_files_window_clips_and_is_the_default() -> None:
    ds = _ds(RAMP, WindowCenter=1000, WindowWidth=500)
    shown = display.display_image(ds)
    row = shown.pixels[0]
    assert row[RAMP[0] < 740].max() == 0.0 and row[RAMP[0] > 1260].min() == 1.0
    assert shown.default_window.center == pytest.approx(1000)
    assert shown.default_window.width == pytest.approx(500)
    # the page's sliders start from the default window: the same picture
    assert np.allclose(_shown(ds, shown.default_window), shown.pixels, atol=1e-9)


def test_a_window_wider_than_the_values_is_narrowed_to_them() -> None:
    """A CR's window over its whole bit range (0-30000) must not wash the film out."""
    ds = _ds(RAMP, WindowCenter=15000, WindowWidth=30000)
    shown = display.display_image(ds)
    assert shown.pixels.min() == 0.0 and shown.pixels.max() == 1.0
    assert shown.default_window == Window(1980.5, 3961)
    assert np.allclose(_shown(ds, shown.default_window), shown.pixels)
    washed = _shown(ds, Window(15000, 30000))  # the auditor's window is applied as given
    assert washed.max() < 0.2


def test_the_voi_lut_function_shapes_the_window() -> None:
    ds = _ds(RAMP, WindowCenter=2000, WindowWidth=1000, VOILUTFunction="SIGMOID")
    shown = display.display_image(ds)
    sigmoid = 1 / (1 + np.exp(-4 * (RAMP[0].astype(float) - 2000) / 1000))
    expected = (sigmoid - sigmoid.min()) / np.ptp(sigmoid)
    assert np.allclose(shown.pixels[0], expected)
    assert shown.default_window == Window(2000, 1000)  # a sigmoid is not narrowed
    explicit = _shown(ds, Window(2000, 1000))[0]
    assert np.allclose(explicit, sigmoid)  # the auditor's window keeps the file's function


def test_a_voi_lut_is_applied_to_modality_values() -> None:
    # stored 0..3960, rescaled to -1000..2960; the LUT starts at -1000 and is flat above 1000
    lut = [min(v, 2000) * 30 for v in range(4000)]
    ds = _ds(RAMP, RescaleSlope=1, RescaleIntercept=-1000, VOILUTSequence=_lut(-1000, lut))
    shown = display.display_image(ds)
    values = RAMP[0].astype(float) - 1000
    assert np.allclose(shown.pixels[0], np.minimum(values + 1000, 2000) / 2000)
    assert shown.default_window == Window(0.5, 2001)  # inputs -1000..1000, as LINEAR counts
    assert np.allclose(_shown(ds, shown.default_window), shown.pixels, atol=1e-3)


def test_an_8_bit_voi_lut_longer_than_256_entries() -> None:
    """pydicom 3.0's apply_voi keeps indices in uint8 for an 8-bit LUT: index 300 became 44."""
    lut = [v // 16 for v in range(4096)]
    ds = _ds(RAMP, VOILUTSequence=_lut(0, lut, bits=8))
    row = _shown(ds)[0]
    assert np.all(np.diff(row) >= 0) and row[-1] == 1.0
    assert np.allclose(row, (RAMP[0] // 16) / (3960 // 16), atol=1e-9)


def test_a_modality_lut_sequence() -> None:
    table = [v * v // 64 for v in range(2000)]  # non-linear
    ds = _ds(RAMP, ModalityLUTSequence=_lut(0, table))
    values = display.modality_values(RAMP, ds)
    expected = np.array(table)[np.minimum(RAMP, 1999)]  # past the end: the last entry
    assert np.array_equal(values, expected)


def test_the_first_frame_of_a_multi_frame_image() -> None:
    frames = np.stack([RAMP, RAMP[:, ::-1]])
    ds = _ds(frames)
    assert np.array_equal(display.decode(ds), RAMP)
    assert np.array_equal(display.first_frame(frames, ds), RAMP)
    assert np.allclose(_shown(ds)[0], RAMP[0] / 3960)


def test_colour_is_kept_for_the_page_and_grey_elsewhere() -> None:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    ds = _ds(rgb, SamplesPerPixel=3, PhotometricInterpretation="RGB")
    kept = display.display_image(ds, colour=True)
    assert kept.pixels.shape == (40, 50, 3) and np.allclose(kept.pixels * 255, rgb)
    luma = np.rint(rgb @ np.array([0.299, 0.587, 0.114]))
    assert np.allclose(display.display_image(ds).pixels * 255, luma)
    assert np.array_equal(display.grey_levels(display.decode(ds), ds), luma.astype(np.float32))


def test_reading_real_files(shared_data: Path, tmp_path: Path) -> None:
    legacy = display.read_image(shared_data / "cxr/fodicom_CR-MONO1-10-chest_nometa.dcm")
    assert display.decode(legacy).shape == (440, 440)  # no file meta: read as it was written
    with pytest.raises(NoPixelData):
        display.read_image(
            shared_data / "cxr/header_only/openrem_DX-Im-Carestream_DRX_chest_AP_nopixels.dcm"
        )
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom file" * 10)
    for path in (junk, tmp_path / "absent.dcm"):
        with pytest.raises(ImageDecodeError):
            display.read_image(path)
    broken = _ds(RAMP)
    broken.PixelData = b"\x00" * 10  # too short for 8 x 100 x 16 bits
    with pytest.raises(ImageDecodeError):
        display.decode(broken)
