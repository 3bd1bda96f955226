"""``effective[x]``: the study or report time of an Observation (issue 11, part 4).

The parsing is a table of cases; then the real thing: a stored DICOM file read by the publisher
through the file store, a report's own times, and the fallback to the QC time, on SQLite and
PostgreSQL, every resource valid R4(B).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from sqlalchemy import select

from fhir_adapter.effective import dicom_effective, fhir_date_time, fhir_instant, report_effective
from fhir_adapter.publisher import ObservationPublisher
from service.db import Database
from service.models import Observation
from service.storage import FileStore
from tests.fhir_adapter.support import (
    PROCESSED_AT,
    add_image_item,
    add_report_item,
    finding,
    store_findings,
    validate,
)

QC_TIME = fhir_instant(PROCESSED_AT)


@pytest.fixture
def berlin(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local time zone is Europe/Berlin (CEST in summer: UTC+2)."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _header(**elements: str) -> Dataset:
    header = Dataset()
    for keyword, value in elements.items():
        setattr(header, keyword, value)
    return header


@pytest.mark.parametrize(
    ("elements", "expected"),
    [
        ({}, None),
        ({"StudyDate": "20240501"}, "2024-05-01"),
        ({"StudyDate": "20240501", "StudyTime": "102030"}, "2024-05-01T08:20:30.000Z"),
        (
            {"StudyDate": "20240501", "StudyTime": "102030.5", "TimezoneOffsetFromUTC": "-0500"},
            "2024-05-01T15:20:30.500Z",
        ),
        ({"StudyDate": "20240501", "StudyTime": "1020"}, "2024-05-01T08:20:00.000Z"),
        ({"StudyDate": "20240501", "StudyTime": "10:20:30"}, "2024-05-01T08:20:30.000Z"),
        ({"StudyDate": "20240101", "StudyTime": "0930"}, "2024-01-01T08:30:00.000Z"),  # CET
        ({"StudyDate": "2024.05.01"}, "2024-05-01"),  # the old ACR-NEMA form
        # the study's time first, then the series', the acquisition's, the content's
        (
            {"SeriesDate": "20240502", "StudyDate": "20240501", "StudyTime": "1000"},
            "2024-05-01T08:00:00.000Z",
        ),
        ({"StudyDate": "20241301", "SeriesDate": "20240502"}, "2024-05-02"),  # no 13th month
        ({"AcquisitionDateTime": "20240503101112+0100"}, "2024-05-03T09:11:12.000Z"),
        ({"AcquisitionDateTime": "20240503"}, "2024-05-03"),
        ({"ContentDate": "20240504", "ContentTime": "235959"}, "2024-05-04T21:59:59.000Z"),
        ({"StudyDate": "20240501", "StudyTime": "256000"}, "2024-05-01"),  # no such time
        ({"StudyDate": "yesterday"}, None),
    ],
)
@pytest.mark.filterwarnings("ignore:Invalid value for VR")  # pydicom, on the malformed cases
def test_dicom_study_time(berlin: None, elements: dict[str, str], expected: str | None) -> None:
    assert dicom_effective(_header(**elements)) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-05-01T10:20:30+02:00", "2024-05-01T08:20:30.000Z"),
        ("2024-05-01T10:20:30.1234Z", "2024-05-01T10:20:30.123Z"),
        ("2024-05-01T10:20Z", "2024-05-01T10:20:00.000Z"),
        ("2024-05-01T10:20:30", "2024-05-01T08:20:30.000Z"),  # no zone (not FHIR): local
        ("2024-05-01", "2024-05-01"),
        ("2024-05", "2024-05"),
        ("2024", "2024"),
        ("2024-02-30", None),
        ("2024-13", None),
        ("2024-05-01T25:00:00Z", None),
        ("May 1st", None),
        (20240501, None),
        (None, None),
    ],
)
def test_fhir_date_time(berlin: None, value: object, expected: str | None) -> None:
    assert fhir_date_time(value) == expected


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (
            {"effectiveDateTime": "2024-05-01T10:00:00Z", "issued": "2024-05-02"},
            "2024-05-01T10:00:00.000Z",
        ),
        ({"effectivePeriod": {"start": "2024-05-01"}, "issued": "2024-05-02"}, "2024-05-01"),
        ({"effectivePeriod": {"end": "2024-05-03"}}, "2024-05-03"),
        (
            {"effectiveDateTime": "garbage", "issued": "2024-05-02T00:00:00Z"},
            "2024-05-02T00:00:00.000Z",
        ),
        ({}, None),
    ],
)
def test_report_time(resource: dict[str, Any], expected: str | None) -> None:
    assert report_effective(resource) == expected


def _resources(db: Database, item_id: int) -> list[dict[str, Any]]:
    with db.reader() as session:
        rows = session.scalars(select(Observation).where(Observation.item_id == item_id))
        return [json.loads(row.resource_json) for row in rows]


def _write_dicom(root: Path, relpath: str, **elements: str) -> None:
    header = _header(**elements)
    header.SOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    header.SOPInstanceUID = generate_uid()
    header.file_meta = FileMetaDataset()
    header.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    header.file_meta.MediaStorageSOPClassUID = header.SOPClassUID
    header.file_meta.MediaStorageSOPInstanceUID = header.SOPInstanceUID
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    header.save_as(path, enforce_file_format=True)


def test_an_image_observation_is_effective_at_its_study_time(db: Database, tmp_path: Path) -> None:
    files = FileStore(tmp_path / "dicom")
    _write_dicom(
        files.root,
        "aa/study.dcm",
        StudyDate="20240430",
        StudyTime="231500",
        TimezoneOffsetFromUTC="+0200",
    )
    with_time = add_image_item(db, "1.2.826.0.1.3680043.8.498.21", path="aa/study.dcm")
    missing = add_image_item(db, "1.2.826.0.1.3680043.8.498.22", path="aa/missing.dcm")
    publisher = ObservationPublisher(writeback_enabled=False, files=files)
    for item_id in (with_time, missing):
        store_findings(db, item_id, [finding("cxr.exposure")], publisher=publisher)
    for resource in _resources(db, with_time):
        validate(resource)
        assert resource["effectiveDateTime"] == "2024-04-30T21:15:00.000Z"
        assert resource["issued"] == QC_TIME
    for resource in _resources(db, missing):  # the file is gone: the QC time, and a warning
        validate(resource)
        assert resource["effectiveDateTime"] == resource["issued"] == QC_TIME


def test_a_report_observation_is_effective_at_the_report_time(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=False)
    timed = add_report_item(
        db, "r1", times={"effectiveDateTime": "2024-04-30T09:00:00+02:00", "issued": "2024-05-01"}
    )
    dated = add_report_item(db, "r2", times={"issued": "2024-04-29"})
    untimed = add_report_item(db, "r3")
    for item_id in (timed, dated, untimed):
        store_findings(db, item_id, [finding("report.typo")], publisher=publisher)
    expected = {timed: "2024-04-30T07:00:00.000Z", dated: "2024-04-29", untimed: QC_TIME}
    for item_id, effective in expected.items():
        resources = _resources(db, item_id)
        assert len(resources) == 2
        for resource in resources:
            validate(resource)
            assert resource["effectiveDateTime"] == effective
            assert resource["issued"] == QC_TIME
