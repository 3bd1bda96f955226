"""The SR (TID 1500) and KOS of a study's results, validated by dicom3tools' dciodvfy and read
back by DCMTK's dsrdump; their UIDs follow their content."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pydicom
import pytest

from dicom_results.documents import KOS, SR, build
from service.pacs.results import FindingResult, ImageResult, StudyResults, series_uid
from tests.dicom_results.conftest import dciodvfy, dsrdump

FILM = "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm"


def _results(header: pydicom.Dataset, *, flagged: bool, message: str = "rotated") -> StudyResults:
    rotation = FindingResult(
        code="cxr.rotation",
        severity="major",
        message=message,
        evidence=[
            {"keyword": "PixelData", "region": [100, 200, 900, 1500], "metric": "rotation_index",
             "value": 0.214, "threshold": 0.15},
        ],
        confidence=0.8,
        engine_version="rules-0.5.0",
        scope="item",
        problem_key="PixelData@100,200,900,1500[rotation_index]",
    )  # fmt: skip
    header_problem = FindingResult(
        code="cxr.metadata",
        severity="minor",
        message="ViewPosition missing",
        evidence=[{"keyword": "ViewPosition", "tag": "(0018,5101)"}],
        confidence=1.0,
        engine_version="rules-0.5.0",
        scope="item",
        problem_key="ViewPosition",
    )
    image = ImageResult(
        item_id=1,
        sop_instance_uid=str(header.SOPInstanceUID),
        path="x",
        flagged=flagged,
        findings=(rotation, header_problem) if flagged else (),
    )
    return StudyResults(
        study_id=1,
        study_instance_uid=str(header.StudyInstanceUID),
        accession="A1",
        images=(image,),
        processed_at=dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC),
        engine_versions=("rules-0.5.0",),
    )


@pytest.fixture
def header(shared_data: Path) -> pydicom.Dataset:
    return pydicom.dcmread(shared_data / FILM, stop_before_pixels=True)


def test_flagged_study_gives_a_valid_sr_and_kos(header: pydicom.Dataset, tmp_path: Path) -> None:
    results = _results(header, flagged=True)
    documents = build(results, {str(header.SOPInstanceUID): header})
    assert [d.kind for d in documents] == [SR, KOS]
    for document in documents:
        path = tmp_path / f"{document.kind}.dcm"
        document.dataset.save_as(path, enforce_file_format=True)
        assert dciodvfy(path) == [], f"{document.kind} does not validate"
        assert document.dataset.StudyInstanceUID == header.StudyInstanceUID
        assert document.dataset.PatientID == header.PatientID
    sr = dsrdump(tmp_path / "sr.dcm")
    assert "Imaging Measurement Report" in sr
    assert "(cxr.rotation,99RADQC," in sr and "(cxr.metadata,99RADQC," in sr
    assert '"rotation_index")="0.214"' in sr  # the metric measured in the region
    assert "SCOORD" in sr and "POLYLINE" in sr  # where the evidence is, on the source image
    assert "(fail,99RADQC," in sr and "rules-0.5.0" in sr
    kos = dsrdump(tmp_path / "kos.dcm")
    assert '"Quality Issue"' in kos and "radqc QC: cxr.metadata" in kos
    sr_ds = pydicom.dcmread(tmp_path / "sr.dcm")
    assert sr_ds.ContentDate == "20261205" and sr_ds.SeriesNumber == 9901
    assert sr_ds.CodingSchemeIdentificationSequence[0].CodingSchemeDesignator == "99RADQC"


def test_a_passing_study_gives_an_sr_only(header: pydicom.Dataset, tmp_path: Path) -> None:
    (sr,) = build(_results(header, flagged=False), {str(header.SOPInstanceUID): header})
    assert sr.kind == SR
    sr.dataset.save_as(tmp_path / "sr.dcm", enforce_file_format=True)
    assert dciodvfy(tmp_path / "sr.dcm") == []
    assert "(pass,99RADQC," in dsrdump(tmp_path / "sr.dcm")


def test_uids_follow_the_content(header: pydicom.Dataset) -> None:
    headers = {str(header.SOPInstanceUID): header}
    first = build(_results(header, flagged=True), headers)
    again = build(_results(header, flagged=True), headers)
    changed = build(_results(header, flagged=True, message="rotated to the left"), headers)
    assert [d.sop_instance_uid for d in first] == [d.sop_instance_uid for d in again]
    assert first[0].sop_instance_uid != changed[0].sop_instance_uid
    assert first[0].dataset.SeriesInstanceUID == changed[0].dataset.SeriesInstanceUID
    assert first[0].dataset.SeriesInstanceUID == series_uid(str(header.StudyInstanceUID), SR)
    assert first[0].sop_instance_uid.startswith("2.25.")


def test_images_without_a_stored_header_are_left_out(header: pydicom.Dataset) -> None:
    assert build(_results(header, flagged=True), {}) == []
