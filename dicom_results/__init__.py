"""QC results back to PACS (issue 12 part 4): a study's results as a DICOM Comprehensive 3D SR
(TID 1500 Measurement Report) and, when an image is flagged, a Key Object Selection document
("Quality Issue"), built with highdicom and sent by C-STORE to the configured PACS.

- :mod:`dicom_results.documents`: the SR and KOS of a :class:`service.pacs.results.StudyResults`;
- :mod:`dicom_results.scu`: the C-STORE (pynetdicom), and what a DIMSE status means for a retry;
- :mod:`dicom_results.deliver`: the ``pacs_results`` job's handler.
"""
