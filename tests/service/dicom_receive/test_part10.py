"""DICOM files: radqc's deterministic meta group, a sender's meta read from its bytes, and the
zero-copy stream the readers use."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from service.dicom_receive.part10 import file_header, read_file_meta
from service.dicom_receive.reader import BufferReader
from service.errors import InvalidInputError
from tests.dicom_listener.conftest import has_file_meta, part_ten

EXPLICIT = "1.2.840.10008.1.2.1"


def test_file_meta_is_deterministic() -> None:
    one = file_header("1.2.840.10008.5.1.4.1.1.1", "1.2.3.4", EXPLICIT)
    two = file_header("1.2.840.10008.5.1.4.1.1.1", "1.2.3.4", EXPLICIT)
    assert one == two
    assert one[128:132] == b"DICM"
    assert file_header("1.2.840.10008.5.1.4.1.1.1", "1.2.3.5", EXPLICIT) != one


def test_every_shared_file_meta_is_read_where_pynetdicom_splits_it(shared_data: Path) -> None:
    paths = [path for path in sorted(shared_data.rglob("*.dcm")) if has_file_meta(path)]
    assert len(paths) > 15
    for path in paths:
        data = path.read_bytes()
        meta = read_file_meta(data)
        split = part_ten(path)
        assert data[meta.dataset_offset :] == split.dataset, path.name
        assert (meta.transfer_syntax, meta.sop_class_uid, meta.sop_instance_uid) == (
            split.transfer_syntax,
            split.sop_class_uid,
            split.sop_instance_uid,
        ), path.name


def test_radqc_own_header_reads_back() -> None:
    header = file_header("1.2.840.10008.5.1.4.1.1.1", "1.2.3.4", EXPLICIT)
    meta = read_file_meta(header + b"\x08\x00\x16\x00UI\x00\x00")
    assert (meta.sop_instance_uid, meta.dataset_offset) == ("1.2.3.4", len(header))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "no DICM prefix"),
        (b"DICM" + b"\x00" * 200, "no DICM prefix"),
        (b"\x00" * 128 + b"DICM", "no TransferSyntaxUID"),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\x00" + b"1.2", "past the end"),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00U", "cannot read|no TransferSyntaxUID"),
    ],
)
def test_what_is_not_a_dicom_file_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        read_file_meta(data)


def test_buffer_reader_reads_and_seeks_like_bytes_io() -> None:
    data = bytes(range(256)) * 4
    ours, theirs = BufferReader(memoryview(data)[10:]), io.BytesIO(data[10:])
    steps = [("read", 5), ("seek", 100), ("read", 3), ("seek_end", -4), ("read", 10), ("read", 1)]
    for step, value in steps:
        if step == "read":
            assert ours.read(value) == theirs.read(value)
        elif step == "seek":
            assert ours.seek(value) == theirs.seek(value)
        else:
            assert ours.seek(value, io.SEEK_END) == theirs.seek(value, io.SEEK_END)
        assert ours.tell() == theirs.tell()
    ours.seek(0)
    assert ours.read() == data[10:]
    buffer = bytearray(8)
    ours.seek(2)
    assert ours.readinto(buffer) == 8
    assert bytes(buffer) == data[12:20]
    ours.close()
    with pytest.raises(ValueError, match=r"closed|released"):
        ours.read(1)
