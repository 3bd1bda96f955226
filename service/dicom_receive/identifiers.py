"""The few identifiers radqc needs from a received dataset, read from its bytes as received.

Only the top-level elements up to (0020,1208) are read: every identifier radqc needs lies before
it, so parsing stops long before the pixel data. Values are decoded here from the raw element bytes
rather than through pydicom's value conversion, so a malformed value becomes one clear
:class:`~service.errors.InvalidInputError` instead of a warning or a later surprise.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Final

from pydicom.charset import convert_encodings, decode_bytes
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filereader import read_dataset
from pydicom.tag import BaseTag

from service.dicom_receive.accepted import DEFLATED, IMPLICIT_VR
from service.dicom_receive.framing import inflated
from service.errors import InvalidInputError

logger = logging.getLogger(__name__)

_SPECIFIC_CHARACTER_SET: Final = 0x00080005
_SOP_CLASS_UID: Final = 0x00080016
_SOP_INSTANCE_UID: Final = 0x00080018
_ACCESSION_NUMBER: Final = 0x00080050
_MODALITY: Final = 0x00080060
_PATIENT_ID: Final = 0x00100020
_STUDY_INSTANCE_UID: Final = 0x0020000D
_SERIES_INSTANCE_UID: Final = 0x0020000E
_NUMBER_OF_STUDY_RELATED_INSTANCES: Final = 0x00201208

# Digits and dots, no empty component, at most 64 characters (PS3.5 9.1). Leading zeros in a
# component are tolerated: some modalities send them, and refusing the image would lose it.
_UID: Final = re.compile(r"[0-9]+(\.[0-9]+)+")
_UID_MAX: Final = 64
_PADDING: Final = " \x00"
# Column sizes of the optional identifiers (service.models.Instance / Item).
_TEXT_MAX: Final = {_MODALITY: 16, _ACCESSION_NUMBER: 64, _PATIENT_ID: 64}
_NAMES: Final = {
    _SOP_CLASS_UID: "SOPClassUID",
    _SOP_INSTANCE_UID: "SOPInstanceUID",
    _STUDY_INSTANCE_UID: "StudyInstanceUID",
    _SERIES_INSTANCE_UID: "SeriesInstanceUID",
    _MODALITY: "Modality",
    _ACCESSION_NUMBER: "AccessionNumber",
    _PATIENT_ID: "PatientID",
}


@dataclass(frozen=True, slots=True)
class Identifiers:
    sop_class_uid: str
    sop_instance_uid: str
    study_instance_uid: str
    series_instance_uid: str | None
    modality: str | None
    accession: str | None
    patient_id: str | None
    expected_study_instances: int | None


def _past_identifiers(tag: BaseTag, _vr: str | None, _length: int) -> bool:
    return int(tag) > _NUMBER_OF_STUDY_RELATED_INSTANCES


def _header(stream: BinaryIO, transfer_syntax: str) -> Dataset:
    """The top-level raw elements before the first tag radqc does not need."""
    if transfer_syntax == DEFLATED:
        # Deflated datasets are rare; inflating the whole of one (bounded) is the simple, safe way.
        stream = inflated(stream)
    stream.seek(0)
    stop: Callable[[BaseTag, str | None, int], bool] = _past_identifiers
    return read_dataset(stream, transfer_syntax == IMPLICIT_VR, True, stop_when=stop)


def _raw(header: Dataset, tag: int) -> bytes | None:
    element = header.get_item(tag)
    if element is None:
        return None
    value = element.value if isinstance(element, RawDataElement) else None
    if not isinstance(value, bytes):
        raise InvalidInputError(
            f"{_NAMES.get(tag, hex(tag))} is not a plain value", location=_NAMES.get(tag)
        )
    return value


def _uid(header: Dataset, tag: int, *, required: bool) -> str | None:
    name = _NAMES[tag]
    raw = _raw(header, tag)
    text = raw.decode("ascii", errors="replace").rstrip(_PADDING) if raw is not None else ""
    if not text:
        if required:
            raise InvalidInputError(f"{name} is missing", location=name)
        return None
    if not is_uid(text):
        raise InvalidInputError(f"{name} is not a valid UID", location=name)
    return text


def is_uid(text: str) -> bool:
    """Whether ``text`` is a UID as radqc accepts one in a received dataset."""
    return len(text) <= _UID_MAX and _UID.fullmatch(text) is not None


def _encodings(header: Dataset) -> list[str]:
    raw = _raw(header, _SPECIFIC_CHARACTER_SET)
    if not raw:
        return convert_encodings(None)
    terms = [term.strip() for term in raw.decode("ascii", errors="replace").split("\\")]
    return convert_encodings(terms)


def _text(header: Dataset, tag: int, encodings: list[str]) -> str | None:
    raw = _raw(header, tag)
    if raw is None:
        return None
    text = decode_bytes(raw, encodings, set()).strip(_PADDING)
    if len(text) > _TEXT_MAX[tag]:
        # An overlong optional identifier is not worth refusing the image for; it is dropped.
        logger.warning("%s longer than %d characters ignored", _NAMES[tag], _TEXT_MAX[tag])
        return None
    return text or None


def _count(header: Dataset, tag: int) -> int | None:
    raw = _raw(header, tag)
    text = raw.decode("ascii", errors="replace").strip(_PADDING) if raw else ""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value > 0 else None


def parse_identifiers(stream: BinaryIO, transfer_syntax: str) -> Identifiers:
    """Read radqc's identifiers from a dataset encoded in ``transfer_syntax`` (no file meta).

    Raises :class:`InvalidInputError` when the bytes cannot be parsed or a required UID is missing
    or malformed.
    """
    try:
        return _identifiers(_header(stream, transfer_syntax))
    except InvalidInputError:
        raise
    except Exception as exc:  # a parser fed untrusted bytes can fail in any way
        raise InvalidInputError(f"cannot parse the dataset: {type(exc).__name__}") from exc


def _identifiers(header: Dataset) -> Identifiers:
    encodings = _encodings(header)
    return Identifiers(
        sop_class_uid=str(_uid(header, _SOP_CLASS_UID, required=True)),
        sop_instance_uid=str(_uid(header, _SOP_INSTANCE_UID, required=True)),
        study_instance_uid=str(_uid(header, _STUDY_INSTANCE_UID, required=True)),
        series_instance_uid=_uid(header, _SERIES_INSTANCE_UID, required=False),
        modality=_text(header, _MODALITY, encodings),
        accession=_text(header, _ACCESSION_NUMBER, encodings),
        patient_id=_text(header, _PATIENT_ID, encodings),
        expected_study_instances=_count(header, _NUMBER_OF_STUDY_RELATED_INSTANCES),
    )
