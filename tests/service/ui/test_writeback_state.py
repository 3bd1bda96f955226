"""The pages show each Observation's write-back state as the outbox knows it (issue 11): a
refused, discarded or superseded entry reads as such, never as "retrying"; the item page and
the dashboard's summary line agree with the item's REST view (:func:`service.outbox.
writeback_states`). Real app under uvicorn, SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update

from fhir_adapter.publisher import ObservationPublisher
from service.config import Settings
from service.db import Database
from service.models import Observation, OutboxEntry
from service.ui.writeback import writeback_rows, writeback_summary
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.service.api.conftest import AUDITOR, make_app, make_components
from tests.support.servers import serve_app


@pytest.fixture
def item_id(db: Database) -> int:
    """A report item: a typo finding, a terminology finding and the summary, all queued."""
    item_id = add_report_item(db)
    store_findings(
        db,
        item_id,
        [finding("report.typo"), finding("report.terminology")],
        publisher=ObservationPublisher(writeback_enabled=True),
    )
    return item_id


@pytest.fixture
def ui(settings: Settings, db: Database) -> Iterator[httpx.Client]:
    on = settings.model_copy(update={"fhir_writeback_url": "http://127.0.0.1:9/fhir"})
    with (
        serve_app(make_app(make_components(on, db))) as url,
        httpx.Client(base_url=url, cookies={"radqc_token": AUDITOR}, timeout=20) as client,
    ):
        yield client


def set_entry(db: Database, code: str, **values: object) -> None:
    with db.transaction() as session:
        session.execute(
            update(OutboxEntry)
            .where(
                OutboxEntry.observation_id.in_(
                    select(Observation.id).where(Observation.code == code)
                )
            )
            .values(**values)
        )


def test_refused_discarded_and_superseded_are_shown_as_such(
    ui: httpx.Client, db: Database, item_id: int
) -> None:
    # each entry tried before (attempts > 0): none of them may read as "retrying"
    set_entry(db, "qc.summary", status="refused", attempts=3, refusals=3, http_status=422)
    set_entry(db, "report.typo", status="discarded", attempts=2)
    set_entry(db, "report.terminology", status="superseded", attempts=1, http_status=404)

    with db.reader() as session:
        rows = writeback_rows(session, item_id, enabled=True)
        line = writeback_summary(session, [item_id], enabled=True)[item_id]
    assert {row.code: row.delivery.state for row in rows} == {
        "qc.summary": "refused",
        "report.typo": "discarded",
        "report.terminology": "superseded",
    }
    assert line == "1 refused, 1 discarded, 1 superseded"

    page = ui.get(f"/ui/items/{item_id}")
    assert page.status_code == 200
    states = re.findall(r'<tr data-state="([^"]+)">', page.text)
    assert sorted(states) == ["discarded", "refused", "superseded"]
    assert "retrying" not in page.text
    assert "refused (attempt 3, HTTP 422)" in page.text

    dashboard = ui.get("/ui/dashboard", params={"flagged": "any"}).text
    row = re.search(rf'<tr data-item="{item_id}">.*?</tr>', dashboard, re.S)
    assert row is not None and "1 refused, 1 discarded, 1 superseded" in row.group(0)


def test_a_pending_entry_tried_before_is_retrying(
    ui: httpx.Client, db: Database, item_id: int
) -> None:
    set_entry(db, "qc.summary", attempts=2, http_status=503)
    with db.reader() as session:
        line = writeback_summary(session, [item_id], enabled=True)[item_id]
    assert line == "1 retrying, 2 waiting"
    page = ui.get(f"/ui/items/{item_id}").text
    assert sorted(re.findall(r'<tr data-state="([^"]+)">', page)) == [
        "retrying",
        "waiting",
        "waiting",
    ]
