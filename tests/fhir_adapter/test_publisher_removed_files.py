"""An image whose stored file ``radqc retention`` removed (``instances.file_removed_at``) keeps its
study time as its Observations' ``effectiveDateTime`` when they are published again (an audit, a
late finding), and the publisher never opens the removed file. Real files in a real file store,
the real publisher, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from sqlalchemy import select, update

from fhir_adapter import publisher as publisher_module
from fhir_adapter.effective import effective_key, fhir_instant
from fhir_adapter.publisher import ObservationPublisher
from service import dicom_files
from service.db import Database
from service.engines.base import Finding
from service.models import Instance, Item, Observation, utcnow
from service.storage import FileStore
from tests.fhir_adapter.support import (
    PROCESSED_AT,
    add_image_item,
    finding,
    store_findings,
    validate,
)
from tests.service.api.support import IMAGE_FILE

STUDY_TIME = "2024-04-30T21:15:00.000Z"  # 2024-04-30 23:15 at UTC+2, as the header says
LATER = PROCESSED_AT + dt.timedelta(days=400)


def _store_film(files: FileStore, shared_data: Path) -> str:
    """A real film with a known study time, stored in the file store; returns its path."""
    header = pydicom.dcmread(shared_data / IMAGE_FILE)
    header.StudyDate, header.StudyTime = "20240430", "231500"
    header.TimezoneOffsetFromUTC = "+0200"
    buffer = io.BytesIO()
    header.save_as(buffer)
    return files.put([buffer.getvalue()]).relpath


def _remove_file(db: Database, files: FileStore, item_id: int) -> None:
    """What ``radqc retention`` does: unlink the stored file, mark the instance."""
    with db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.instance is not None
        files.path(item.instance.path).unlink()
        session.execute(
            update(Instance).where(Instance.id == item.instance.id).values(file_removed_at=utcnow())
        )


def _resources(db: Database, item_id: int) -> dict[str, dict[str, Any]]:
    with db.reader() as session:
        rows = session.scalars(select(Observation).where(Observation.item_id == item_id)).all()
        for row in rows:
            assert row.effective_at == effective_key(row.resource_json)
        return {row.code: json.loads(row.resource_json) for row in rows}


def _republish(
    db: Database, item_id: int, publisher: ObservationPublisher, when: dt.datetime, *found: Finding
) -> None:
    """The item published again at ``when`` with ``found`` (changed findings: new versions)."""
    store_findings(db, item_id, found, publisher=publisher, processed_at=when)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The stored files the publisher opens."""
    opened: list[Path] = []
    real = dicom_files.read_header

    def spy(path: Path) -> Dataset:
        opened.append(path)
        return real(path)

    monkeypatch.setattr(publisher_module, "read_header", spy)
    return opened


def test_a_removed_film_keeps_its_study_time_and_is_never_read(
    db: Database, tmp_path: Path, shared_data: Path, reads: list[Path]
) -> None:
    files = FileStore(tmp_path / "dicom")
    item_id = add_image_item(db, path=_store_film(files, shared_data))
    publisher = ObservationPublisher(writeback_enabled=False, files=files)
    store_findings(db, item_id, [finding("cxr.exposure")], publisher=publisher)
    assert {r["effectiveDateTime"] for r in _resources(db, item_id).values()} == {STUDY_TIME}
    assert len(reads) == 1

    _remove_file(db, files, item_id)
    reads.clear()
    # Published again a year later: a changed finding and a new one (new versions, new rows).
    _republish(
        db,
        item_id,
        publisher,
        LATER,
        finding("cxr.exposure", confidence=0.5),
        finding("cxr.rotation"),
    )
    resources = _resources(db, item_id)
    assert set(resources) == {"cxr.exposure", "cxr.rotation", "qc.summary"}
    for resource in resources.values():
        validate(resource)
        assert resource["effectiveDateTime"] == STUDY_TIME  # the study's time, not the QC time
        assert resource["issued"] == fhir_instant(LATER)
    assert reads == []  # the removed file was never opened


def test_a_removed_film_without_a_stored_study_time_falls_back_to_the_qc_time(
    db: Database, tmp_path: Path, shared_data: Path, reads: list[Path]
) -> None:
    files = FileStore(tmp_path / "dicom")
    item_id = add_image_item(db, path=_store_film(files, shared_data))
    _remove_file(db, files, item_id)  # before anything was published for it
    publisher = ObservationPublisher(writeback_enabled=False, files=files)
    store_findings(db, item_id, [finding("cxr.exposure")], publisher=publisher)
    for resource in _resources(db, item_id).values():
        assert resource["effectiveDateTime"] == resource["issued"] == fhir_instant(PROCESSED_AT)
    assert reads == []


def test_a_removed_film_gets_back_the_study_time_its_older_versions_carried(
    db: Database, tmp_path: Path, shared_data: Path, reads: list[Path]
) -> None:
    """Published again while the file could not be read (as every removed film was before the
    publisher knew about retention): the current versions carry the QC time, their history the
    study time, which the next publication restores."""
    files = FileStore(tmp_path / "dicom")
    item_id = add_image_item(db, path=_store_film(files, shared_data))
    publisher = ObservationPublisher(writeback_enabled=False, files=files)
    store_findings(db, item_id, [finding("cxr.exposure")], publisher=publisher)
    elsewhere = ObservationPublisher(writeback_enabled=False, files=FileStore(tmp_path / "empty"))
    middle = PROCESSED_AT + dt.timedelta(days=30)
    # the file not found: a new version at the QC time
    _republish(db, item_id, elsewhere, middle, finding("cxr.exposure", confidence=0.6))
    assert _resources(db, item_id)["cxr.exposure"]["effectiveDateTime"] == fhir_instant(middle)

    _remove_file(db, files, item_id)
    reads.clear()
    _republish(db, item_id, publisher, LATER, finding("cxr.exposure", confidence=0.5))
    for resource in _resources(db, item_id).values():
        assert resource["effectiveDateTime"] == STUDY_TIME
    assert reads == []
