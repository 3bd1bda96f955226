"""No input makes the pixel checks raise: random arrays, tiny and constant images, odd bit
depths, MONOCHROME1, missing tags, and files that are not images at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

from service.engines.base import ImageInput
from service.engines.rules import pixels
from service.engines.rules.image_checks import PIXEL_CHECKS
from service.engines.rules.lungs import measure


def _file(tmp: Path, array: np.ndarray, photometric: str, bits: int | None, drop: list[str]) -> str:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns = array.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits if bits is not None else 16
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.RescaleSlope = "0"
    ds.PixelData = array.astype(np.uint16).tobytes()
    for keyword in drop:
        if keyword in ds:
            delattr(ds, keyword)
    path = tmp / f"{ds.SOPInstanceUID}.dcm"
    ds.save_as(path, enforce_file_format=False)
    return str(path)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(1, 90),
    cols=st.integers(1, 90),
    kind=st.sampled_from(["random", "constant", "gradient"]),
    photometric=st.sampled_from(["MONOCHROME1", "MONOCHROME2", "RGB", ""]),
    bits=st.sampled_from([None, 1, 8, 12, 15, 16]),
    drop=st.lists(st.sampled_from(["BitsStored", "PhotometricInterpretation", "RescaleSlope"])),
    seed=st.integers(0, 2**16),
)
def test_no_input_raises(
    tmp_path: Path,
    rows: int,
    cols: int,
    kind: str,
    photometric: str,
    bits: int | None,
    drop: list[str],
    seed: int,
) -> None:
    rng = np.random.default_rng(seed)
    if kind == "random":
        array = rng.integers(0, 65535, (rows, cols))
    elif kind == "constant":
        array = np.full((rows, cols), int(rng.integers(0, 65535)))
    else:
        array = np.add.outer(np.arange(rows), np.arange(cols)) * 97
    path = _file(tmp_path, array, photometric, bits, drop)
    item = ImageInput(1, "1.2.3", 1, path, Dataset())
    for check in PIXEL_CHECKS:
        check(item)


def test_not_an_image_and_missing_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom file" * 10)
    for path in (str(junk), str(tmp_path / "absent.dcm")):
        item = ImageInput(1, "1.2.3", 1, path, Dataset())
        assert [f for check in PIXEL_CHECKS for f in check(item)] == []


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.floats(0, 1))
def test_anatomy_of_tiny_and_flat_images(rows: int, cols: int, value: float) -> None:
    measure(np.full((rows, cols), value, dtype=np.float32))
    measure(np.random.default_rng(rows).random((rows, cols), dtype=np.float32))


def test_decoded_once_per_review(tmp_path: Path) -> None:
    array = np.random.default_rng(0).integers(0, 4000, (64, 64))
    path = _file(tmp_path, array, "MONOCHROME2", 12, [])
    item = ImageInput(1, "1.2.3", 1, path, Dataset())
    pixels.clear_cache()
    first = pixels.working_image(item)
    assert first is not None
    assert pixels.working_image(item) is first
