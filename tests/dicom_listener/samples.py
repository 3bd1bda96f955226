"""Test files made from real data: one real chest image in every accepted transfer syntax, copies
with fresh UIDs, and deliberately broken datasets. Encoders are DCMTK's own tools."""

from __future__ import annotations

import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
    generate_uid,
)

from tests.dicom_listener.conftest import dcmtk

SOURCE = "cxr/udacity_nih_test1.dcm"  # real NIH chest X-ray, 1024x1024, 8-bit
CR = "1.2.840.10008.5.1.4.1.1.1"
DX_PRESENTATION = "1.2.840.10008.5.1.4.1.1.1.1"


@dataclass(frozen=True)
class Sample:
    transfer_syntax: str
    path: Path
    storescu_option: str | None  # how DCMTK's storescu proposes it as is; None: it cannot


# transfer syntax -> (DCMTK encoder command or None for a pydicom write, storescu option)
_RECIPES: dict[str, tuple[list[str] | None, str | None]] = {
    ExplicitVRLittleEndian: (["dcmconv", "+te"], "-xe"),
    ImplicitVRLittleEndian: (["dcmconv", "+ti"], "-xi"),
    DeflatedExplicitVRLittleEndian: (["dcmconv", "+td"], "-xd"),
    JPEGBaseline8Bit: (["dcmcjpeg", "+eb"], "-xy"),
    JPEGExtended12Bit: (["dcmcjpeg", "+ee"], "-xx"),
    JPEGLossless: (["dcmcjpeg", "+el"], None),
    JPEGLosslessSV1: (["dcmcjpeg", "+e1"], "-xs"),
    JPEGLSLossless: (["dcmcjpls", "+el"], "-xt"),
    JPEGLSNearLossless: (["dcmcjpls", "+en"], "-xu"),
    RLELossless: (["dcmcrle"], "-xr"),
}
# DCMTK in Debian has no JPEG 2000 encoder: the real JPEG 2000 files from the shared data are used.
_JPEG2000 = {
    JPEG2000Lossless: ("cxr/pydicom-data_RG1_J2KR_CR_chest_PA.dcm", "-xv"),
    JPEG2000: ("cxr/pydicom-data_RG1_J2KI_CR_chest_PA.dcm", "-xw"),
}


def with_new_uids(ds: Dataset) -> Dataset:
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    return ds


def copy_with_new_uids(source: Path, target: Path) -> Path:
    ds = with_new_uids(dcmread(source))
    ds.save_as(target, enforce_file_format=True)
    return target


def every_transfer_syntax(shared_data: Path, folder: Path) -> list[Sample]:
    samples = []
    for syntax, (command, option) in _RECIPES.items():
        base = copy_with_new_uids(shared_data / SOURCE, folder / f"base-{syntax}.dcm")
        target = folder / f"{syntax}.dcm"
        if command is None:
            base.rename(target)
        else:
            subprocess.run([dcmtk(command[0]), *command[1:], str(base), str(target)], check=True)
        samples.append(Sample(syntax, target, option))
    for syntax, (name, option) in _JPEG2000.items():
        samples.append(Sample(syntax, shared_data / name, option))
    return samples


def write_part_ten(path: Path, sop_class: str, sop_instance: str, syntax: str, body: bytes) -> Path:
    """A file whose meta says what the C-STORE request will say, with ``body`` as its dataset."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = syntax
    carrier = Dataset()
    carrier.file_meta = meta
    carrier.preamble = b"\x00" * 128
    carrier.save_as(path, enforce_file_format=True)
    with path.open("ab") as handle:
        handle.write(body)
    return path


def encoded(ds: Dataset) -> bytes:
    """``ds`` as explicit VR little endian dataset bytes (no meta), broken values and all."""
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the invalid values are the point
        write_dataset(buffer, ds)
    return buffer.getvalue()


def header_dataset(sop_class: str = CR, **changes: str | None) -> Dataset:
    """A small, valid CR header with fresh UIDs; ``changes`` set (or with None delete) elements."""
    ds = Dataset()
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CR"
    ds.PatientID = "TEST-0001"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for keyword, value in changes.items():
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
    return ds


def set_raw(ds: Dataset, tag: int, value: bytes) -> None:
    """Put ``value`` into ``ds`` as undecoded bytes, the way a broken sender would write it."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds[tag] = DataElement(tag, "UN", value)
