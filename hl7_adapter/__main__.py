"""``python -m hl7_adapter``: the MLLP listener as a process of its own, as ``radqc listen``
starts it when ``RADQC_HL7_PORT`` is set (:mod:`service.supervisor`). It stops on SIGTERM or
SIGINT, and when the process that started it is gone."""

from __future__ import annotations

import logging
import sys
import threading

from hl7_adapter.listener import MLLPListener
from service.config import load_settings
from service.db import Database
from service.errors import RadqcError
from service.ingest import QueueOptions
from service.supervisor import on_terminate, stop_when_orphaned

log = logging.getLogger("hl7_adapter")


def main() -> int:
    try:
        settings = load_settings()
    except RadqcError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s [%(process)d %(threadName)s] %(name)s: %(message)s",
    )
    if settings.hl7_port is None:
        log.error("RADQC_HL7_PORT is not set: no MLLP listener to run")
        return 2
    db = Database(settings.effective_database_url)
    options = QueueOptions(
        max_attempts=settings.job_max_attempts,
        study_stable_seconds=settings.study_stable_seconds,
    )
    listener = MLLPListener(settings, db, options)
    stop = threading.Event()
    on_terminate(stop)
    stop_when_orphaned(stop)
    try:
        listener.start()
    except RadqcError as exc:
        log.error("%s", exc)
        db.dispose()
        return 1
    stop.wait()
    listener.stop()
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
