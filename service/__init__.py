"""radqc core: configuration, storage, jobs, QC engines, REST API."""
