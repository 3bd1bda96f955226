"""One backoff and one Retry-After parser for every retry (issue 14): a table of cases, and the
LLM client reading the HTTP-date form it used to ignore."""

from __future__ import annotations

import datetime as dt

import pytest

from service.engines.llm.client import retry_delay
from service.retry import backoff_delay, parse_retry_after

NOW = dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("7", 7.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("99999", 3600.0),
        ("Fri, 04 Dec 2026 12:00:30 GMT", 30.0),
        ("Fri, 04 Dec 2026 11:00:00 GMT", 0.0),  # in the past
        ("nan", None),
        ("soon", None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("attempt", "expected"), [(0, 0.0), (1, 0.5), (2, 1.0), (3, 2.0), (8, 30.0), (500, 30.0)]
)
def test_backoff_doubles_up_to_the_cap(attempt: int, expected: float) -> None:
    assert backoff_delay(attempt, 0.5, 30.0) == expected


def test_the_llm_client_honours_an_http_date_retry_after() -> None:
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )
    assert 15 <= retry_delay(1, later, 0.5, 30.0) <= 20
    assert retry_delay(1, "3", 0.5, 30.0) == 3.0
    assert retry_delay(2, None, 0.5, 30.0) == 1.0
    assert retry_delay(1, "120", 0.5, 30.0) == 30.0  # capped
