"""A cancelled or entered-in-error Observation is written back once, and never again unless its
content changes (issue 11): not when a later version returns to what the server holds, not by
the backfill. A real worker against the recording server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from fhir_adapter.publisher import ObservationPublisher
from fhir_adapter.writeback import WritebackClient
from service.db import Database
from service.models import Observation, OutboxEntry
from service.outbox import run_backfill
from service.taxonomy import Severity
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.fhir_adapter.writeback_support import PUBLISHER, running_worker, settled, wait_until


@pytest.fixture
def server() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as running:
        yield running


def _typo(db: Database, item_id: int) -> Observation:
    with db.reader() as session:
        return session.scalars(
            select(Observation).where(
                Observation.item_id == item_id, Observation.code == "report.typo"
            )
        ).one()


def _entries(db: Database, observation_id: str) -> dict[int, tuple[str, int]]:
    with db.reader() as session:
        rows = session.scalars(
            select(OutboxEntry).where(OutboxEntry.observation_id == observation_id)
        )
        return {e.observation_version: (e.status, e.attempts) for e in rows}


def _deliver(db: Database, server: RecordingFHIRServer) -> None:
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        wait_until(lambda: settled(db))


def test_a_retired_observation_back_to_what_the_server_holds_is_not_sent_again(
    db: Database, server: RecordingFHIRServer
) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
    typo = _typo(db, item_id).id
    store_findings(db, item_id, [], publisher=PUBLISHER)  # the finding is gone: cancelled
    _deliver(db, server)
    assert [r.json()["status"] for r in server.accepted_puts(typo)] == ["cancelled"]

    # while no worker runs: found again (preliminary), gone again (cancelled, as delivered)
    store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
    store_findings(db, item_id, [], publisher=PUBLISHER)
    assert _typo(db, item_id).version == 4
    _deliver(db, server)
    assert len(server.accepted_puts(typo)) == 1  # the server holds version 4's content already
    assert _entries(db, typo) == {
        1: ("delivered", 1),
        2: ("delivered", 1),
        3: ("delivered", 0),
        4: ("delivered", 0),
    }

    # its content changes (found with another message, then gone): sent once more
    changed = [finding("report.typo", severity=Severity.MINOR, message="Another typo.")]
    store_findings(db, item_id, changed, publisher=PUBLISHER)
    store_findings(db, item_id, [], publisher=PUBLISHER)
    _deliver(db, server)
    statuses = [r.json()["status"] for r in server.accepted_puts(typo)]
    assert statuses == ["cancelled", "cancelled"]
    assert server.accepted_puts(typo)[-1].json()["note"][0]["text"] == "Another typo."


def test_backfill_leaves_out_a_retired_observation_the_server_holds(
    db: Database, server: RecordingFHIRServer
) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
    store_findings(db, item_id, [], publisher=PUBLISHER)
    _deliver(db, server)
    typo = _typo(db, item_id).id
    puts = len(server.accepted_puts())
    silent = ObservationPublisher(writeback_enabled=False)  # write-back switched off a while
    store_findings(db, item_id, [finding("report.typo")], publisher=silent)
    store_findings(db, item_id, [], publisher=silent)
    assert run_backfill(db) == 1  # the summary (its hasMember changed), not the finding
    _deliver(db, server)
    assert len(server.accepted_puts()) == puts + 1
    assert len(server.accepted_puts(typo)) == 1
