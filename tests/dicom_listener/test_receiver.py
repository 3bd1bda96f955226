"""InstanceReceiver with a real FileStore and database, without the network."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydicom import dcmread

from dicom_listener.identifiers import parse_identifiers
from dicom_listener.receiver import WRITE_CHUNK, InstanceReceiver, file_header
from service.config import Settings
from service.db import Database
from service.errors import StorageError
from service.ingest import Outcome, QueueOptions
from service.storage import FileStore
from tests.dicom_listener.conftest import DbState, db_state, part_ten
from tests.dicom_listener.samples import encoded, header_dataset

EXPLICIT = "1.2.840.10008.1.2.1"
OPTIONS = QueueOptions(max_attempts=3, study_stable_seconds=0.5)


def _dataset(size: int) -> bytes:
    """A valid dataset of exactly ``size`` bytes: a header and an OB private element."""
    head = encoded(header_dataset())
    filler = size - len(head) - 12
    assert filler >= 0
    assert filler % 2 == 0
    return head + b"\x09\x00\x10\x10OB\x00\x00" + filler.to_bytes(4, "little") + b"\xab" * filler


@pytest.mark.parametrize(
    "size", [WRITE_CHUNK - 2, WRITE_CHUNK, WRITE_CHUNK + 2, 3 * WRITE_CHUNK + 6]
)
def test_file_is_header_plus_the_dataset_bytes_at_any_size(
    settings: Settings, db: Database, size: int
) -> None:
    files = FileStore(settings.dicom_dir)
    data = _dataset(size)
    ids = parse_identifiers(io.BytesIO(data), EXPLICIT)
    result = InstanceReceiver(db, files, OPTIONS).receive(data, ids, EXPLICIT, "MODALITY")
    assert result.outcome is Outcome.CREATED
    (path,) = settings.dicom_dir.rglob("*.dcm")
    assert (
        path.read_bytes() == file_header(ids.sop_class_uid, ids.sop_instance_uid, EXPLICIT) + data
    )
    assert part_ten(path).dataset == data
    assert dcmread(path, stop_before_pixels=True).SOPInstanceUID == ids.sop_instance_uid


def test_same_dataset_from_another_sender_is_a_duplicate(settings: Settings, db: Database) -> None:
    receiver = InstanceReceiver(db, FileStore(settings.dicom_dir), OPTIONS)
    data = _dataset(4096)
    ids = parse_identifiers(io.BytesIO(data), EXPLICIT)
    first = receiver.receive(data, ids, EXPLICIT, "MODALITY1")
    again = receiver.receive(memoryview(data), ids, EXPLICIT, "PACS")
    assert (first.outcome, again.outcome, again.item_id) == (
        Outcome.CREATED,
        Outcome.DUPLICATE,
        first.item_id,
    )
    assert db_state(db) == DbState(1, 1, 1)


def test_file_meta_is_deterministic() -> None:
    one = file_header("1.2.840.10008.5.1.4.1.1.1", "1.2.3.4", EXPLICIT)
    two = file_header("1.2.840.10008.5.1.4.1.1.1", "1.2.3.4", EXPLICIT)
    assert one == two
    assert one[128:132] == b"DICM"
    assert file_header("1.2.840.10008.5.1.4.1.1.1", "1.2.3.5", EXPLICIT) != one


def test_database_errors_become_storage_errors(tmp_path: Path) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}")
    try:
        receiver = InstanceReceiver(broken, FileStore(tmp_path / "files"), OPTIONS)
        data = _dataset(2048)
        ids = parse_identifiers(io.BytesIO(data), EXPLICIT)
        with pytest.raises(StorageError, match="database error OperationalError"):
            receiver.receive(data, ids, EXPLICIT, None)
    finally:
        broken.dispose()
