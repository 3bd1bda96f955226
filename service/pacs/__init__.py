"""QC results back to PACS as DICOM (issue 12 part 4): the core's side.

What a study's results are (:mod:`service.pacs.results`), when they are to be sent (a durable
job per study, queued whenever one of its images is published), and what the PACS answered
(:mod:`service.pacs.models`). Encoding them as DICOM SR and KOS and the C-STORE are the
``dicom_results`` adapter's.
"""
