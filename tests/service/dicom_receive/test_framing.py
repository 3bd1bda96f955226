"""check_framing: a dataset whose elements do not tile it exactly is refused (issue 10); every
real file passes."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pytest

from service.dicom_receive import framing
from service.dicom_receive.accepted import DEFLATED, IMPLICIT_VR
from service.dicom_receive.framing import check_framing
from service.dicom_receive.identifiers import parse_identifiers
from service.errors import InvalidInputError
from tests.dicom_listener.conftest import has_file_meta, part_ten
from tests.dicom_listener.fuzzing import JPEG, load_bases

EXPLICIT = "1.2.840.10008.1.2.1"


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


def test_every_shared_file_is_whole(shared_data: Path) -> None:
    paths = sorted(shared_data.rglob("*.dcm"))
    assert len(paths) > 15
    for path in paths:
        if has_file_meta(path):
            split = part_ten(path)
            check_framing(io.BytesIO(split.dataset), split.transfer_syntax)
        else:
            check_framing(io.BytesIO(path.read_bytes()), IMPLICIT_VR)


def test_a_dataset_cut_inside_any_element_is_refused(shared_data: Path) -> None:
    base = next(base for base in load_bases(shared_data) if base.transfer_syntax == JPEG)
    for element in base.layout:
        for cut in {element.start + 1, (element.start + element.end) // 2, element.end - 1}:
            if element.start < cut < element.end:
                with pytest.raises(InvalidInputError):
                    check_framing(io.BytesIO(base.data[:cut]), JPEG)
        check_framing(io.BytesIO(base.data[: element.end]), JPEG)  # cut between: still whole


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data + b"\x00\x00\x00", "ends inside an element"),
        (lambda data: data[:-2] + b"\x00" * 8 + data[-2:], "runs past the end|ends inside"),
    ],
)
def test_trailing_bytes_and_wrong_lengths_are_refused(
    shared_data: Path, change: object, message: str
) -> None:
    base = next(base for base in load_bases(shared_data) if base.transfer_syntax == EXPLICIT)
    with pytest.raises(InvalidInputError, match=message):
        check_framing(io.BytesIO(change(base.data)), EXPLICIT)  # type: ignore[operator]


def test_a_deflated_dataset_is_checked_inflated(shared_data: Path) -> None:
    base = next(base for base in load_bases(shared_data) if base.transfer_syntax == EXPLICIT)
    check_framing(io.BytesIO(_deflate(base.data)), DEFLATED)
    with pytest.raises(InvalidInputError, match="ends inside"):
        check_framing(io.BytesIO(_deflate(base.data + b"\x01")), DEFLATED)
    with pytest.raises(InvalidInputError, match="cannot be inflated"):
        check_framing(io.BytesIO(b"\xff" * 64), DEFLATED)


def test_a_deflate_bomb_is_refused_without_inflating_it_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(framing, "MAX_INFLATED_BYTES", 1 << 20)
    bomb = _deflate(b"\x00" * (8 << 20))  # 8 KiB that inflate to 8 MiB
    with pytest.raises(InvalidInputError, match="inflates to more than 1048576 bytes"):
        check_framing(io.BytesIO(bomb), DEFLATED)
    with pytest.raises(InvalidInputError, match="inflates to more than"):
        parse_identifiers(io.BytesIO(bomb), DEFLATED)
