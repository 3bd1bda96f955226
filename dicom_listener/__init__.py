"""DICOM networking: the pynetdicom Storage SCP (``dicom_listener.server.StorageSCP``) and the
DICOMweb routes (``dicom_listener.dicomweb``: STOW-RS, QIDO-RS). Both only speak their wire; a
received object goes to the core's one entry, :class:`service.dicom_receive.DicomReceiver`."""
