"""Real test inputs for the rules engine: DICOM files, header tables and report collections."""

from __future__ import annotations

import ast
import csv
import gzip
import itertools
from collections.abc import Iterator
from pathlib import Path

from pydicom import dcmread
from pydicom.datadict import dictionary_description, dictionary_VR, keyword_dict, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from service.engines.base import ImageInput, ReportInput
from service.reports.sections import sections_dict

CXR_FILES = {
    "rg1": "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm",
    "rg1_j2kr": "cxr/pydicom-data_RG1_J2KR_CR_chest_PA.dcm",
    "rg1_j2ki": "cxr/pydicom-data_RG1_J2KI_CR_chest_PA.dcm",
    "siim": "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm",
    "siim_fake_mono1": "cxr/txv_siim_Fake_MONOHR1_wrong_photometric.dcm",
    "test1": "cxr/udacity_nih_test1.dcm",
    "test2": "cxr/udacity_nih_test2.dcm",
    "test3": "cxr/udacity_nih_test3.dcm",
    "test4": "cxr/udacity_nih_test4.dcm",
    "test5": "cxr/udacity_nih_test5.dcm",
    "test6": "cxr/udacity_nih_test6.dcm",
    "nhsx": "cxr/nhsx_nih_1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm",
    "tfio": "cxr/tfio_nih_dicom_00000001_000.dcm",
    "fodicom": "cxr/fodicom_CR-MONO1-10-chest_nometa.dcm",
    "orthanc": "cxr/orthanc_Issue44_Monochrome1-Jpeg_CR.dcm",
    "header_only": "cxr/header_only/openrem_DX-Im-Carestream_DRX_chest_AP_nopixels.dcm",
    "nonhuman": "cxr/nonhuman/highdicom_dx_image_veterinary_thorax.dcm",
    "ct_scout": "non_cxr/barre_CT-MONO2-16-chest_jpegLossless.dcm",
    "ct_small": "non_cxr/pydicom_CT_small.dcm",
}


def image_input(path: Path, item_id: int = 1, previous_sha256: str | None = None) -> ImageInput:
    """An ImageInput as the pipeline builds it: the header without pixels, and the file."""
    header = dcmread(path, stop_before_pixels=True, force=True)
    return ImageInput(
        item_id=item_id,
        sop_instance_uid=str(header.get("SOPInstanceUID", "")),
        version=2 if previous_sha256 else 1,
        path=str(path),
        header=header,
        previous_sha256=previous_sha256,
    )


def header_input(header: Dataset, item_id: int = 1, path: str = "") -> ImageInput:
    return ImageInput(
        item_id=item_id, sop_instance_uid="1.2.3", version=1, path=path, header=header
    )


def report_input(text: str, item_id: int = 1, status: str | None = "final") -> ReportInput:
    """A ReportInput as the pipeline builds it: the text and its stored sections."""
    return ReportInput(
        item_id=item_id,
        report_id=f"r{item_id}",
        version=1,
        text=text,
        sections=sections_dict(text),
        status=status,
    )


# -- report collections ----------------------------------------------------------------------
def iu_rows(data: Path) -> list[dict[str, str]]:
    with (data / "reports/iu_openi_cxr_reports.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def iu_text(row: dict[str, str]) -> str:
    """An IU report as a RIS would send it; sections that are empty in the table are left out."""
    parts = [
        f"{heading}: {row[column].strip()}"
        for heading, column in (
            ("COMPARISON", "comparison"),
            ("INDICATION", "indication"),
            ("FINDINGS", "findings"),
            ("IMPRESSION", "impression"),
        )
        if row[column].strip()
    ]
    return "\n".join(parts)


def mtsamples_rows(data: Path) -> list[dict[str, str]]:
    with (data / "reports/mtsamples_radiology.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


# -- header tables ---------------------------------------------------------------------------
_KEYWORD_BY_NAME = {dictionary_description(tag): kw for kw, tag in keyword_dict.items() if kw}
_KEYWORDS = set(keyword_dict)
_BINARY_VRS = {"US", "SS", "UL", "SL", "FL", "FD", "US or SS"}
_SINGLE_SPACING = {"PixelSpacing", "ImagerPixelSpacing"}  # RSNA's table keeps one of the two


def _element_value(raw: str) -> str:
    if raw.startswith("[") and raw.endswith("]"):
        try:
            parsed = ast.literal_eval(raw)
        except (ValueError, SyntaxError):
            return raw
        return "\\".join(str(v) for v in parsed)
    return raw


def table_dataset(row: dict[str, str]) -> Dataset:
    """A header-table row as a dataset whose values are raw bytes, as read from a file.

    An empty cell is taken as an absent element (the tables cannot tell the two apart).
    """
    ds = Dataset()
    for column, raw in row.items():
        keyword = column if column in _KEYWORDS else _KEYWORD_BY_NAME.get(column)
        if not keyword or not raw or raw == "[]":
            continue
        tag = tag_for_keyword(keyword)
        if tag is None:
            continue
        vr = dictionary_VR(tag)
        if vr == "SQ":
            continue
        value = _element_value(raw)
        if keyword in _SINGLE_SPACING and "\\" not in value:
            value = f"{value}\\{value}"
        if vr in _BINARY_VRS:
            # binary VRs: the table holds the numbers as text
            try:
                numbers = [float(v) for v in value.split("\\")]
            except ValueError:
                continue
            typed = [n if vr in {"FL", "FD"} else int(n) for n in numbers]
            ds.add_new(
                tag, "US" if vr == "US or SS" else vr, typed[0] if len(typed) == 1 else typed
            )
            continue
        data = value.encode("latin-1", "replace")
        if len(data) % 2:
            data += b" "
        ds[tag] = RawDataElement(Tag(tag), vr, len(data), data, 0, False, True, True, False)
    if "LUTDescriptor" in ds:
        # The tables flatten sequences: a LUT Descriptor column is the VOI LUT Sequence's item
        # (Open-i's Fuji CR headers carry a VOI LUT instead of a window).
        ds.VOILUTSequence = Sequence([Dataset()])
    return ds


def header_table(
    data: Path, name: str, limit: int | None = None, step: int = 1
) -> Iterator[Dataset]:
    """Rows of a header table as datasets: every ``step``-th row, at most ``limit`` of them."""
    stop = None if limit is None else limit * step
    with gzip.open(data / "headers" / name, "rt", newline="") as handle:
        rows = csv.DictReader(handle)
        for row in itertools.islice(rows, 0, stop, step):
            yield table_dataset(row)
