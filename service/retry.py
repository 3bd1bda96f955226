"""When to try again: exponential backoff and the ``Retry-After`` header, for every retry in radqc
(the job queue, the LLM client, FHIR write-back). Pure functions, tested with a table."""

from __future__ import annotations

import datetime as dt
import email.utils

MAX_RETRY_AFTER_SECONDS = 3600.0


def backoff_delay(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after ``attempt`` failures (1-based):
    ``base`` doubled at each failure, at most ``cap``."""
    if attempt < 1:
        return 0.0
    return float(min(cap, base * 2 ** min(attempt - 1, 62)))


def parse_retry_after(
    value: str | None,
    *,
    now: dt.datetime | None = None,
    cap: float = MAX_RETRY_AFTER_SECONDS,
) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP date (RFC 9110
    10.2.3), at least 0 and at most ``cap``; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), cap)
