"""Receiving a DICOM object, whatever protocol brought it (C-STORE, DICOMweb STOW-RS): one entry,
:meth:`DicomReceiver.receive` (or :meth:`DicomReceiver.receive_file` for a whole DICOM file), that
reads the identifiers from the dataset bytes, checks them, writes the file content-addressed and
durably, commits its instance row, item and job in one transaction, and returns a
protocol-neutral :class:`Receipt` (stored, duplicate, new version, or rejected with a reason).

The adapters keep only their wire: associations, presentation contexts and DIMSE statuses in
``dicom_listener``; HTTP, multipart and PS3.18 failure reasons in its DICOMweb routes.
"""

from service.dicom_receive.accepted import STORAGE_SOP_CLASSES, TRANSFER_SYNTAXES
from service.dicom_receive.identifiers import Identifiers, is_uid
from service.dicom_receive.receipt import Envelope, Receipt, Rejection, Status
from service.dicom_receive.receiver import DicomReceiver

__all__ = [
    "STORAGE_SOP_CLASSES",
    "TRANSFER_SYNTAXES",
    "DicomReceiver",
    "Envelope",
    "Identifiers",
    "Receipt",
    "Rejection",
    "Status",
    "is_uid",
]
