"""Refusals handled (issue 11): a hospital server that refuses an Observation (a 4xx other than
408/409/429) is tried a few times, then the outbox entry is ``refused`` with its
OperationOutcome, counted, and left alone; a summary refused because its finding was refused
does not loop, and goes out once the finding does. Outages stay outages.

Every test runs a real worker against the recording server on loopback.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from fhir_adapter.publisher import ObservationPublisher
from fhir_adapter.writeback import WritebackClient, is_outage
from service.db import Database
from service.models import Observation, OutboxEntry
from service.outbox import (
    discard,
    get_entry,
    retry,
    run_backfill,
    writeback_states,
)
from service.taxonomy import Severity
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.fhir_adapter.writeback_support import (
    PUBLISHER,
    assert_summaries_after_their_members,
    publish_reports,
    running_worker,
    settled,
    stored,
    wait_until,
)

# what a hospital server's diagnostics may echo: the report text (a canary: never logged)
ECHOED = "Observation.note[0]: text 'quillfeather left lung' does not match the profile"


@pytest.fixture
def server() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as running:
        yield running


def refused_count() -> float:
    return REGISTRY.get_sample_value("radqc_writeback_total", {"outcome": "refused"}) or 0.0


def observation_of(db: Database, item_id: int, code: str) -> Observation:
    with db.reader() as session:
        return session.scalars(
            select(Observation).where(Observation.item_id == item_id, Observation.code == code)
        ).one()


def entries_by_status(db: Database) -> dict[str, int]:
    counts: dict[str, int] = {}
    with db.reader() as session:
        for entry in session.scalars(select(OutboxEntry)):
            counts[entry.status] = counts.get(entry.status, 0) + 1
    return counts


def puts_to(server: RecordingFHIRServer, observation_id: str) -> list[int | None]:
    return [r.status for r in server.puts() if r.path.endswith(f"/{observation_id}")]


@pytest.mark.parametrize("status", [400, 403, 404, 412, 422])
def test_a_refused_finding_and_its_summary_stop_and_go_out_once_retried(
    db: Database, server: RecordingFHIRServer, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    items = publish_reports(db, 3)
    typo = observation_of(db, items[1], "report.typo")
    summary = observation_of(db, items[1], "qc.summary")
    server.strict_members = True  # like a server that resolves references
    server.refuse_ids[typo.id] = (status, ECHOED)
    before = refused_count()
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        wait_until(lambda: settled(db))
        time.sleep(0.5)  # nothing loops: no job is left, no PUT comes later
        puts = len(server.puts())
        time.sleep(0.5)
        assert len(server.puts()) == puts
        assert puts_to(server, typo.id) == [status] * 3
        assert puts_to(server, summary.id) == [422] * 3  # its hasMember is not on the server
        assert entries_by_status(db) == {"delivered": 7, "refused": 2}
        assert refused_count() - before == 2
        with db.reader() as session:
            states = writeback_states(session, [typo.id, summary.id], enabled=True)
            entry, _ = get_entry(session, states[typo.id].entry_id or 0)
        assert states[typo.id].state == states[summary.id].state == "refused"
        assert states[typo.id].http_status == status
        assert entry.outcome_json is not None
        assert json.loads(entry.outcome_json)["issue"][0]["diagnostics"] == ECHOED  # kept
        assert "quillfeather" in (entry.last_error or "")

        # the hospital fixes its profile; an admin retries the finding: the summary follows
        del server.refuse_ids[typo.id]
        with db.transaction() as session:
            assert retry(session, [get_entry(session, entry.id)[0]]) == 1
        wait_until(lambda: settled(db))
    assert entries_by_status(db) == {"delivered": 9}
    assert puts_to(server, typo.id) == [status] * 3 + [201]
    assert puts_to(server, summary.id) == [422] * 3 + [201]
    assert len(server.accepted_puts()) == 9
    assert_summaries_after_their_members(db, server)
    assert "quillfeather" not in caplog.text
    assert not any("quillfeather" in str(r.args) for r in caplog.records)


@pytest.mark.parametrize("status", [408, 409, 429, 500, 503])
def test_an_outage_answer_is_never_a_refusal(
    db: Database, server: RecordingFHIRServer, status: int
) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [], publisher=PUBLISHER)
    summary = observation_of(db, item_id, "qc.summary")
    server.refuse_ids[summary.id] = (status, "busy")
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        wait_until(lambda: len(puts_to(server, summary.id)) >= 5)  # more than max_refusals
        with db.reader() as session:
            entry = session.scalars(select(OutboxEntry)).one()
        assert (entry.status, entry.refusals, entry.http_status) == ("pending", 0, status)
        del server.refuse_ids[summary.id]
        wait_until(lambda: settled(db))
    assert entries_by_status(db) == {"delivered": 1}


@pytest.mark.parametrize(
    ("status", "outage"),
    [(400, False), (401, False), (403, False), (404, False), (408, True), (409, True),
     (410, False), (412, False), (422, False), (429, True), (500, True), (502, True),
     (503, True), (504, True), (301, False)],
)  # fmt: skip
def test_which_answers_are_outages(status: int, outage: bool) -> None:
    assert is_outage(status) is outage


def test_a_later_version_delivered_supersedes_a_refused_one(
    db: Database, server: RecordingFHIRServer
) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
    typo = observation_of(db, item_id, "report.typo")
    server.refuse_ids[typo.id] = (422, "bad")
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        wait_until(lambda: settled(db))
        assert entries_by_status(db) == {"delivered": 1, "refused": 1}
        del server.refuse_ids[typo.id]
        changed = [finding("report.typo", severity=Severity.CRITICAL, message="Changed.")]
        store_findings(db, item_id, changed, publisher=PUBLISHER)
        wait_until(lambda: settled(db))
    with db.reader() as session:
        versions = {
            e.observation_version: e.status
            for e in session.scalars(
                select(OutboxEntry).where(OutboxEntry.observation_id == typo.id)
            )
        }
    assert versions == {1: "superseded", 2: "delivered"}
    assert puts_to(server, typo.id) == [422, 422, 422, 201]


def test_backfill_queues_what_was_published_while_write_back_was_off(
    db: Database, server: RecordingFHIRServer
) -> None:
    silent = ObservationPublisher(writeback_enabled=False)
    for n in range(3):
        item_id = add_report_item(db, f"old{n}")
        store_findings(db, item_id, [finding("report.typo")], publisher=silent)
    # a finding gone before write-back was switched on: cancelled, never sent, not backfilled
    store_findings(db, item_id, [], publisher=silent)
    with db.reader() as session:
        assert session.scalars(select(OutboxEntry)).first() is None
        assert session.scalars(select(Observation).where(Observation.status == "cancelled")).one()
    assert run_backfill(db) == 5  # 3 summaries, 2 findings
    assert run_backfill(db) == 0  # queued already
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        wait_until(lambda: settled(db))
    assert entries_by_status(db) == {"delivered": 5}
    assert len(server.accepted_puts()) == 5
    assert run_backfill(db) == 0


def test_a_discarded_entry_is_not_sent(db: Database, server: RecordingFHIRServer) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
    typo = observation_of(db, item_id, "report.typo")
    with db.transaction() as session:
        entry = session.scalars(
            select(OutboxEntry).where(OutboxEntry.observation_id == typo.id)
        ).one()
        discard(session, entry, "admin:test")
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        wait_until(lambda: settled(db))
    assert puts_to(server, typo.id) == []
    assert entries_by_status(db) == {"delivered": 1, "discarded": 1}  # the summary went


@pytest.mark.timeout(120)
def test_delivery_counts_under_refusal_and_outage(
    db: Database, server: RecordingFHIRServer
) -> None:
    """The measurement for the issue's note: 20 reports (60 Observations), an outage (dropped
    connections, then 503 with Retry-After), one finding refused for good and its summary
    refused by a server that resolves hasMember. Every other version is accepted exactly once;
    the two refused ones are tried three times each and then left alone."""
    items = publish_reports(db, 20)
    typo = observation_of(db, items[7], "report.typo")
    server.strict_members = True
    server.refuse_ids[typo.id] = (422, ECHOED)
    server.drop_for(1.0)
    started = time.monotonic()
    with WritebackClient(db, server.base_url, timeout=2.0) as client, running_worker(db, client):
        wait_until(lambda: time.monotonic() > started + 1.0)
        server.refuse_for(1.0, retry_after=1)
        wait_until(lambda: settled(db), timeout=90)
    seconds = time.monotonic() - started
    counts = entries_by_status(db)
    puts = server.puts()
    accepted = server.accepted_puts()
    rows = stored(db)
    per_observation = {oid: len(server.accepted_puts(oid)) for oid in rows}
    print(
        f"\nwrite-back under outage and refusal: {len(rows)} observations, {len(puts)} PUTs "
        f"({sum(r.status is None for r in puts)} dropped, "
        f"{sum(r.status == 503 for r in puts)} x 503, "
        f"{sum(r.status == 422 for r in puts)} x 422, {len(accepted)} accepted), "
        f"outbox {counts}, settled in {seconds:.1f} s"
    )
    assert counts == {"delivered": 58, "refused": 2}
    assert sorted(set(per_observation.values())) == [0, 1]
    summary = observation_of(db, items[7], "qc.summary")
    assert {oid for oid, n in per_observation.items() if n == 0} == {typo.id, summary.id}
    assert sum(r.status == 422 for r in puts) == 6
    assert_summaries_after_their_members(db, server)
