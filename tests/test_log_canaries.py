"""The session-wide search of log records for patient-data canaries can fail."""

from __future__ import annotations

import logging

from tests.support import log_canaries


def test_the_session_handler_listens_to_radqc_at_debug(
    log_leaks: log_canaries.LeakHandler,
) -> None:
    assert log_leaks in logging.getLogger().handlers
    assert logging.getLogger("service.pipeline").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("fhir_adapter.routes_reports").isEnabledFor(logging.DEBUG)


def test_a_canary_in_a_message_argument_or_traceback_is_a_leak() -> None:
    handler = log_canaries.LeakHandler()
    logger = logging.getLogger("tests.leak-probe")
    logger.addHandler(handler)
    logger.propagate = False  # keep the probe out of the session's own search
    try:
        logger.warning("clean message about item %s", 7)
        assert handler.leaks == []
        logger.warning("report of %s", "Zyxwvut QUILLFEATHER")
        try:
            raise ValueError("subject Patient/MRN-0042-7731")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    assert len(handler.leaks) == 2
    assert "quillfeather" in handler.leaks[0] and "mrn-0042-7731" in handler.leaks[1]
