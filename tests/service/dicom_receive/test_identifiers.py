"""parse_identifiers on real dataset bytes: every shared CXR file, and broken ones."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest
from pydicom import dcmread

from service.dicom_receive.accepted import DEFLATED, IMPLICIT_VR
from service.dicom_receive.identifiers import parse_identifiers
from service.errors import InvalidInputError
from tests.dicom_listener.conftest import cxr_files, has_file_meta, part_ten
from tests.dicom_listener.samples import CR, encoded, header_dataset, set_raw

EXPLICIT = "1.2.840.10008.1.2.1"


def test_every_shared_cxr_file_yields_its_identifiers(shared_data: Path) -> None:
    for path in cxr_files(shared_data):
        if has_file_meta(path):
            split = part_ten(path)
            data, syntax = split.dataset, split.transfer_syntax
        else:
            data, syntax = path.read_bytes(), IMPLICIT_VR
        ids = parse_identifiers(io.BytesIO(data), syntax)
        full = dcmread(path, force=True, stop_before_pixels=True)
        assert ids.sop_class_uid == full.SOPClassUID, path.name
        assert ids.sop_instance_uid == full.SOPInstanceUID, path.name
        assert ids.study_instance_uid == full.StudyInstanceUID, path.name
        assert ids.series_instance_uid == full.SeriesInstanceUID, path.name
        assert ids.modality == (full.get("Modality") or None), path.name
        assert ids.accession == (full.get("AccessionNumber") or None), path.name
        assert ids.patient_id == (full.get("PatientID") or None), path.name


def test_deflated_dataset_is_inflated_to_read_it() -> None:
    ds = header_dataset(AccessionNumber="ACC42", NumberOfStudyRelatedInstances="3")
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    data = packer.compress(encoded(ds)) + packer.flush()
    ids = parse_identifiers(io.BytesIO(data), DEFLATED)
    assert (ids.sop_instance_uid, ids.accession, ids.expected_study_instances) == (
        ds.SOPInstanceUID,
        "ACC42",
        3,
    )


def test_parsing_stops_before_the_pixel_data() -> None:
    ds = header_dataset()
    # A pixel data element claiming far more bytes than follow: it must never be read.
    data = encoded(ds) + b"\xe0\x7f\x10\x00OW\x00\x00\xff\xff\xff\x7f" + b"\x00" * 16
    assert parse_identifiers(io.BytesIO(data), EXPLICIT).sop_instance_uid == ds.SOPInstanceUID


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"SOPInstanceUID": None}, "SOPInstanceUID is missing"),
        ({"SOPClassUID": None}, "SOPClassUID is missing"),
        ({"StudyInstanceUID": None}, "StudyInstanceUID is missing"),
        ({"StudyInstanceUID": ""}, "StudyInstanceUID is missing"),
    ],
)
def test_missing_required_uids_are_refused(changes: dict[str, str | None], message: str) -> None:
    data = encoded(header_dataset(**changes))
    with pytest.raises(InvalidInputError, match=message):
        parse_identifiers(io.BytesIO(data), EXPLICIT)


@pytest.mark.parametrize(
    ("keyword", "value"),
    [
        ("SOPInstanceUID", b"1.2.abc.4"),
        ("SOPInstanceUID", b"1.2..4\x00"),
        ("StudyInstanceUID", b"1." + b"2" * 70),
        ("SeriesInstanceUID", b"not a uid "),
    ],
)
def test_malformed_uids_are_refused(keyword: str, value: bytes) -> None:
    ds = header_dataset()
    tag = {
        "SOPInstanceUID": 0x00080018,
        "StudyInstanceUID": 0x0020000D,
        "SeriesInstanceUID": 0x0020000E,
    }[keyword]
    set_raw(ds, tag, value)
    with pytest.raises(InvalidInputError, match=f"{keyword} is not a valid UID"):
        parse_identifiers(io.BytesIO(encoded(ds)), EXPLICIT)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00" * 7,
        b"\xde\xad\xbe\xef" * 64,
        bytes(range(256)) * 8,
        b"\x08\x00\x16\x00UI\x40\x00" + b"1.2.3",  # length beyond the end of the data
    ],
)
def test_garbage_is_refused_not_raised(data: bytes) -> None:
    with pytest.raises(InvalidInputError):
        parse_identifiers(io.BytesIO(data), EXPLICIT)


def test_overlong_optional_identifiers_are_dropped_not_refused() -> None:
    ds = header_dataset(PatientID="P" * 65, Modality="CR")
    set_raw(ds, 0x00080050, b"A" * 66)
    ids = parse_identifiers(io.BytesIO(encoded(ds)), EXPLICIT)
    assert (ids.patient_id, ids.accession, ids.modality) == (None, None, "CR")


def test_character_set_is_honoured() -> None:
    ds = header_dataset(SpecificCharacterSet="ISO_IR 100")
    set_raw(ds, 0x00100020, "MÜLLER-7".encode("latin-1"))
    ids = parse_identifiers(io.BytesIO(encoded(ds)), EXPLICIT)
    assert ids.patient_id == "MÜLLER-7"
    assert ids.sop_class_uid == CR
