"""The item's API view shows each Observation's write-back state (issue 11): ``GET
/api/v1/items/{id}`` gives every Observation link a ``writeback`` with the state of its current
version, from the outbox (:func:`service.outbox.writeback_states`). Real app under uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from fhir_adapter.publisher import ObservationPublisher
from service.config import Settings
from service.db import Database
from service.models import Observation, OutboxEntry
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.service.api.conftest import READER, make_app, make_components
from tests.support.servers import serve_app


def publish(db: Database, *, writeback: bool) -> int:
    """A report item with a typo finding and its summary, published (and queued if on)."""
    item_id = add_report_item(db)
    publisher = ObservationPublisher(writeback_enabled=writeback)
    store_findings(db, item_id, [finding("report.typo")], publisher=publisher)
    return item_id


def refuse_the_summary(db: Database) -> None:
    with db.transaction() as session:
        session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.observation_id.in_(
                    select(Observation.id).where(Observation.code == "qc.summary")
                )
            )
            .values(
                status="refused",
                refusals=3,
                attempts=3,
                http_status=422,
                last_error="HTTP 422 from the FHIR server: error processing: unknown reference",
            )
        )


def served(settings: Settings, db: Database, writeback_url: str) -> Iterator[httpx.Client]:
    on = settings.model_copy(update={"fhir_writeback_url": writeback_url})
    with (
        serve_app(make_app(make_components(on, db))) as url,
        httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {READER}"}, timeout=10
        ) as http,
    ):
        yield http


@pytest.fixture
def writeback_on(settings: Settings, db: Database) -> Iterator[httpx.Client]:
    """The app with write-back configured (nothing listens there: no worker runs here)."""
    yield from served(settings, db, "http://127.0.0.1:9/fhir")


@pytest.fixture
def writeback_off(settings: Settings, db: Database) -> Iterator[httpx.Client]:
    yield from served(settings, db, "")


def links_by_code(http: httpx.Client, item_id: int) -> dict[str, dict[str, Any]]:
    answer = http.get(f"/api/v1/items/{item_id}")
    assert answer.status_code == 200
    return {link["code"]: link for link in answer.json()["observations"]}


def test_a_refused_observation_shows_refused_with_its_http_status(
    writeback_on: httpx.Client, db: Database
) -> None:
    item_id = publish(db, writeback=True)
    refuse_the_summary(db)
    links = links_by_code(writeback_on, item_id)
    assert set(links) == {"report.typo", "qc.summary"}
    summary = links["qc.summary"]["writeback"]
    assert summary["state"] == "refused"
    assert summary["http_status"] == 422
    assert (summary["refusals"], summary["attempts"], summary["version"]) == (3, 3, 1)
    assert isinstance(summary["entry_id"], int)
    typo = links["report.typo"]["writeback"]
    assert (typo["state"], typo["http_status"], typo["attempts"]) == ("waiting", None, 0)


def test_every_state_of_the_current_version_is_shown(
    writeback_on: httpx.Client, db: Database
) -> None:
    item_id = publish(db, writeback=True)
    for status, attempts, expected in (
        ("pending", 2, "retrying"),
        ("delivered", 1, "delivered"),
        ("discarded", 0, "discarded"),
        ("superseded", 3, "superseded"),
    ):
        with db.transaction() as session:
            session.execute(update(OutboxEntry).values(status=status, attempts=attempts))
        links = links_by_code(writeback_on, item_id)
        assert {link["writeback"]["state"] for link in links.values()} == {expected}


def test_published_while_write_back_was_off(
    writeback_on: httpx.Client, writeback_off: httpx.Client, db: Database
) -> None:
    item_id = publish(db, writeback=False)
    on = links_by_code(writeback_on, item_id)
    assert {link["writeback"]["state"] for link in on.values()} == {"not queued"}
    assert {link["writeback"]["entry_id"] for link in on.values()} == {None}
    off = links_by_code(writeback_off, item_id)
    assert {link["writeback"]["state"] for link in off.values()} == {"off"}
