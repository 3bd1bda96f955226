"""A real radqc Storage SCP on a free port, real SCUs (pynetdicom and DCMTK) and DB inspection."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from pydicom.dataset import Dataset
from pydicom.filereader import read_preamble
from pynetdicom import AE, _config
from pynetdicom.dsutils import split_dataset
from sqlalchemy import func, select

from dicom_listener.server import StorageSCP
from service.config import Settings
from service.db import Database
from service.ingest import QueueOptions
from service.models import Instance, Item, Job
from service.queue import QC
from service.storage import FileStore
from tests.support.tools import debian_tool

if TYPE_CHECKING:
    from tests.dicom_listener.samples import Sample


@dataclass
class Listener:
    scp: StorageSCP
    settings: Settings
    db: Database
    files: FileStore

    @property
    def port(self) -> int:
        return self.scp.port


def start_listener(settings: Settings, db: Database, files: FileStore | None = None) -> Listener:
    settings = settings.model_copy(update={"dicom_port": 0})
    files = files or FileStore(settings.dicom_dir)
    options = QueueOptions(
        max_attempts=settings.job_max_attempts, study_stable_seconds=settings.study_stable_seconds
    )
    scp = StorageSCP(settings, db, files, options)
    scp.start()
    return Listener(scp, settings, db, files)


@pytest.fixture(autouse=True)
def send_files_as_they_are(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make pynetdicom's ``send_c_store(path)`` put the file's dataset bytes on the wire as they
    are (by default it decodes the file and encodes it again)."""
    monkeypatch.setattr(_config, "STORE_SEND_CHUNKED_DATASET", True)


@pytest.fixture(scope="session")
def transfer_syntax_samples(
    shared_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> list[Sample]:
    """One real chest image in each of the 12 accepted transfer syntaxes (made once)."""
    from tests.dicom_listener.samples import every_transfer_syntax

    return every_transfer_syntax(shared_data, tmp_path_factory.mktemp("syntaxes"))


@pytest.fixture
def listener(settings: Settings, db: Database) -> Iterator[Listener]:
    running = start_listener(settings, db)
    yield running
    running.scp.stop(timeout=5)


@contextmanager
def listening(settings: Settings, db: Database, **changes: object) -> Iterator[Listener]:
    """A listener with ``changes`` to the settings, stopped when the block ends."""
    running = start_listener(settings.model_copy(update=changes), db)
    try:
        yield running
    finally:
        running.scp.stop(timeout=5)


def dcmtk(tool: str) -> str:
    """The full path of a DCMTK tool (the venv's pynetdicom scripts share the names)."""
    return debian_tool(tool, "dcmtk")


# --- reading DICOM files as they are on disk ---------------------------------------------------


@dataclass(frozen=True)
class PartTen:
    """A DICOM file split as it lies on disk: its meta elements and its dataset bytes."""

    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax: str
    dataset: bytes


def part_ten(path: Path) -> PartTen:
    meta, offset = split_dataset(path)
    return PartTen(
        str(meta.MediaStorageSOPClassUID),
        str(meta.MediaStorageSOPInstanceUID),
        str(meta.TransferSyntaxUID),
        path.read_bytes()[offset:],
    )


def has_file_meta(path: Path) -> bool:
    with path.open("rb") as handle:
        try:
            read_preamble(handle, False)
        except Exception:
            return False
    return True


# How DCMTK's storescu must be told to propose a file's transfer syntax to send it as it is.
PROPOSE = {
    "1.2.840.10008.1.2": "-xi",
    "1.2.840.10008.1.2.1": "-xe",
    "1.2.840.10008.1.2.4.50": "-xy",
    "1.2.840.10008.1.2.4.90": "-xv",
    "1.2.840.10008.1.2.4.91": "-xw",
}


def option_for(path: Path) -> str:
    """The storescu option that sends ``path`` in its own transfer syntax (a file without
    meta is read as implicit little endian)."""
    return PROPOSE[part_ten(path).transfer_syntax] if has_file_meta(path) else "-xi"


def cxr_files(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "cxr").rglob("*.dcm"))


# --- a pynetdicom SCU ----------------------------------------------------------------------


def pynetdicom_store(
    port: int, items: Sequence[Path | Dataset], *, ae_title: str = "PYSCU"
) -> list[int]:
    """Send each file (its dataset bytes as they are) or dataset over one association."""
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 30
    pairs: set[tuple[str, str]] = set()
    for item in items:
        if isinstance(item, Path):
            meta, _ = split_dataset(item)
        else:
            meta = item.file_meta
            meta.setdefault("MediaStorageSOPClassUID", item.SOPClassUID)
        pairs.add((str(meta.MediaStorageSOPClassUID), str(meta.TransferSyntaxUID)))
    for sop_class, syntax in sorted(pairs):
        ae.add_requested_context(sop_class, [syntax])
    assoc = ae.associate("127.0.0.1", port, ae_title="RADQC")
    assert assoc.is_established, "association with the listener failed"
    try:
        statuses = []
        for item in items:
            status = assoc.send_c_store(item)
            statuses.append(int(status.Status) if "Status" in status else -1)
        return statuses
    finally:
        assoc.release()


# --- what the database holds ---------------------------------------------------------------


@dataclass(frozen=True)
class DbState:
    instances: int
    items: int
    qc_jobs: int


def db_state(db: Database) -> DbState:
    with db.reader() as session:
        return DbState(
            instances=session.scalar(select(func.count()).select_from(Instance)) or 0,
            items=session.scalar(select(func.count()).select_from(Item)) or 0,
            qc_jobs=session.scalar(select(func.count()).select_from(Job).where(Job.kind == QC))
            or 0,
        )


def assert_one_job_per_item(db: Database) -> None:
    with db.reader() as session:
        per_item = session.execute(
            select(Item.id, func.count(Job.id))
            .outerjoin(Job, (Job.item_id == Item.id) & (Job.kind == QC))
            .group_by(Item.id)
        ).all()
    assert per_item, "no items"
    assert {count for _, count in per_item} == {1}, per_item


def stored_instances(db: Database, sop_instance_uid: str) -> list[Instance]:
    with db.reader() as session:
        return list(
            session.scalars(
                select(Instance)
                .where(Instance.sop_instance_uid == sop_instance_uid)
                .order_by(Instance.version)
            )
        )


def conflict_flags(db: Database, sop_instance_uid: str) -> list[bool]:
    with db.reader() as session:
        return list(
            session.scalars(
                select(Item.conflict)
                .join(Instance, Item.instance_id == Instance.id)
                .where(Instance.sop_instance_uid == sop_instance_uid)
                .order_by(Instance.version)
            )
        )


@pytest.fixture
def blocked_store(tmp_path: Path) -> tuple[FileStore, Path]:
    """A FileStore whose root lies under a regular file: every mkdir fails with ENOTDIR (as root
    too, unlike chmod). Remove the returned file to make the store work again."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    return FileStore(blocker / "dicom"), blocker
