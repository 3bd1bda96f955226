"""DICOMweb: STOW-RS (store instances) and QIDO-RS (search what was received) over HTTP.

Only the wire is here (multipart bodies, PS3.18 status codes and Failure Reasons, DICOM JSON);
each received file goes through the core's one entry for DICOM objects
(:class:`service.dicom_receive.DicomReceiver`), the same as a C-STORE.
"""
