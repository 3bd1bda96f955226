"""Paging through every REST list over real HTTP, on SQLite and PostgreSQL: each row exactly
once when rows share a timestamp, and a 400 with a message for a cursor the list did not issue
(another list's, or one of the schemes before the one in :mod:`service.api.pagination`)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from service.components import Components
from service.loop.models import EvaluationRun, ShadowResult
from service.models import Item
from tests.service.api.support import add_report

SAME_TIME = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
N_ROWS = 13


def _page_through(
    client: httpx.Client, path: str, field: str, limit: int, **params: Any
) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor: str | None = None
    for _ in range(100):  # a cursor that never ends is a failure, not a hang
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([row["id"] for row in body[field]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("pagination did not end")


def _every_row_once(pages: list[list[int]], expected: list[int], limit: int) -> None:
    assert [row_id for page in pages for row_id in page] == expected, limit
    assert all(len(page) == limit for page in pages[:-1])
    assert len(pages[-1]) <= limit


@pytest.fixture
def config_id(client: httpx.Client) -> int:
    """The configuration the server recorded from its settings at start-up."""
    engines: list[dict[str, Any]] = client.get("/api/v1/engines").json()["engines"]
    return int(engines[0]["id"])


@pytest.fixture
def shadow_ids(comps: Components, config_id: int) -> list[int]:
    """Shadow results of one configuration, all stored at the same instant; newest first."""
    items = [add_report(comps, f"shadow-{n}") for n in range(N_ROWS)]
    with comps.db.transaction() as session:
        rows = [
            ShadowResult(
                config_id=config_id,
                item_id=item_id,
                source="replay",
                findings=[],
                codes=[],
                error=None,
                created_at=SAME_TIME,
            )
            for item_id in items
        ]
        session.add_all(rows)
        session.flush()
        return sorted((row.id for row in rows), reverse=True)


@pytest.fixture
def run_ids(comps: Components) -> list[int]:
    """Stored evaluation runs, all created at the same instant; newest first."""
    with comps.db.transaction() as session:
        rows = [
            EvaluationRun(
                created_at=SAME_TIME,
                created_by="tester",
                engine=None,
                kind=None,
                since=None,
                until=None,
                n_items=0,
                metrics={},
                sample=[],
            )
            for _ in range(N_ROWS)
        ]
        session.add_all(rows)
        session.flush()
        return sorted((row.id for row in rows), reverse=True)


@pytest.mark.parametrize("limit", [1, 2, 5, N_ROWS - 1, N_ROWS, 50])
def test_shadow_results_page_through_every_row_once(
    client: httpx.Client, config_id: int, shadow_ids: list[int], limit: int
) -> None:
    path = f"/api/v1/engines/{config_id}/results"
    _every_row_once(_page_through(client, path, "results", limit), shadow_ids, limit)


@pytest.mark.parametrize("limit", [1, 2, 5, N_ROWS - 1, N_ROWS, 50])
def test_evaluation_runs_page_through_every_row_once(
    client: httpx.Client, run_ids: list[int], limit: int
) -> None:
    pages = _page_through(client, "/api/v1/evaluations", "runs", limit)
    _every_row_once(pages, run_ids, limit)


def test_items_page_through_every_row_once_when_all_share_a_time(
    client: httpx.Client, comps: Components
) -> None:
    ids = [add_report(comps, f"rep-{n}") for n in range(N_ROWS)]
    with comps.db.transaction() as session:
        for item in session.scalars(select(Item).where(Item.id.in_(ids))):
            item.received_at = SAME_TIME
    for limit in (1, 4, N_ROWS):
        pages = _page_through(client, "/api/v1/items", "items", limit)
        _every_row_once(pages, sorted(ids, reverse=True), limit)


def _old_items_cursor(item_id: int) -> str:
    """The items cursor before the one scheme: ``v1:<micros>:<id>`` and a 6-byte checksum."""
    payload = f"v1:{int(SAME_TIME.timestamp()) * 10**6}:{item_id}".encode()
    check = hashlib.blake2b(payload, digest_size=6, person=b"radqc-cursor").digest()
    return base64.urlsafe_b64encode(payload + check).decode().rstrip("=")


def test_a_cursor_of_another_list_or_an_earlier_scheme_is_a_400_with_a_message(
    client: httpx.Client, config_id: int, shadow_ids: list[int], run_ids: list[int]
) -> None:
    lists = {
        "/api/v1/items": "items",
        f"/api/v1/engines/{config_id}/results": "results",
        "/api/v1/evaluations": "runs",
    }
    cursors = {path: client.get(path, params={"limit": 1}).json()["next_cursor"] for path in lists}
    assert all(cursors.values())
    earlier = [str(shadow_ids[0]), str(run_ids[0]), _old_items_cursor(shadow_ids[0])]
    for path in lists:
        others = [cursor for other, cursor in cursors.items() if other != path]
        for bad in [*others, *earlier]:
            response = client.get(path, params={"cursor": bad})
            assert response.status_code == 400, (path, bad, response.text)
            message = response.json()["message"]
            assert "invalid cursor" in message and "first page" in message, message
        assert client.get(path, params={"cursor": cursors[path]}).status_code == 200
