"""Store one received dataset as a DICOM file, exactly as it arrived, and record it.

The file is the 128-byte preamble, ``DICM``, a File Meta Information group radqc writes, and the
dataset bytes as received: nothing is decoded and re-encoded. The meta group is deterministic
(no sender AE title, no library version), so the same dataset sent twice, from any sender, is the
same file with the same SHA-256 and :func:`service.ingest.ingest` sees it as a duplicate.
"""

from __future__ import annotations

from typing import Final

from pydicom.dataset import FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info
from pydicom.uid import UID
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from dicom_listener.identifiers import Identifiers
from service.db import Database
from service.errors import StorageError
from service.ingest import IngestResult, QueueOptions, ReceivedInstance, ingest, store_instance
from service.models import Instance
from service.storage import Buffer, FileStore

# radqc's Implementation Class UID (a UUID-derived UID, PS3.5 B.2); kept fixed on purpose: it is
# part of every stored file, and changing it would make re-sent images look like new versions.
IMPLEMENTATION_CLASS_UID: Final = "2.25.155445602171066807669816916735572558409"
IMPLEMENTATION_VERSION_NAME: Final = "RADQC"
_PREAMBLE: Final = b"\x00" * 128 + b"DICM"
# The dataset is handed to FileStore in slices of this size: one write() of a whole 10 MB image
# took 34 ms where ten 1 MiB writes took 5 ms (see bench/ingest/README.md). Slices are views.
WRITE_CHUNK: Final = 1 << 20


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


class InstanceReceiver:
    """Writes a received dataset durably, then commits its instance row, item and job."""

    def __init__(self, db: Database, files: FileStore, options: QueueOptions) -> None:
        self._db = db
        self._files = files
        self._options = options

    def receive(
        self,
        dataset: Buffer,
        ids: Identifiers,
        transfer_syntax: str,
        calling_ae: str | None,
    ) -> IngestResult:
        """Store and record one instance; raise :class:`StorageError` if either step fails.

        Only when this returns are the file and its job durable, so only then may the sender be
        told "success".
        """
        header = file_header(ids.sop_class_uid, ids.sop_instance_uid, transfer_syntax)
        with memoryview(dataset) as view:
            chunks = [
                view[start : start + WRITE_CHUNK] for start in range(0, len(view), WRITE_CHUNK)
            ]
            try:
                stored = self._files.put([header, *chunks])
            finally:
                for chunk in chunks:
                    chunk.release()
        received = ReceivedInstance(
            sop_instance_uid=ids.sop_instance_uid,
            sop_class_uid=ids.sop_class_uid,
            study_instance_uid=ids.study_instance_uid,
            series_instance_uid=ids.series_instance_uid,
            modality=ids.modality,
            accession=ids.accession,
            patient_id=ids.patient_id,
            transfer_syntax_uid=transfer_syntax,
            path=stored.relpath,
            sha256=stored.sha256,
            size_bytes=stored.size,
            calling_ae=calling_ae,
            expected_study_instances=ids.expected_study_instances,
        )
        try:
            return ingest(self._db, store_instance, received, self._options)
        except SQLAlchemyError as exc:
            # Only the class name: SQLAlchemy's message quotes the bound parameters (patient id).
            # The file stays: another association may be committing a row for the same bytes
            # right now. If none does, the orphan sweep removes it (FileStore.sweep_orphans).
            raise StorageError(f"database error {type(exc).__name__}") from exc

    def referenced_paths(self, prefix: str) -> set[str]:
        """The stored files' relpaths starting with ``prefix`` that an instance row references."""
        with self._db.reader() as session:
            return set(
                session.scalars(select(Instance.path).where(Instance.path.startswith(prefix)))
            )
