"""Deterministic fuzzing of the Storage SCP (issue 10), shared by ``test_fuzz.py`` (small) and
``bench/fuzz/dicom.py`` (full size).

Datasets: real chest images (a DX as explicit, implicit and deflated VR little endian, and a JPEG
secondary capture), each case with a fresh SOP Instance UID, then one mutation chosen by a seeded
generator. A mutation either makes the dataset certainly malformed (``must_fail``: cut inside an
element, a length past the end, a broken or missing UID, garbage...) or leaves its validity open
(byte flips, odd text, reordered elements...): those may be stored, and then must be stored whole.
"""

from __future__ import annotations

import random
import struct
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path
from typing import Final

from pydicom import dcmread
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import data_element_generator
from pydicom.filewriter import write_dataset

from service.dicom_receive.part10 import file_header

DX = "1.2.840.10008.5.1.4.1.1.1.1"
SC = "1.2.840.10008.5.1.4.1.1.7"
CR = "1.2.840.10008.5.1.4.1.1.1"
CT = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT = "1.2.840.10008.1.2.1"
IMPLICIT = "1.2.840.10008.1.2"
DEFLATED = "1.2.840.10008.1.2.1.99"
JPEG = "1.2.840.10008.1.2.4.50"
CONTEXTS: Final = [(sop, ts) for sop in (DX, SC) for ts in (EXPLICIT, IMPLICIT, DEFLATED, JPEG)]
# Patient data put into every case: it must never reach a log line.
MARKERS: Final = ("FUZZ^MARKER^NAME", "PID-FUZZ-MARKER")
SOURCES: Final = {
    "dx": "cxr/nonhuman/highdicom_dx_image_veterinary_thorax.dcm",  # 37 kB, a real thorax DX
    "jpeg": "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
}
_PLACEHOLDER: Final = "2.25." + str(10**58)  # 64 characters, replaced per case by a unique UID
_SOP_CLASS, _SOP_INSTANCE, _STUDY = 0x00080016, 0x00080018, 0x0020000D
_CHARSET, _PATIENT_NAME, _PATIENT_ID, _PIXEL_DATA = 0x00080005, 0x00100010, 0x00100020, 0x7FE00010
_SYNTAX_NAMES: Final = {EXPLICIT: "explicit", IMPLICIT: "implicit", DEFLATED: "deflated"}
_LONG_VRS: Final = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"}


@dataclass(frozen=True)
class Element:
    tag: int
    start: int  # of its header
    value_start: int
    end: int
    length_at: int  # where its length field is
    long_length: bool  # a 4-byte length field


@dataclass(frozen=True)
class Base:
    name: str
    sop_class: str
    transfer_syntax: str
    data: bytes  # not deflated, even for the deflated base
    layout: tuple[Element, ...]

    @property
    def implicit(self) -> bool:
        return self.transfer_syntax == IMPLICIT


@dataclass(frozen=True)
class Case:
    index: int
    mutation: str
    sop_class: str
    sop_instance_uid: str  # what the C-STORE request names
    transfer_syntax: str
    data: bytes  # the dataset as sent
    must_fail: bool

    def file_bytes(self) -> bytes:
        """A Part 10 file whose dataset is the case's bytes, for ``send_c_store(path)``."""
        return file_header(self.sop_class, self.sop_instance_uid, self.transfer_syntax) + self.data


# --- the real files, prepared once ---------------------------------------------------------------


def _encode(ds: Dataset, implicit: bool) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, implicit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        write_dataset(buffer, ds)
    return buffer.getvalue()


def layout(data: bytes, implicit: bool) -> tuple[Element, ...]:
    """Where each top-level element of ``data`` starts and ends (they follow one another)."""
    stream = BytesIO(data)
    elements: list[Element] = []
    for element in data_element_generator(stream, implicit, True, defer_size=64):
        start = elements[-1].end if elements else 0
        if isinstance(element, RawDataElement):
            value_start = element.value_tell
            defined = element.length != 0xFFFFFFFF
            end = value_start + element.length if defined else stream.tell()
        else:  # a sequence of undefined length, read whole by the generator
            value_start, end = int(element.file_tell), stream.tell()
        long_length = implicit or value_start - start == 12
        length_at = start + (4 if implicit else (8 if long_length else 6))
        elements.append(Element(int(element.tag), start, value_start, end, length_at, long_length))
    return tuple(elements)


