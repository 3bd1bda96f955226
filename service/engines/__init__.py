"""QC engines: each takes a stored object and returns findings (see :mod:`service.engines.base`)."""
