"""The write-back outbox over REST (issue 11): admins list, read, retry and discard entries and
backfill the outbox; other roles may not. Real app under uvicorn, real databases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update

from fhir_adapter.publisher import ObservationPublisher
from service.api import pagination
from service.components import Components
from service.config import Settings
from service.db import Database
from service.models import Observation, OutboxEntry
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.service.api.conftest import ADMIN, AUDITOR, READER, make_app, make_components
from tests.support.servers import serve_app

OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "processing", "diagnostics": "hasMember unknown"}],
}


def admin(base_url: str) -> httpx.Client:
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)


def seed(db: Database, *, writeback: bool = True) -> int:
    """One report item: a typo finding and the summary; the summary's entry refused."""
    item_id = add_report_item(db)
    publisher = ObservationPublisher(writeback_enabled=writeback)
    store_findings(db, item_id, [finding("report.typo")], publisher=publisher)
    if writeback:
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
                    outcome_json=json.dumps(OUTCOME),
                    last_error="HTTP 422 from the FHIR server: error processing: hasMember unknown",
                )
            )
    return item_id


@pytest.fixture
def enabled(settings: Settings, db: Database) -> Iterator[str]:
    """The app with write-back configured (nothing listens there: no worker runs here)."""
    on = settings.model_copy(update={"fhir_writeback_url": "http://127.0.0.1:9/fhir"})
    with serve_app(make_app(make_components(on, db))) as url:
        yield url


def test_only_admins_see_the_outbox(base_url: str, db: Database) -> None:
    seed(db)
    for token, status in ((READER, 403), (AUDITOR, 403), (None, 401)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        answer = httpx.get(f"{base_url}/api/v1/outbox", headers=headers, timeout=10)
        assert answer.status_code == status
        answer = httpx.post(f"{base_url}/api/v1/outbox/backfill", headers=headers, timeout=10)
        assert answer.status_code == status


def test_list_read_retry_and_discard(base_url: str, db: Database) -> None:
    item_id = seed(db)
    with admin(base_url) as http:
        page = http.get("/api/v1/outbox").json()
        assert [e["status"] for e in page["entries"]] == ["refused", "pending"]
        assert page["next_cursor"] is None
        refused = http.get("/api/v1/outbox", params={"status": "refused"}).json()["entries"]
        (entry,) = refused
        assert entry["code"] == "qc.summary"
        assert entry["item_id"] == item_id
        assert entry["http_status"] == 422
        assert entry["outcome"] == OUTCOME
        assert entry["url"] == f"/fhir/Observation/{entry['observation_id']}"
        assert http.get(f"/api/v1/outbox/{entry['id']}").json() == entry

        first = http.get("/api/v1/outbox", params={"limit": 1}).json()
        second = http.get("/api/v1/outbox", params={"limit": 1, "cursor": first["next_cursor"]})
        assert second.json()["entries"][0]["status"] == "pending"
        for garbage in ("x", str(entry["id"]), str(entry["id"] + 1), first["next_cursor"] + "A"):
            answer = http.get("/api/v1/outbox", params={"cursor": garbage})
            assert answer.status_code == 400  # bare ids (the old cursors) included
            assert "invalid cursor" in answer.json()["message"]
        items_cursor = pagination.ITEMS.encode((dt.datetime.now(dt.UTC), entry["id"]))
        assert http.get("/api/v1/outbox", params={"cursor": items_cursor}).status_code == 400
        assert http.get("/api/v1/outbox", params={"item_id": item_id + 1}).json()["entries"] == []

        retried = http.post(f"/api/v1/outbox/{entry['id']}/retry").json()
        assert (retried["status"], retried["refusals"], retried["outcome"]) == ("pending", 0, None)
        discarded = http.post(f"/api/v1/outbox/{entry['id']}/discard").json()
        assert discarded["status"] == "discarded"
        assert discarded["last_error"].startswith("discarded by admin")
        assert http.post(f"/api/v1/outbox/{entry['id']}/discard").status_code == 409
        assert http.post(f"/api/v1/outbox/{entry['id']}/retry").json()["status"] == "pending"
        assert http.post("/api/v1/outbox/999999/retry").status_code == 404
        assert http.get("/api/v1/outbox/999999").status_code == 404

    with db.transaction() as session:
        session.execute(update(OutboxEntry).values(status="delivered"))
    with admin(base_url) as http:
        answer = http.post(f"/api/v1/outbox/{entry['id']}/retry")
        assert answer.status_code == 409
        assert "delivered" in answer.json()["message"]


def test_retry_every_refused_entry(base_url: str, db: Database) -> None:
    seed(db)
    with admin(base_url) as http:
        assert http.post("/api/v1/outbox/retry-refused").json() == {"count": 1}
        assert http.post("/api/v1/outbox/retry-refused").json() == {"count": 0}
        assert http.get("/api/v1/outbox", params={"status": "refused"}).json()["entries"] == []


def test_backfill_needs_write_back_and_queues_once(
    base_url: str, enabled: str, db: Database
) -> None:
    seed(db, writeback=False)
    with admin(base_url) as http:  # write-back off here
        answer = http.post("/api/v1/outbox/backfill")
        assert answer.status_code == 409
        assert "write-back is off" in answer.json()["message"]
    with admin(enabled) as http:
        assert http.post("/api/v1/outbox/backfill").json() == {"count": 2}
        assert http.post("/api/v1/outbox/backfill").json() == {"count": 0}
        entries = http.get("/api/v1/outbox").json()["entries"]
    assert {e["status"] for e in entries} == {"pending"}


def test_the_item_view_helper_shows_each_observation_state(comps: Components) -> None:
    from service.outbox import writeback_states

    item_id = seed(comps.db)
    with comps.db.reader() as session:
        ids = list(session.scalars(select(Observation.id).where(Observation.item_id == item_id)))
        states = writeback_states(session, ids, enabled=True)
        off = writeback_states(session, ids, enabled=False)
    assert sorted(s.state for s in states.values()) == ["refused", "waiting"]
    assert {s.http_status for s in states.values()} == {422, None}
    assert sorted(s.state for s in off.values()) == ["refused", "waiting"]  # entries exist


def test_an_old_version_is_not_sent_again_after_a_later_one_was_delivered(
    base_url: str, db: Database
) -> None:
    item_id = add_report_item(db)
    publisher = ObservationPublisher(writeback_enabled=True)
    store_findings(db, item_id, [finding("report.typo")], publisher=publisher)
    store_findings(db, item_id, [finding("report.typo", message="Changed.")], publisher=publisher)
    with db.transaction() as session:
        old, new = session.scalars(
            select(OutboxEntry)
            .join(Observation, Observation.id == OutboxEntry.observation_id)
            .where(Observation.code == "report.typo")
            .order_by(OutboxEntry.observation_version)
        ).all()
        old.status, new.status = "discarded", "delivered"
        old_id = old.id
    with admin(base_url) as http:
        answer = http.post(f"/api/v1/outbox/{old_id}/retry")
    assert answer.status_code == 409
    assert "later version was delivered" in answer.json()["message"]
