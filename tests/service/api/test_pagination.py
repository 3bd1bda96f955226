"""The one keyset pagination scheme (:mod:`service.api.pagination`): cursors that round-trip,
cursors that are refused (garbled, edited, forged, of another list, of an earlier scheme), and
keyset pages over real SQLite and PostgreSQL that hold every row exactly once when sort keys tie.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import HTTPException
from sqlalchemy import Select, event, select
from starlette.datastructures import URL

from service.api import pagination
from service.api.pagination import ITEMS, InvalidCursorError, Keyset
from service.api.params import MAX_ROW_ID
from service.db import Database
from service.loop.models import EvaluationRun
from service.models import Item, Observation

T0 = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
OBSERVATIONS = Keyset("test-observations", (Observation.id,), descending=False)
RUNS = Keyset("test-runs", (EvaluationRun.id,))


def _forge(keyset: Keyset, payload: bytes) -> str:
    """A cursor with a correct checksum over any payload: the checksum is public."""
    check = pagination._check(keyset.name, payload)
    return base64.urlsafe_b64encode(payload + check).decode().rstrip("=")


# -- cursors ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("keyset", "key"),
    [
        (ITEMS, (T0, 1)),
        (ITEMS, (T0 + dt.timedelta(microseconds=123_457), MAX_ROW_ID)),
        (ITEMS, (dt.datetime(1, 1, 1, tzinfo=dt.UTC), 7)),
        (ITEMS, (dt.datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=dt.UTC), 7)),
        (OBSERVATIONS, ("obs-0123456789abcdef",)),
        (OBSERVATIONS, ("x" * 64,)),
        (OBSERVATIONS, ('naïve:id/with,"odd" characters',)),
        (RUNS, (42,)),
    ],
)
def test_a_cursor_round_trips_and_is_url_safe(keyset: Keyset, key: pagination.Key) -> None:
    token = keyset.encode(key)
    assert token.isascii() and all(c.isalnum() or c in "-_" for c in token)
    assert keyset.decode(token) == key


def test_a_cursor_names_the_instant_whatever_the_zone_it_was_made_in() -> None:
    cet = dt.timezone(dt.timedelta(hours=1))
    token = ITEMS.encode((T0.astimezone(cet), 5))
    assert token == ITEMS.encode((T0, 5))
    received_at, item_id = ITEMS.decode(token)
    assert (received_at, item_id) == (T0, 5)
    assert isinstance(received_at, dt.datetime) and received_at.tzinfo == dt.UTC


def _old_items_cursor(received_at: dt.datetime, item_id: int) -> str:
    """A cursor as the items list issued it before the one scheme (``v1``)."""
    micros = int((received_at - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds()) * 10**6
    payload = f"v1:{micros}:{item_id}".encode()
    check = hashlib.blake2b(payload, digest_size=6, person=b"radqc-cursor").digest()
    return base64.urlsafe_b64encode(payload + check).decode().rstrip("=")


def _garbled(token: str) -> list[str]:
    flipped = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    last = token[:-1] + ("A" if token[-1] != "A" else "B")
    return [
        flipped,
        last,
        token[:-2],
        token + "AAAA",
        token + "=" * (-len(token) % 4 or 4),
        token.replace("-", "+").replace("_", "/") if ("-" in token or "_" in token) else "+/",
        " " + token,
        "",
        "garbage",
        "!!!!",
        "é" * 12,
        "A" * 10_000,
    ]


def test_garbled_and_edited_cursors_are_refused() -> None:
    token = ITEMS.encode((T0, 17))
    for bad in _garbled(token):
        with pytest.raises(InvalidCursorError) as raised:
            ITEMS.decode(bad)
        assert "invalid cursor" in str(raised.value) and raised.value.location == "cursor"


def test_a_cursor_of_another_list_or_an_earlier_scheme_is_refused() -> None:
    old_fhir = base64.urlsafe_b64encode(json.dumps({"after": "obs-1"}).encode()).decode()
    for keyset, bad in (
        (RUNS, ITEMS.encode((T0, 17))),
        (ITEMS, RUNS.encode((17,))),
        (OBSERVATIONS, RUNS.encode((17,))),
        (ITEMS, _old_items_cursor(T0, 17)),
        (RUNS, "17"),  # evaluations and shadow results issued bare ids
        (RUNS, "1234567890"),
        (OBSERVATIONS, old_fhir.rstrip("=")),
        (OBSERVATIONS, old_fhir),
    ):
        with pytest.raises(InvalidCursorError):
            keyset.decode(bad, "_cursor")


@pytest.mark.parametrize(
    ("keyset", "payload"),
    [
        (ITEMS, b"[1709280000000000,0]"),
        (ITEMS, b"[1709280000000000,-3]"),
        (ITEMS, b"[1709280000000000,%d]" % (MAX_ROW_ID + 1)),
        (ITEMS, b"[1709280000000000,1099511627776]"),
        (ITEMS, b"[1709280000000000,true]"),
        (ITEMS, b"[1709280000000000,17.0]"),
        (ITEMS, b'[1709280000000000,"17"]'),
        (ITEMS, b"[100000000000000000000,17]"),  # beyond year 9999
        (ITEMS, b"[-100000000000000000000,17]"),
        (ITEMS, b'["2024-03-01T08:00:00Z",17]'),
        (ITEMS, b"[NaN,17]"),
        (ITEMS, b"[1709280000000000]"),
        (ITEMS, b"[1709280000000000,17,1]"),
        (ITEMS, b'{"after":17}'),
        (ITEMS, b"17"),
        (ITEMS, b"[[[[[[[[[[]]]]]]]]]]"),
        (ITEMS, b"\xff\xfe[1,2]"),
        (OBSERVATIONS, b'["obs\\u0000x"]'),  # PostgreSQL cannot compare text holding NUL
        (OBSERVATIONS, b'["\\ud800"]'),  # a lone surrogate: no database can store it
        (OBSERVATIONS, b'["' + b"x" * 65 + b'"]'),  # longer than the column
        (OBSERVATIONS, b"[17]"),
        (OBSERVATIONS, b"[null]"),
    ],
)
def test_a_forged_cursor_with_a_valid_checksum_is_refused(keyset: Keyset, payload: bytes) -> None:
    with pytest.raises(InvalidCursorError):
        keyset.decode(_forge(keyset, payload))


def test_start_of_is_none_for_the_first_page_and_400_for_a_bad_cursor() -> None:
    assert pagination.start_of(RUNS, None) is None
    assert pagination.start_of(RUNS, RUNS.encode((9,))) == (9,)
    with pytest.raises(HTTPException) as raised:
        pagination.start_of(RUNS, "9")
    assert raised.value.status_code == 400 and "invalid cursor" in str(raised.value.detail)


def test_the_next_url_repeats_the_query_and_replaces_the_cursor() -> None:
    url = URL("http://h/fhir/Observation?code=a&_cursor=old&_count=2")
    params = [("code", "a"), ("_cursor", "old"), ("code", "b,c"), ("_count", "2")]
    assert pagination.next_url(url, params, "_cursor", "NEW") == (
        "http://h/fhir/Observation?code=a&code=b%2Cc&_count=2&_cursor=NEW"
    )


def test_a_keyset_takes_only_columns_a_cursor_can_carry() -> None:
    with pytest.raises(TypeError):
        Keyset("flags", (Item.flagged, Item.id))


# -- keyset pages on SQLite and PostgreSQL ----------------------------------------------------
@pytest.fixture
def tied_items(db: Database) -> list[Item]:
    """31 items in groups that share one received_at (and kind), in an order unlike their ids."""
    with db.transaction() as session:
        rows = [
            Item(
                kind=("image", "report")[n % 2],
                received_at=T0 + dt.timedelta(seconds=n * 7 % 5, microseconds=n * 3 % 2),
            )
            for n in range(31)
        ]
        session.add_all(rows)
        session.flush()
        session.expunge_all()
    return rows


def _pages(db: Database, keyset: Keyset, limit: int) -> Iterator[list[int]]:
    cursor: str | None = None
    for _ in range(100):  # a cursor that never ends is a failure, not a hang
        with db.reader() as session:
            start = keyset.decode(cursor) if cursor else None
            page = keyset.read(session, select(Item), start, limit)
        yield [row.id for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            return
    raise AssertionError("pagination did not end")


KEYSETS = {
    "newest-first": ITEMS,
    "oldest-first": Keyset("oldest-first", (Item.received_at, Item.id), descending=False),
    "by-kind": Keyset("by-kind", (Item.kind, Item.received_at, Item.id)),
    "by-id": Keyset("by-id", (Item.id,), descending=False),
}


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 30, 31, 32, 500])
@pytest.mark.parametrize("name", list(KEYSETS))
def test_pages_hold_every_row_once_in_order_when_keys_tie(
    db: Database, tied_items: list[Item], name: str, limit: int
) -> None:
    keyset = KEYSETS[name]
    sort = [keyset.key_of(item) for item in tied_items]
    if len(keyset.columns) > 1:
        assert len({key[:-1] for key in sort}) < len(sort)  # the sort key does tie
    expected = [key[-1] for key in sorted(sort, reverse=keyset.descending)]
    pages = list(_pages(db, keyset, limit))
    assert [row_id for page in pages for row_id in page] == expected
    assert all(len(page) == limit for page in pages[:-1])
    assert 1 <= len(pages[-1]) <= limit


def test_a_page_after_the_last_row_is_empty_and_ends(db: Database, tied_items: list[Item]) -> None:
    last = min(tied_items, key=lambda i: (i.received_at, i.id))
    with db.reader() as session:
        page = ITEMS.read(session, select(Item), ITEMS.key_of(last), 5)
    assert page == pagination.Page([], None)


def test_filters_and_the_keyset_combine(db: Database, tied_items: list[Item]) -> None:
    images = sorted(
        (i for i in tied_items if i.kind == "image"), key=lambda i: (i.received_at, i.id)
    )
    with db.reader() as session:
        first = ITEMS.read(session, select(Item).where(Item.kind == "image"), None, 4)
        assert first.next_cursor is not None
        rest = ITEMS.read(
            session, select(Item).where(Item.kind == "image"), ITEMS.decode(first.next_cursor), 50
        )
    assert [i.id for i in first.rows + rest.rows] == [i.id for i in reversed(images)]
    assert rest.next_cursor is None


def _plan(db: Database, stmt: Select[tuple[int]]) -> str:
    """The database's plan for ``stmt``, as radqc sends it (PostgreSQL: sequential scans off,
    so that an empty table is planned as a large one would be)."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.engine.connect() as conn:
            conn.execute(stmt).all()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    statement, parameters = sent[-1]
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            conn.rollback()
        else:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return "\n".join(str(row[-1]) for row in rows)


def test_a_deep_page_is_one_index_range(db: Database) -> None:
    """The keyset is a row comparison, ``(received_at, id) < (:a, :id)``: PostgreSQL bounds the
    index scan with it (the ``a < :a OR (a = :a AND id < :id)`` it replaced was a filter, which
    read and discarded every row before the cursor: 204 ms at 90% depth of a million items);
    SQLite searches the index from the cursor's time."""
    stmt = ITEMS.ordered(select(Item.id), (T0, 5)).limit(51)
    plan = _plan(db, stmt)
    if db.engine.dialect.name == "postgresql":
        assert "Index Cond: (ROW(received_at, id) < ROW(" in plan, plan
        assert "Filter" not in plan, plan
    else:
        assert "SEARCH items USING COVERING INDEX ix_items_received_id (received_at<?)" in plan
