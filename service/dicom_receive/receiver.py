"""The one entry every image protocol calls with a received dataset: check it, store it exactly
as it arrived, commit its instance row, item and job, and say what happened.

Steps, each a small function: the transfer syntax is one radqc keeps; the identifiers are read
from the dataset bytes; they match what the sender announced; the SOP class is a chest X-ray
image class; the dataset is whole; the file (radqc's meta group, then the dataset bytes as
received) is written durably; the rows are committed (:func:`service.ingest.ingest`: duplicate
and new-version rules). Only a :class:`Receipt` that is ``stored`` may be acknowledged as a success.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from service.db import Database
from service.dicom_receive.accepted import STORAGE_SOP_CLASSES, TRANSFER_SYNTAXES
from service.dicom_receive.framing import check_framing
from service.dicom_receive.identifiers import Identifiers, parse_identifiers
from service.dicom_receive.part10 import file_header, read_file_meta
from service.dicom_receive.reader import BufferReader
from service.dicom_receive.receipt import Envelope, Receipt, Rejection, Status, rejected
from service.errors import InvalidInputError, StorageError
from service.ingest import (
    IngestResult,
    Outcome,
    QueueOptions,
    ReceivedInstance,
    ingest,
    store_instance,
)
from service.models import Instance
from service.storage import Buffer, FileStore, StoredFile

# The dataset is handed to FileStore in slices of this size: one write() of a whole 10 MB image
# took 34 ms where ten 1 MiB writes took 5 ms (see bench/ingest/README.md). Slices are views.
WRITE_CHUNK: Final = 1 << 20
_STATUS: Final = {
    Outcome.CREATED: Status.STORED,
    Outcome.DUPLICATE: Status.DUPLICATE,
    Outcome.NEW_VERSION: Status.NEW_VERSION,
}
_ACCEPTED_CLASSES: Final = frozenset(STORAGE_SOP_CLASSES)
_ACCEPTED_SYNTAXES: Final = frozenset(TRANSFER_SYNTAXES)


class DicomReceiver:
    """Receives DICOM datasets for every protocol adapter; one per process, shared by threads."""

    def __init__(self, db: Database, files: FileStore, options: QueueOptions) -> None:
        self._db = db
        self._files = files
        self._options = options

    def receive(
        self,
        dataset: Buffer,
        transfer_syntax: str,
        *,
        envelope: Envelope | None = None,
        sender: str | None = None,
    ) -> Receipt:
        """Check, store and record one dataset (its bytes without file meta, encoded in
        ``transfer_syntax``); ``sender`` is the calling AE title, when there is one.

        Never raises for what a sender can cause: a bad dataset, or a file system or database
        failure, is a rejected :class:`Receipt`. A stored one means the file, its rows and its
        job are committed.
        """
        envelope = envelope or Envelope()
        with BufferReader(dataset) as reader:
            checked = _checked(reader, transfer_syntax, envelope)
        if isinstance(checked, Receipt):
            return checked
        try:
            result = self._store(dataset, checked, transfer_syntax, sender)
        except StorageError as exc:
            return rejected(Rejection.OUT_OF_RESOURCES, str(exc), checked, envelope)
        return Receipt(
            _STATUS[result.outcome],
            ids=checked,
            item_id=result.item_id,
            version=result.version,
            envelope=envelope,
        )

    def receive_file(
        self, data: Buffer, *, study_instance_uid: str | None = None, sender: str | None = None
    ) -> Receipt:
        """:meth:`receive` for a whole DICOM file (PS3.10: preamble, meta, dataset), as DICOMweb
        sends them; its meta names the dataset's transfer syntax, SOP class and instance, and
        ``study_instance_uid`` the study it must belong to."""
        try:
            meta = read_file_meta(data)
        except InvalidInputError as exc:
            envelope = Envelope(study_instance_uid=study_instance_uid)
            return rejected(Rejection.MALFORMED, str(exc), None, envelope)
        envelope = Envelope(meta.sop_class_uid, meta.sop_instance_uid, study_instance_uid)
        with memoryview(data) as view, view[meta.dataset_offset :] as dataset:
            return self.receive(dataset, meta.transfer_syntax, envelope=envelope, sender=sender)

    def referenced_paths(self, prefix: str) -> set[str]:
        """The stored files' relpaths starting with ``prefix`` that an instance row references
        (for :meth:`service.storage.FileStore.sweep_orphans`)."""
        with self._db.reader() as session:
            return set(
                session.scalars(select(Instance.path).where(Instance.path.startswith(prefix)))
            )

    def _store(
        self, dataset: Buffer, ids: Identifiers, transfer_syntax: str, sender: str | None
    ) -> IngestResult:
        """Write the file durably, then commit its rows and job; :class:`StorageError` if either
        fails. The file stays when the commit fails: another sender may be committing a row for
        the same bytes right now; if none does, the orphan sweep removes it."""
        stored = self._write(dataset, ids, transfer_syntax)
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
            calling_ae=sender,
            expected_study_instances=ids.expected_study_instances,
        )
        try:
            return ingest(self._db, store_instance, received, self._options)
        except SQLAlchemyError as exc:
            # Only the class name: SQLAlchemy's message quotes the bound parameters (patient id).
            raise StorageError(f"database error {type(exc).__name__}") from exc

    def _write(self, dataset: Buffer, ids: Identifiers, transfer_syntax: str) -> StoredFile:
        header = file_header(ids.sop_class_uid, ids.sop_instance_uid, transfer_syntax)
        with memoryview(dataset) as view:
            chunks = [
                view[start : start + WRITE_CHUNK] for start in range(0, len(view), WRITE_CHUNK)
            ]
            try:
                return self._files.put([header, *chunks])
            finally:
                for chunk in chunks:
                    chunk.release()


def _checked(
    reader: BufferReader, transfer_syntax: str, envelope: Envelope
) -> Identifiers | Receipt:
    """The dataset's identifiers when it may be stored, else the rejection."""
    if transfer_syntax not in _ACCEPTED_SYNTAXES:
        message = "the transfer syntax is not one radqc accepts"
        return rejected(Rejection.TRANSFER_SYNTAX_NOT_SUPPORTED, message, None, envelope)
    stream = reader.as_binary()
    try:
        ids = parse_identifiers(stream, transfer_syntax)
    except InvalidInputError as exc:
        return rejected(Rejection.MALFORMED, str(exc), None, envelope)
    refusal = _mismatch(ids, envelope) or _unsupported(ids)
    if refusal is not None:
        return rejected(*refusal, ids, envelope)
    try:  # whole: a dataset cut short would be stored, acknowledged and fail in a worker
        check_framing(stream, transfer_syntax)
    except InvalidInputError as exc:
        return rejected(Rejection.MALFORMED, str(exc), ids, envelope)
    return ids


def _mismatch(ids: Identifiers, envelope: Envelope) -> tuple[Rejection, str] | None:
    """Why the dataset is not what the sender announced, or None when it is."""
    if envelope.sop_class_uid is not None and ids.sop_class_uid != envelope.sop_class_uid:
        return Rejection.SOP_MISMATCH, "SOPClassUID differs from the announced SOP class"
    if envelope.sop_instance_uid is not None and ids.sop_instance_uid != envelope.sop_instance_uid:
        return Rejection.SOP_MISMATCH, "SOPInstanceUID differs from the announced instance"
    study = envelope.study_instance_uid
    if study is not None and ids.study_instance_uid != study:
        return Rejection.STUDY_MISMATCH, "StudyInstanceUID differs from the study it was sent to"
    return None


def _unsupported(ids: Identifiers) -> tuple[Rejection, str] | None:
    if ids.sop_class_uid not in _ACCEPTED_CLASSES:
        return Rejection.SOP_CLASS_NOT_SUPPORTED, "not a chest X-ray image storage SOP class"
    return None
