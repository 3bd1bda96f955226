"""Checks of the stored file: pixel data present and complete, re-sent SOP Instance UIDs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydicom import dcmread

from service.engines.rules import stored_object
from service.errors import EngineError
from service.taxonomy import Severity
from tests.service.engines.support import CXR_FILES, image_input


@pytest.mark.parametrize(
    "name", ["rg1", "rg1_j2kr", "rg1_j2ki", "siim", "test1", "fodicom", "orthanc", "nonhuman"]
)
def test_complete_files_pass(name: str, shared_data: Path) -> None:
    assert stored_object.check_pixel_data(image_input(shared_data / CXR_FILES[name])) == []


def test_header_only_file_has_no_pixel_data(shared_data: Path) -> None:
    found = stored_object.check_pixel_data(image_input(shared_data / CXR_FILES["header_only"]))
    assert len(found) == 1
    assert (found[0].code, found[0].severity) == ("cxr.metadata", Severity.MAJOR)
    assert found[0].evidence == [{"tag": "(7FE0,0010)", "keyword": "PixelData", "value": None}]


def _truncated_copy(source: Path, target: Path, cut: int) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) - cut])
    return target


def test_a_file_cut_short_is_incomplete(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / CXR_FILES["rg1"]
    _, element = stored_object.find_pixel_element(str(source))
    assert element is not None
    trailer = element.file_size - element.value_offset - element.length  # elements after pixels
    path = _truncated_copy(source, tmp_path / "cut.dcm", trailer + 1000)
    found = stored_object.check_pixel_data(image_input(path))
    assert len(found) == 1
    assert "ends 1000 bytes early" in found[0].message
    assert found[0].evidence[0]["keyword"] == "PixelData"


def test_compressed_pixel_data_cut_after_its_header(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / CXR_FILES["rg1_j2kr"]
    _ds, element = stored_object.find_pixel_element(str(source))
    assert element is not None
    assert element.length == 0xFFFFFFFF
    target = tmp_path / "empty_j2k.dcm"
    target.write_bytes(source.read_bytes()[: element.value_offset])
    found = stored_object.check_pixel_data(image_input(target))
    assert len(found) == 1
    assert "compressed pixel data is empty" in found[0].message


def test_pixel_data_shorter_than_the_image_size(shared_data: Path, tmp_path: Path) -> None:
    ds = dcmread(shared_data / CXR_FILES["test1"])
    ds.Rows = ds.Rows * 2  # the header now promises twice the pixels the file carries
    target = tmp_path / "short.dcm"
    ds.save_as(target)
    found = stored_object.check_pixel_data(image_input(target))
    assert len(found) == 1
    assert "of the 2097152 bytes" in found[0].message


def test_a_missing_file_is_an_engine_error(shared_data: Path, tmp_path: Path) -> None:
    path = tmp_path / "gone.dcm"
    shutil.copy(shared_data / CXR_FILES["siim"], path)
    item = image_input(path)
    path.unlink()
    with pytest.raises(EngineError, match=r"cannot read the stored file gone\.dcm"):
        stored_object.check_pixel_data(item)


def test_resent_instance_with_other_content(shared_data: Path) -> None:
    item = image_input(shared_data / CXR_FILES["siim"], previous_sha256="ab" * 32)
    found = stored_object.check_resent_instance(item)
    assert len(found) == 1
    assert found[0].severity == Severity.MAJOR
    assert found[0].evidence[0]["keyword"] == "SOPInstanceUID"
    assert found[0].evidence[0]["previous_sha256"] == "ab" * 32
    assert stored_object.check_resent_instance(image_input(shared_data / CXR_FILES["siim"])) == []
