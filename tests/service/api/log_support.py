"""Every log record of the process, whatever logger wrote it, at DEBUG: the root logger and the
loggers that do not propagate to it (uvicorn's), with SQLAlchemy's statement logging on."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

# named explicitly: created by uvicorn.Config (propagate=False) or by the first engine
LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "sqlalchemy", "sqlalchemy.engine")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def every_log_record() -> Iterator[list[logging.LogRecord]]:
    """Collect every record written inside the block (the list is filled as they come)."""
    handler = _Collect()
    names = {"", *LOGGERS, *logging.root.manager.loggerDict}
    saved: list[tuple[logging.Logger, int, bool]] = []
    for name in sorted(names):
        logger = logging.getLogger(name)
        saved.append((logger, logger.level, logger.propagate))
        logger.setLevel(logging.DEBUG)
        if name == "" or not logger.propagate:
            logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger, level, _ in saved:
            logger.setLevel(level)
            logger.removeHandler(handler)


def rendered(records: list[logging.LogRecord]) -> str:
    """Everything the records would print: message, arguments, exception and stack."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(record) for record in records)
