"""DICOM files (PS3.10): the File Meta Information radqc writes in front of every stored dataset,
and reading the one a sender's file carries (DICOMweb sends whole files, C-STORE datasets).

radqc's meta group is deterministic (no sender AE title, no library version), so the same dataset
received twice, by any protocol from any sender, is the same file with the same SHA-256 and is
seen as a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset
from pydicom.filewriter import write_file_meta_info
from pydicom.tag import BaseTag
from pydicom.uid import UID

from service.dicom_receive.reader import BufferReader
from service.errors import InvalidInputError
from service.storage import Buffer

# radqc's Implementation Class UID (a UUID-derived UID, PS3.5 B.2); kept fixed on purpose: it is
# part of every stored file, and changing it would make re-sent images look like new versions.
IMPLEMENTATION_CLASS_UID: Final = "2.25.155445602171066807669816916735572558409"
IMPLEMENTATION_VERSION_NAME: Final = "RADQC"
_PREAMBLE: Final = b"\x00" * 128 + b"DICM"
_PREFIX_AT: Final = 128


def file_header(sop_class_uid: str, sop_instance_uid: str, transfer_syntax: str) -> bytes:
    """The preamble, ``DICM`` prefix and File Meta Information for one stored instance."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class_uid)
    meta.MediaStorageSOPInstanceUID = UID(sop_instance_uid)
    meta.TransferSyntaxUID = UID(transfer_syntax)
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    buffer = DicomBytesIO()
    buffer.write(_PREAMBLE)
    write_file_meta_info(buffer, meta, enforce_standard=True)
    return buffer.getvalue()


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What a sender's file says about the dataset that follows its meta group."""

    transfer_syntax: str
    sop_class_uid: str | None
    sop_instance_uid: str | None
    dataset_offset: int  # where the dataset bytes start in the file


def _past_meta(tag: BaseTag, _vr: str | None, _length: int) -> bool:
    return tag.group != 0x0002


def read_file_meta(data: Buffer) -> FileMeta:
    """The File Meta Information of the DICOM file in ``data``; :class:`InvalidInputError` when
    ``data`` is not a DICOM file (no ``DICM`` after the preamble) or its meta group is unreadable
    or names no transfer syntax."""
    with BufferReader(data) as reader:
        stream = reader.as_binary()
        stream.seek(_PREFIX_AT)
        if stream.read(4) != b"DICM":
            raise InvalidInputError("not a DICOM file: no DICM prefix after the 128-byte preamble")
        try:  # the meta group is always explicit VR little endian (PS3.10 7.1)
            meta = read_dataset(stream, False, True, stop_when=_past_meta)
        except Exception as exc:  # a parser fed untrusted bytes can fail in any way
            raise InvalidInputError(f"cannot read the file meta: {type(exc).__name__}") from exc
        offset = stream.tell()
    _check_whole(meta, len(memoryview(data)))
    syntax = _text(meta, "TransferSyntaxUID")
    if syntax is None:
        message = "the file meta has no TransferSyntaxUID"
        raise InvalidInputError(message, location="TransferSyntaxUID")
    return FileMeta(
        transfer_syntax=syntax,
        sop_class_uid=_text(meta, "MediaStorageSOPClassUID"),
        sop_instance_uid=_text(meta, "MediaStorageSOPInstanceUID"),
        dataset_offset=offset,
    )


def _check_whole(meta: Dataset, size: int) -> None:
    """pydicom reads a value cut short by the end of the data without complaint: refuse it."""
    for element in meta.elements():
        if isinstance(element, RawDataElement) and element.value_tell + element.length > size:
            raise InvalidInputError("the file meta runs past the end of the file")


def _text(meta: Dataset, keyword: str) -> str | None:
    try:
        value = meta.get(keyword)
    except Exception as exc:  # a malformed value fails when pydicom converts it
        message = f"{keyword} in the file meta is malformed"
        raise InvalidInputError(message, location=keyword) from exc
    text = str(value).rstrip(" \x00") if value is not None else ""
    return text or None
