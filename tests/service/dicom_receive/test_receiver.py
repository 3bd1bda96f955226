"""DicomReceiver, the one entry every image protocol calls, with a real FileStore and database,
without the network: what is stored, and every reason it refuses, with nothing half-stored."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydicom import dcmread

from service.config import Settings
from service.db import Database
from service.dicom_receive import DicomReceiver, Envelope, Receipt, Rejection, Status
from service.dicom_receive.identifiers import parse_identifiers
from service.dicom_receive.part10 import file_header
from service.dicom_receive.receiver import WRITE_CHUNK
from service.ingest import Outcome, QueueOptions
from service.storage import FileStore
from tests.dicom_listener.conftest import DbState, db_state, part_ten
from tests.dicom_listener.samples import CR, DX_PRESENTATION, encoded, header_dataset

EXPLICIT = "1.2.840.10008.1.2.1"
BIG_ENDIAN = "1.2.840.10008.1.2.2"
CT = "1.2.840.10008.5.1.4.1.1.2"
OPTIONS = QueueOptions(max_attempts=3, study_stable_seconds=0.5)


def _dataset(size: int, **changes: str | None) -> bytes:
    """A valid dataset of exactly ``size`` bytes: a header and an OB private element."""
    head = encoded(header_dataset(**changes))  # type: ignore[arg-type]
    filler = size - len(head) - 12
    assert filler >= 0
    assert filler % 2 == 0
    return head + b"\x09\x00\x10\x10OB\x00\x00" + filler.to_bytes(4, "little") + b"\xab" * filler


def _receiver(settings: Settings, db: Database) -> DicomReceiver:
    return DicomReceiver(db, FileStore(settings.dicom_dir), OPTIONS)


def _stored_files(settings: Settings) -> list[Path]:
    return sorted(settings.dicom_dir.rglob("*.dcm"))


@pytest.mark.parametrize(
    "size", [WRITE_CHUNK - 2, WRITE_CHUNK, WRITE_CHUNK + 2, 3 * WRITE_CHUNK + 6]
)
def test_file_is_header_plus_the_dataset_bytes_at_any_size(
    settings: Settings, db: Database, size: int
) -> None:
    data = _dataset(size)
    receipt = _receiver(settings, db).receive(data, EXPLICIT, sender="MODALITY")
    assert receipt.status is Status.STORED
    assert receipt.stored
    assert receipt.outcome is Outcome.CREATED
    ids = parse_identifiers(io.BytesIO(data), EXPLICIT)
    assert receipt.ids == ids
    (path,) = _stored_files(settings)
    assert (
        path.read_bytes() == file_header(ids.sop_class_uid, ids.sop_instance_uid, EXPLICIT) + data
    )
    assert part_ten(path).dataset == data
    assert dcmread(path, stop_before_pixels=True).SOPInstanceUID == ids.sop_instance_uid


def test_same_dataset_from_another_sender_is_a_duplicate(settings: Settings, db: Database) -> None:
    receiver = _receiver(settings, db)
    data = _dataset(4096)
    first = receiver.receive(data, EXPLICIT, sender="MODALITY1")
    again = receiver.receive(memoryview(data), EXPLICIT, sender="PACS")
    assert (first.status, again.status, again.item_id) == (
        Status.STORED,
        Status.DUPLICATE,
        first.item_id,
    )
    assert db_state(db) == DbState(1, 1, 1)


def test_same_uid_with_other_bytes_is_a_new_version(settings: Settings, db: Database) -> None:
    receiver = _receiver(settings, db)
    data = _dataset(4096)
    other = data[:-2] + b"\xcd\xcd"  # the same header, another value in the private element
    first = receiver.receive(data, EXPLICIT)
    second = receiver.receive(other, EXPLICIT)
    assert (second.status, second.version, second.outcome) == (
        Status.NEW_VERSION,
        2,
        Outcome.NEW_VERSION,
    )
    assert second.item_id != first.item_id
    assert db_state(db) == DbState(2, 2, 2)


def test_a_whole_dicom_file_is_stored_as_its_dataset_would_be(
    settings: Settings, db: Database, shared_data: Path
) -> None:
    """DICOMweb sends files, C-STORE datasets: the same dataset is the same stored file."""
    path = shared_data / "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
    split = part_ten(path)
    receiver = _receiver(settings, db)
    by_file = receiver.receive_file(path.read_bytes(), study_instance_uid=None)
    by_dataset = receiver.receive(split.dataset, split.transfer_syntax)
    assert (by_file.status, by_dataset.status) == (Status.STORED, Status.DUPLICATE)
    assert by_dataset.item_id == by_file.item_id
    (stored,) = _stored_files(settings)
    assert part_ten(stored).dataset == split.dataset


def _refused(receipt: Receipt, reason: Rejection, settings: Settings, db: Database) -> None:
    assert (receipt.status, receipt.reason, receipt.stored) == (Status.REJECTED, reason, False)
    assert receipt.message
    assert db_state(db) == DbState(0, 0, 0)
    assert _stored_files(settings) == []  # nothing half-stored


@pytest.mark.parametrize(
    ("data", "syntax", "envelope", "reason"),
    [
        (b"\xde\xad\xbe\xef" * 64, EXPLICIT, Envelope(), Rejection.MALFORMED),
        (encoded(header_dataset(StudyInstanceUID=None)), EXPLICIT, Envelope(), Rejection.MALFORMED),
        (_dataset(2048)[:-7], EXPLICIT, Envelope(), Rejection.MALFORMED),  # cut short
        (_dataset(2048), BIG_ENDIAN, Envelope(), Rejection.TRANSFER_SYNTAX_NOT_SUPPORTED),
        (_dataset(2048), EXPLICIT, Envelope(sop_class_uid=DX_PRESENTATION), Rejection.SOP_MISMATCH),
        (_dataset(2048), EXPLICIT, Envelope(sop_instance_uid="1.2.3.999"), Rejection.SOP_MISMATCH),
        (
            _dataset(2048),
            EXPLICIT,
            Envelope(study_instance_uid="1.2.3.4"),
            Rejection.STUDY_MISMATCH,
        ),
        (encoded(header_dataset(CT)), EXPLICIT, Envelope(), Rejection.SOP_CLASS_NOT_SUPPORTED),
    ],
    ids=[
        "garbage",
        "no-study-uid",
        "cut-short",
        "big-endian",
        "other-sop-class",
        "other-instance",
        "other-study",
        "ct",
    ],
)
def test_refusals_store_nothing(
    settings: Settings,
    db: Database,
    data: bytes,
    syntax: str,
    envelope: Envelope,
    reason: Rejection,
) -> None:
    receipt = _receiver(settings, db).receive(data, syntax, envelope=envelope)
    _refused(receipt, reason, settings, db)


def test_a_dataset_that_matches_its_envelope_is_stored(settings: Settings, db: Database) -> None:
    data = _dataset(2048)
    ids = parse_identifiers(io.BytesIO(data), EXPLICIT)
    envelope = Envelope(CR, ids.sop_instance_uid, ids.study_instance_uid)
    receipt = _receiver(settings, db).receive(data, EXPLICIT, envelope=envelope)
    assert receipt.status is Status.STORED


@pytest.mark.parametrize(
    "data",
    [b"", b"\x00" * 128 + b"DICX" + b"\x00" * 64, b"%PDF-1.7\n" * 40, b"\x00" * 128 + b"DICM"],
    ids=["empty", "no-prefix", "pdf", "no-meta"],
)
def test_what_is_not_a_dicom_file_is_malformed(
    settings: Settings, db: Database, data: bytes
) -> None:
    receipt = _receiver(settings, db).receive_file(data, study_instance_uid="1.2.3")
    _refused(receipt, Rejection.MALFORMED, settings, db)
    assert receipt.ids is None
    assert receipt.envelope.study_instance_uid == "1.2.3"


def test_a_file_whose_meta_names_another_instance_is_a_mismatch(
    settings: Settings, db: Database, tmp_path: Path
) -> None:
    from tests.dicom_listener.samples import write_part_ten

    ds = header_dataset()
    path = write_part_ten(tmp_path / "other.dcm", CR, "1.2.3.999", EXPLICIT, encoded(ds))
    receipt = _receiver(settings, db).receive_file(path.read_bytes())
    _refused(receipt, Rejection.SOP_MISMATCH, settings, db)
    assert receipt.sop_instance_uid == ds.SOPInstanceUID  # the dataset's, once it was read


def test_file_system_failure_is_out_of_resources(
    settings: Settings, db: Database, blocked_store: tuple[FileStore, Path]
) -> None:
    files, _ = blocked_store
    receipt = DicomReceiver(db, files, OPTIONS).receive(_dataset(2048), EXPLICIT)
    assert (receipt.status, receipt.reason) == (Status.REJECTED, Rejection.OUT_OF_RESOURCES)
    assert db_state(db) == DbState(0, 0, 0)


def test_database_errors_become_out_of_resources(tmp_path: Path) -> None:
    broken = Database(f"sqlite:///{tmp_path / 'no-such-dir' / 'x.sqlite3'}")
    try:
        receiver = DicomReceiver(broken, FileStore(tmp_path / "files"), OPTIONS)
        receipt = receiver.receive(_dataset(2048), EXPLICIT)
        assert (receipt.status, receipt.reason) == (Status.REJECTED, Rejection.OUT_OF_RESOURCES)
        assert receipt.message == "database error OperationalError"
        assert receipt.ids is not None  # it was read; only storing it failed
    finally:
        broken.dispose()