def load_bases(shared_data: Path) -> list[Base]:
    """The real files, with the markers as patient data and a placeholder SOP Instance UID."""
    bases = []
    for name, relpath in SOURCES.items():
        ds = dcmread(shared_data / relpath)
        ds.PatientName, ds.PatientID = MARKERS
        ds.SOPInstanceUID = _PLACEHOLDER
        syntaxes = [JPEG] if name == "jpeg" else [EXPLICIT, IMPLICIT, DEFLATED]
        for syntax in syntaxes:
            implicit = syntax == IMPLICIT
            data = _encode(ds, implicit)
            base_name = name if name == "jpeg" else f"{name}-{_SYNTAX_NAMES[syntax]}"
            bases.append(Base(base_name, str(ds.SOPClassUID), syntax, data, layout(data, implicit)))
    return bases


def valid_case(base: Base, index: int) -> Case:
    """The base with its own SOP Instance UID: must be stored."""
    uid = "2.25." + str(10**58 + index)
    data = base.data.replace(_PLACEHOLDER.encode(), uid.encode())
    if base.transfer_syntax == DEFLATED:
        data = _deflate(data)
    return Case(index, "none", base.sop_class, uid, base.transfer_syntax, data, False)


def _deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


# --- element surgery ---------------------------------------------------------------------------


def _element(tag: int, vr: str, value: bytes, implicit: bool) -> bytes:
    value += b"\x00" if len(value) % 2 else b""
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    if implicit:
        return head + struct.pack("<I", len(value)) + value
    if vr in _LONG_VRS:
        return head + vr.encode() + b"\x00\x00" + struct.pack("<I", len(value)) + value
    return head + vr.encode() + struct.pack("<H", len(value)) + value


def _find(elements: tuple[Element, ...], tag: int) -> Element | None:
    return next((element for element in elements if element.tag == tag), None)


def _put(data: bytes, elements: tuple[Element, ...], tag: int, new: bytes) -> bytes:
    """``data`` with element ``tag`` replaced by the encoded element ``new`` (or inserted)."""
    found = _find(elements, tag)
    if found is not None:
        return data[: found.start] + new + data[found.end :]
    at = next((e.start for e in elements if e.tag > tag), len(data))
    return data[:at] + new + data[at:]


# --- mutations: None when one does not apply to the base ------------------------------------


@dataclass(frozen=True)
class Mutated:
    data: bytes
    must_fail: bool
    transfer_syntax: str | None = None  # sent under another context than the base's


Mutation = Callable[[bytes, Base, random.Random], Mutated | None]
_INVALID_UIDS: Final = [
    b"1.2.abc",
    b"",
    b"1..2",
    b".1.2",
    b"1.2.",
    b"1" * 65,
    b"1.2.3 4",
    b"\xff\xfe1.2",
    b"1.2.3\x00\x01\x02",
    b"one.two",
    b"1.2." + b"3" * 70,
]


