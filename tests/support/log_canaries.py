"""The whole test run's logs, searched for patient-data canaries (issue 10).

Tests send canaries (distinctive names, MRNs, phones and report text) through every path: DICOM
headers, FHIR reports good and malformed, the LLM reviewer. ``tests/conftest.py`` installs one
:class:`LeakHandler` on the root logger for the session, with radqc's own loggers at DEBUG and
everything else at INFO, and fails the run if any record (its message, arguments or traceback)
holds a canary. A test that deliberately puts a canary in a log record would fail the run too.
"""

from __future__ import annotations

import logging
import traceback

# Distinctive values used by tests that send patient data through radqc; any of them in a log
# line is a leak. Lower case; matched case-insensitively.
CANARIES = (
    "zyxwvut",
    "quillfeather",
    "okonkwo",
    "zebediah",
    "quixworth",
    "qx7731904",
    "mrn-0042-7731",
    "acc-2024-77123",
    "555-0142",
)
# radqc's loggers are searched at DEBUG (what an operator may switch on), the rest at INFO.
OWN_LOGGERS = ("service", "dicom_listener", "dicom_results", "fhir_adapter", "hl7_adapter")


class LeakHandler(logging.Handler):
    """Remembers every record that holds a canary (where, never the whole text)."""

    def __init__(self, canaries: tuple[str, ...] = CANARIES) -> None:
        super().__init__(level=logging.DEBUG)
        self.canaries = canaries
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string: search its parts
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        lowered = text.lower()
        found = [c for c in self.canaries if c in lowered]
        if found:
            self.leaks.append(f"{record.name}:{record.lineno} {found}")


def install() -> LeakHandler:
    """Attach a handler to the root logger and open the levels it needs."""
    handler = LeakHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    return handler
