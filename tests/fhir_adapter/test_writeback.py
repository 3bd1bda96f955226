"""Write-back against a real HTTP server on loopback, driven by a real worker.

The recording server refuses (503 + Retry-After) or drops connections for a while; nothing may
be lost, and every Observation version must be accepted exactly once.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from fhir_adapter.writeback import WritebackClient, outcome_diagnostics
from service.db import Database
from service.errors import DeliveryError
from service.models import Observation, OutboxEntry
from service.retry import parse_retry_after
from service.taxonomy import Severity
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.fhir_adapter.support import add_report_item, finding, store_findings
from tests.fhir_adapter.writeback_support import (
    PUBLISHER,
    all_delivered,
    as_sent,
    assert_each_version_accepted_once,
    assert_summaries_after_their_members,
    claim_writeback,
    publish_reports,
    running_worker,
    stored,
    wait_until,
)


@pytest.fixture
def server() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as running:
        yield running


def test_an_outage_loses_nothing_and_each_version_is_accepted_once(
    db: Database, server: RecordingFHIRServer
) -> None:
    publish_reports(db, 3)
    server.drop_for(60)  # first the server drops every connection
    with WritebackClient(db, server.base_url, timeout=2.0) as client, running_worker(db, client):
        wait_until(lambda: len(server.puts()) >= 9)
        server.drop_until = 0.0
        server.refuse_for(60, retry_after=1)  # then it refuses with 503 and Retry-After
        wait_until(lambda: sum(r.status == 503 for r in server.puts()) >= 9)
        assert not server.accepted_puts()
        server.refuse_until = 0.0
        wait_until(lambda: all_delivered(db))
        assert {r.status for r in server.puts() if not r.accepted} == {503, None}
        assert_each_version_accepted_once(db, server)
        for obs_id in stored(db):  # the worker waited as long as Retry-After asked
            attempts = [r for r in server.puts() if r.path.endswith(obs_id)]
            for refused, following in itertools.pairwise(attempts):
                if refused.status == 503:
                    assert following.at - refused.at >= 0.9
        with db.reader() as session:
            entries = session.execute(
                select(OutboxEntry, Observation.code).join(
                    Observation, Observation.id == OutboxEntry.observation_id
                )
            ).all()
        assert len(entries) == 9
        assert all(e.delivered_at is not None and e.refusals == 0 for e, _ in entries)
        # findings were tried through the outage; a summary waited for its findings
        assert all(e.attempts >= 2 for e, code in entries if code != "qc.summary")
        assert all(e.attempts == 1 for e, code in entries if code == "qc.summary")
        assert_summaries_after_their_members(db, server)

        # a changed finding afterwards: only its Observation is sent again, once
        store_findings(
            db,
            1,
            [finding("report.laterality", severity=Severity.CRITICAL), finding("report.typo")],
            publisher=PUBLISHER,
        )
        wait_until(lambda: all_delivered(db))
    rows = stored(db)
    changed = [obs_id for obs_id, row in rows.items() if row.version == 2]
    assert len(changed) == 1
    assert len(server.accepted_puts(changed[0])) == 2
    assert server.accepted_puts(changed[0])[-1].json() == as_sent(db, rows[changed[0]])
    assert sum(len(server.accepted_puts(i)) for i in rows) == 10


def test_a_version_published_while_the_put_is_in_flight_is_sent_next(
    db: Database, server: RecordingFHIRServer
) -> None:
    (item_id,) = publish_reports(db, 1)
    first = {row.code: row for row in stored(db).values()}
    in_flight: list[str] = []

    def change_once(path: str) -> None:  # runs in the server while radqc waits for the answer
        obs_id = path.rsplit("/", 1)[1]
        if not in_flight and obs_id != first["qc.summary"].id:
            in_flight.append(obs_id)
            store_findings(
                db,
                item_id,
                [
                    finding("report.laterality", message="Changed."),
                    finding("report.typo", message="Changed too."),
                ],
                publisher=PUBLISHER,
            )

    server.on_put = change_once
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        wait_until(lambda: all_delivered(db))
    rows = stored(db)
    (sent_twice,) = in_flight
    assert rows[sent_twice].version == 2
    accepted = server.accepted_puts(sent_twice)
    assert [r.json() for r in accepted] == [
        as_sent(db, next(r for r in first.values() if r.id == sent_twice)),
        as_sent(db, rows[sent_twice]),
    ]
    for obs_id, row in rows.items():  # the others went out once, as they are now
        if obs_id != sent_twice:
            assert [r.json() for r in server.accepted_puts(obs_id)] == [as_sent(db, row)]


def test_a_restart_delivers_what_was_pending(
    database_url: str, server: RecordingFHIRServer
) -> None:
    first_db = Database(database_url)
    publish_reports(first_db, 2)
    server.drop_for(60)
    with (
        WritebackClient(first_db, server.base_url, timeout=2.0) as client,
        running_worker(first_db, client),
    ):
        wait_until(lambda: len(server.puts()) >= 6)
    first_db.dispose()
    assert not server.accepted_puts()

    server.drop_until = 0.0  # the hospital server is back; radqc starts again
    db = Database(database_url)
    try:
        with (
            WritebackClient(db, server.base_url, timeout=2.0) as client,
            running_worker(db, client),
        ):
            wait_until(lambda: all_delivered(db))
        assert len(stored(db)) == 6
        assert_each_version_accepted_once(db, server)
    finally:
        db.dispose()


def test_a_refusal_is_retried_then_refused_and_an_outage_is_not_counted(
    db: Database, server: RecordingFHIRServer
) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [], publisher=PUBLISHER)  # just the summary
    server.reject = True
    with WritebackClient(db, server.base_url, timeout=2.0, max_refusals=2) as client:
        job = claim_writeback(db)
        with pytest.raises(DeliveryError, match=r"HTTP 400 .*refusal 1 of 2") as raised:
            client.deliver(job)
        assert raised.value.retry_after is None
        assert "unknown system" not in str(raised.value)  # the diagnostics are not raised
        server.reject = False
        server.refuse_for(30, retry_after=7)
        with pytest.raises(DeliveryError, match="HTTP 503") as raised:
            client.deliver(job)
        assert raised.value.retry_after == 7
        with db.reader() as session:
            entry = session.scalars(select(OutboxEntry)).one()
        assert (entry.status, entry.attempts, entry.refusals) == ("pending", 2, 1)
        assert entry.last_error is not None
        assert "503" in entry.last_error
        server.refuse_until = 0.0
        server.reject = True
        client.deliver(job)  # the second refusal: refused, and the job ends without an error
    with db.reader() as session:
        entry = session.scalars(select(OutboxEntry)).one()
    assert (entry.status, entry.attempts, entry.refusals) == ("refused", 3, 2)
    assert entry.http_status == 400
    assert entry.last_error is not None
    assert "unknown system" in entry.last_error  # kept for admins
    assert entry.outcome_json is not None
    assert json.loads(entry.outcome_json)["issue"][0]["diagnostics"] == (
        "Observation.code: unknown system"
    )


def test_an_unreachable_server_and_nothing_pending(db: Database) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [], publisher=PUBLISHER)
    with running_fhir_server() as gone:
        dead_url = gone.base_url
    with WritebackClient(db, dead_url, timeout=2.0) as client:
        job = claim_writeback(db)
        with pytest.raises(DeliveryError, match="cannot reach") as raised:
            client.deliver(job)
        assert isinstance(raised.value.__cause__, Exception)
    with (
        running_fhir_server() as server,
        WritebackClient(db, server.base_url, timeout=2.0) as client,
    ):
        client.deliver(job)
        client.deliver(job)  # delivered already: nothing is sent again
        assert len(server.puts()) == 1
        assert len(server.accepted_puts()) == 1


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("5", 5.0),
        (" 0 ", 0.0),
        ("999999", 3600.0),
        ("soon", None),
        ("Wed, 01 May 2024 10:00:30 GMT", 30.0),
        ("Wed, 01 May 2024 09:59:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    now = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)
    assert parse_retry_after(header, now=now) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"<html>Bad Gateway</html>", ""),
        (b'{"resourceType": "Patient"}', ""),
        (b'{"resourceType": "OperationOutcome", "issue": "nope"}', ""),
        (
            b'{"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": '
            b'"invalid", "details": {"text": "bad"}}, "x", {"code": "value", "diagnostics": '
            b'"Observation.code"}]}',
            "error invalid: bad; ? value: Observation.code",
        ),
    ],
)
def test_outcome_diagnostics(body: bytes, expected: str) -> None:
    assert outcome_diagnostics(httpx.Response(400, content=body)) == expected