def _explicit_as_implicit(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    if base.transfer_syntax != EXPLICIT:
        return None
    return Mutated(data, True, IMPLICIT)


def _truncate(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    element = rng.choice([e for e in base.layout if e.end - e.start >= 2])
    return Mutated(data[: rng.randrange(element.start + 1, element.end)], True)


def _overlong(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    element = rng.choice([e for e in base.layout if e.long_length and e.value_start < e.end])
    remaining = len(data) - element.value_start
    length = rng.choice([remaining + 2, remaining + 2 * rng.randrange(1, 1 << 19), 0xFFFFFFF0])
    at = element.length_at
    return Mutated(data[:at] + struct.pack("<I", length) + data[at + 4 :], True)


def _bad_uid(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    tag = rng.choice([_SOP_CLASS, _SOP_INSTANCE, _STUDY])
    value = rng.choice(_INVALID_UIDS)
    return Mutated(_put(data, base.layout, tag, _element(tag, "UI", value, base.implicit)), True)


def _drop_uid(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    found = _find(base.layout, rng.choice([_SOP_CLASS, _SOP_INSTANCE, _STUDY]))
    assert found is not None
    return Mutated(data[: found.start] + data[found.end :], True)


def _other_uid(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    """A valid UID where the request names another: another SOP class, another instance."""
    if rng.random() < 0.5:
        value = rng.choice([CT, CR, SC if base.sop_class != SC else DX]).encode()
        return Mutated(
            _put(data, base.layout, _SOP_CLASS, _element(_SOP_CLASS, "UI", value, base.implicit)),
            True,
        )
    value = f"2.25.{rng.randrange(10**20)}".encode()
    new = _element(_SOP_INSTANCE, "UI", value, base.implicit)
    return Mutated(_put(data, base.layout, _SOP_INSTANCE, new), True)


def _garbage(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    return Mutated(rng.randbytes(rng.randrange(1, 4096)), True)


def _trailing(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    return Mutated(data + rng.randbytes(rng.randrange(1, 8)), True)  # less than a header


def _flip(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    pixels = _find(base.layout, _PIXEL_DATA)
    header_end = pixels.start if pixels is not None else len(data)
    out = bytearray(data)
    for _ in range(rng.randrange(1, 9)):
        position = rng.randrange(header_end if rng.random() < 0.5 else len(data))
        out[position] ^= rng.randrange(1, 256)
    return Mutated(bytes(out), False)


def _charset(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    value = rng.choice([b"ISO_IR 999", b"\x1b$B", b"ISO 2022 IR 87\\ISO_IR 6", rng.randbytes(12)])
    return Mutated(
        _put(data, base.layout, _CHARSET, _element(_CHARSET, "CS", value, base.implicit)), False
    )


def _odd_text(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    tag = rng.choice([_PATIENT_NAME, _PATIENT_ID])
    vr = "PN" if tag == _PATIENT_NAME else "LO"
    value = rng.choice(
        [b"\xff\xfe\x00A", b"\x1b$BF|\x1b(B", b"A" * rng.randrange(65, 9000), b"\\\\\\", b""]
    )
    return Mutated(_put(data, base.layout, tag, _element(tag, vr, value, base.implicit)), False)


def _reorder(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    index = rng.randrange(len(base.layout) - 1)
    first, second = base.layout[index], base.layout[index + 1]
    swapped = data[second.start : second.end] + data[first.start : first.end]
    return Mutated(data[: first.start] + swapped + data[second.end :], False)


def _private(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    vr = rng.choice(["OB", "LO", "UN", "UT", "SH"])
    tag = 0x00091000 | rng.randrange(0x10, 0xFF)
    value = rng.randbytes(rng.randrange(0, 600))
    return Mutated(_put(data, base.layout, tag, _element(tag, vr, value, base.implicit)), False)


def _undefined_length(data: bytes, base: Base, rng: random.Random) -> Mutated | None:
    element = rng.choice([e for e in base.layout if e.long_length])
    at = element.length_at
    return Mutated(data[:at] + b"\xff\xff\xff\xff" + data[at + 4 :], False)


MUTATIONS: Final[dict[str, tuple[Mutation, int]]] = {
    "truncate": (_truncate, 16),
    "overlong": (_overlong, 12),
    "bad_uid": (_bad_uid, 12),
    "drop_uid": (_drop_uid, 8),
    "other_uid": (_other_uid, 8),
    "garbage": (_garbage, 6),
    "trailing": (_trailing, 6),
    "flip": (_flip, 14),
    "charset": (_charset, 3),
    "odd_text": (_odd_text, 5),
    "reorder": (_reorder, 4),
    "private": (_private, 3),
    "undefined_length": (_undefined_length, 3),
    "explicit_as_implicit": (_explicit_as_implicit, 3),
}


def cases(bases: list[Base], count: int, seed: int) -> Iterator[Case]:
    """``count`` mutated cases, the same for the same bases and seed."""
    rng = random.Random(seed)
    names = list(MUTATIONS)
    weights = [MUTATIONS[name][1] for name in names]
    for index in range(count):
        base = rng.choice(bases)
        valid = valid_case(base, index)
        plain = base.data.replace(_PLACEHOLDER.encode(), valid.sop_instance_uid.encode())
        mutated = None
        while mutated is None:
            name = rng.choices(names, weights)[0]
            mutated = MUTATIONS[name][0](plain, base, rng)
        data, must_fail = mutated.data, mutated.must_fail
        if base.transfer_syntax == DEFLATED:
            if rng.random() < 0.1:
                name, data, must_fail = (
                    "deflate_garbage",
                    rng.randbytes(rng.randrange(1, 999)),
                    True,
                )
            else:
                data = _deflate(data)
        syntax = mutated.transfer_syntax or base.transfer_syntax
        yield replace(valid, mutation=name, data=data, must_fail=must_fail, transfer_syntax=syntax)
