"""DICOM networking: the pynetdicom Storage SCP (``dicom_listener.server.StorageSCP``) turns
C-STORE requests into received objects for the core."""
