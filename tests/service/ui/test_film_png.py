"""Server-side rendering of stored X-rays: Modality LUT, VOI (window or LUT), MONOCHROME1."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from service.ui.film_png import Window, render_png


def _grey(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.int32)


def _write(tmp_path: Path, pixels: np.ndarray, **elements: object) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    for name, value in elements.items():
        setattr(ds, name, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    path = tmp_path / f"{ds.SOPInstanceUID}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


RAMP = np.tile(np.arange(0, 4000, 40, dtype=np.uint16), (10, 1))  # 10 x 100, left dark


def test_monochrome1_is_shown_with_bone_white(tmp_path: Path) -> None:
    mono2 = _grey(render_png(_write(tmp_path, RAMP)).png)
    mono1 = _grey(render_png(_write(tmp_path, RAMP, PhotometricInterpretation="MONOCHROME1")).png)
    assert mono2[0, 0] < 10 and mono2[0, -1] > 245
    assert np.abs(mono1 - (255 - mono2)).max() <= 1


def test_rescale_and_an_explicit_window(tmp_path: Path) -> None:
    path = _write(tmp_path, RAMP, RescaleSlope=2, RescaleIntercept=-1000)
    rendered = render_png(path)
    assert rendered.value_range == (-1000.0, 2 * 3960 - 1000.0)
    narrow = _grey(render_png(path, Window(center=0, width=400)).png)[0]
    values = RAMP[0].astype(float) * 2 - 1000
    assert (narrow[values <= -200] == 0).all()
    assert (narrow[values >= 200] == 255).all()
    # inside the window: DICOM's linear VOI function (PS3.3 C.11.2.1.2.1)
    expected = np.clip((values - (0 - 0.5)) / (400 - 1) + 0.5, 0, 1) * 255
    assert np.abs(narrow - expected).max() <= 1
    assert ((narrow > 0) & (narrow < 255)).sum() == 4


def test_the_files_window_is_the_default_and_a_voi_lut_is_applied(tmp_path: Path) -> None:
    windowed = render_png(_write(tmp_path, RAMP, WindowCenter=1000, WindowWidth=500))
    assert (windowed.default_window.center, windowed.default_window.width) == (1000, 500)
    row = _grey(windowed.png)[0]
    assert row[RAMP[0] < 740].max() == 0 and row[RAMP[0] > 1260].min() == 255

    lut = Dataset()
    lut.add_new(0x00283002, "US", [4096, 0, 16])  # LUT Descriptor
    lut.add_new(0x00283006, "US", [min(v, 2000) * 30 for v in range(4096)])  # flat above 2000
    path = _write(tmp_path, RAMP, VOILUTSequence=Sequence([lut]))
    row = _grey(render_png(path).png)[0]
    assert row[RAMP[0] >= 2000].min() == 255  # saturated by the LUT
    assert row[RAMP[0] < 1000].max() < 140


def test_a_real_monochrome1_chest_xray(shared_data: Path) -> None:
    path = shared_data / "cxr" / "pydicom-data_RG1_UNCR_CR_chest_PA.dcm"
    header = pydicom.dcmread(path, stop_before_pixels=True)
    assert header.PhotometricInterpretation == "MONOCHROME1"
    grey = _grey(render_png(path, max_side=512).png)
    assert max(grey.shape) == 512
    h, w = grey.shape  # lungs (air) dark in the middle band, well above the bottom edge
    lungs = grey[h // 4 : h // 2, w // 5 : 2 * w // 5].mean()
    assert lungs < grey.mean()
