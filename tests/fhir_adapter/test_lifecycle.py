"""An Observation's lifecycle (issue 11, part 4), on real SQLite and PostgreSQL: a newer version
of a report or image retires the older version's Observations once, a withdrawn report makes
them entered-in-error, verdicts and audits set final, and each change is written back to a real
HTTP server exactly once."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from fhir_adapter.publisher import ObservationPublisher
from fhir_adapter.search import parse_search
from fhir_adapter.writeback import WritebackClient
from service.db import Database
from service.findings import replace_findings
from service.loop.audit import AuditRequest, AuditService, VerdictIn, observation_status
from service.models import FindingRow, Item, ItemStatus, Observation, OutboxEntry
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.fhir_adapter.support import (
    PROCESSED_AT,
    add_image_item,
    add_report_item,
    finding,
    store_findings,
    validate,
)
from tests.fhir_adapter.writeback_support import (
    all_delivered,
    as_sent,
    running_worker,
    settled,
    stored,
    wait_until,
)

PUBLISHER = ObservationPublisher(writeback_enabled=True)
REPORT_NOTE = "Superseded: version 2 of this report replaces version 1; "
IMAGE_NOTE = "Superseded: this image was received again with different content (version 2 "
WITHDRAWN_NOTE = "Entered in error: the RIS withdrew this report (version 2 was sent "


def _rows(db: Database, item_id: int) -> dict[str, Observation]:
    with db.reader() as session:
        rows = session.scalars(select(Observation).where(Observation.item_id == item_id))
        return {row.code: row for row in rows}


def _resource(row: Observation) -> dict[str, Any]:
    resource: dict[str, Any] = json.loads(row.resource_json)
    validate(resource)
    return resource


def _outbox(db: Database) -> Counter[tuple[str, int]]:
    with db.reader() as session:
        entries = session.scalars(select(OutboxEntry))
        return Counter((e.observation_id, e.observation_version) for e in entries)


def _search(db: Database, *query: tuple[str, str]) -> set[str]:
    """The ids radqc's FHIR search finds for ``query`` (its SQL, without HTTP)."""
    search = parse_search(list(query))
    with db.reader() as session:
        return set(session.scalars(select(Observation.id).where(*search.conditions)))


def _versions(db: Database) -> dict[str, tuple[int, str]]:
    return {obs_id: (row.version, row.resource_json) for obs_id, row in stored(db).items()}


def test_a_corrected_report_cancels_the_first_version_once(db: Database) -> None:
    v1 = add_report_item(db, "r1", text="one")
    placeholder = finding("report.terminology", message="A template placeholder is left.")
    store_findings(db, v1, [placeholder], publisher=PUBLISHER)  # a fail
    first = _rows(db, v1)
    v2 = add_report_item(db, "r1", text="two")
    store_findings(db, v2, [], publisher=PUBLISHER)  # the correction passes

    old = _rows(db, v1)
    assert set(old) == {"report.terminology", "qc.summary"}
    for code, row in old.items():
        resource = _resource(row)
        assert (row.status, row.version) == ("cancelled", 2), code
        assert resource["status"] == "cancelled"
        assert resource["note"][-1]["text"].startswith(REPORT_NOTE)
        assert "_history" not in resource["note"][-1]["text"]  # it is written back as it is
        assert resource["note"][:-1] == json.loads(first[code].resource_json).get("note", [])
    (summary,) = _rows(db, v2).values()
    assert summary.status == "preliminary"
    assert _resource(summary)["valueCodeableConcept"]["coding"][0]["code"] == "pass"
    assert set(_outbox(db)) == {
        *((row.id, version) for row in old.values() for version in (1, 2)),
        (summary.id, 1),
    }
    assert set(_outbox(db).values()) == {1}

    # how a client asks for the current summary of the report: only version 2's
    current = ("derived-from", "DiagnosticReport/r1"), ("code", "qc.summary")
    assert _search(db, *current, ("status", "preliminary,final")) == {summary.id}
    assert _search(db, *current, ("status:not", "cancelled,entered-in-error")) == {summary.id}
    assert _search(db, *current) == {summary.id, old["qc.summary"].id}

    # processing either version again (a late LLM part, an audit) changes nothing; a finding
    # new to version 1 is stored cancelled at once
    before, outbox = _versions(db), _outbox(db)
    store_findings(db, v2, [], publisher=PUBLISHER)
    store_findings(db, v1, [placeholder, finding("report.typo")], publisher=PUBLISHER)
    store_findings(db, v1, [], publisher=PUBLISHER)
    late = _rows(db, v1)["report.typo"]
    assert (late.status, late.version) == ("cancelled", 1)
    assert _resource(late)["note"][-1]["text"].startswith(REPORT_NOTE)
    assert _versions(db) == {**before, late.id: (1, late.resource_json)}
    assert _outbox(db) == outbox + Counter({(late.id, 1): 1})


def test_an_older_version_processed_late_is_never_current(db: Database) -> None:
    v1 = add_report_item(db, "r1", text="one")
    v2 = add_report_item(db, "r1", text="two")
    store_findings(db, v2, [finding("report.typo")], publisher=PUBLISHER)
    store_findings(db, v1, [finding("report.laterality")], publisher=PUBLISHER)  # after v2
    # every processed item has its Observations, but version 1's were never current
    assert {(row.status, row.version) for row in _rows(db, v1).values()} == {("cancelled", 1)}
    assert set(_rows(db, v1)) == {"report.laterality", "qc.summary"}
    for row in _rows(db, v1).values():
        assert _resource(row)["note"][-1]["text"].startswith(REPORT_NOTE)
    assert {row.status for row in _rows(db, v2).values()} == {"preliminary"}

    # a version not yet processed supersedes nothing: version 1 stays current until it is
    v3 = add_report_item(db, "r1", text="three")
    store_findings(db, v2, [finding("report.typo")], publisher=PUBLISHER)
    assert {row.status for row in _rows(db, v2).values()} == {"preliminary"}
    store_findings(db, v3, [], publisher=PUBLISHER, done=False)  # nothing to publish yet
    assert {row.status for row in _rows(db, v2).values()} == {"preliminary"}
    store_findings(db, v3, [], publisher=PUBLISHER)
    assert {row.status for row in _rows(db, v2).values()} == {"cancelled"}
    note = _resource(_rows(db, v2)["qc.summary"])["note"][-1]["text"]
    assert note.startswith("Superseded: version 3 of this report replaces version 2; ")


def test_an_image_sent_again_with_other_bytes_retires_its_first_version(db: Database) -> None:
    first = add_image_item(db, content="a")
    again = add_image_item(db, content="b")  # the same SOP Instance UID, other bytes
    other = add_image_item(db, "1.2.826.0.1.3680043.8.498.12")  # another image of the study
    store_findings(db, first, [finding("cxr.exposure")], publisher=PUBLISHER)
    store_findings(db, other, [finding("cxr.rotation")], publisher=PUBLISHER)
    # a study check reaches the new version before its own QC: that already supersedes
    store_findings(
        db,
        again,
        [finding("cxr.centering", scope="study")],
        publisher=PUBLISHER,
        done=False,
        scope="study",
    )
    for row in _rows(db, first).values():
        assert row.status == "cancelled"
        assert _resource(row)["note"][-1]["text"].startswith(IMAGE_NOTE)
    assert {row.status for row in _rows(db, other).values()} == {"preliminary"}
    store_findings(db, again, [], publisher=PUBLISHER)
    assert {row.status for row in _rows(db, again).values()} == {"preliminary"}
    assert set(_outbox(db).values()) == {1}


def test_a_withdrawn_report_makes_every_current_result_entered_in_error(db: Database) -> None:
    v1 = add_report_item(db, "r1", text="one")
    store_findings(db, v1, [finding("report.typo")], publisher=PUBLISHER)
    v2 = add_report_item(db, "r1", text="one", status="entered-in-error")
    store_findings(db, v2, [finding("report.typo")], publisher=PUBLISHER)
    for item_id in (v1, v2):
        for row in _rows(db, item_id).values():
            resource = _resource(row)
            assert row.status == resource["status"] == "entered-in-error"
            assert resource["note"][-1]["text"].startswith(WITHDRAWN_NOTE)
    store_findings(db, v2, [finding("report.typo")], publisher=PUBLISHER)  # no change
    assert {row.version for row in _rows(db, v2).values()} == {1}

    # a later correction leaves them as they are: they are no longer current
    v3 = add_report_item(db, "r1", text="three")
    store_findings(db, v3, [], publisher=PUBLISHER)
    assert {row.status for row in _rows(db, v2).values()} == {"entered-in-error"}
    assert {row.status for row in _rows(db, v3).values()} == {"preliminary"}
    assert set(_outbox(db).values()) == {1}


def test_verdicts_set_final_and_a_superseded_version_keeps_them_apart(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=True, status_of=observation_status)
    audits = AuditService(db, on_audited=publisher.publish)
    v1 = add_report_item(db, "r1", text="one")
    store_findings(db, v1, [finding("report.typo"), finding("report.sex")], publisher=publisher)
    assert _rows(db, v1)["qc.summary"].status == "preliminary"
    with db.reader() as session:
        ids = {row.code: row.id for row in session.scalars(select(FindingRow))}
    verdicts = [
        VerdictIn(ids["report.typo"], "confirmed"),
        VerdictIn(ids["report.sex"], "rejected"),
    ]
    audits.submit(v1, "auditor", AuditRequest(verdicts=verdicts))
    audited = _rows(db, v1)
    assert {code: row.status for code, row in audited.items()} == {
        "report.typo": "final",
        "report.sex": "cancelled",
        "qc.summary": "final",  # the item was audited
    }

    v2 = add_report_item(db, "r1", text="two")
    store_findings(db, v2, [], publisher=publisher)
    retired = _rows(db, v1)
    assert retired["report.typo"].status == retired["qc.summary"].status == "cancelled"
    assert retired["report.sex"].version == audited["report.sex"].version  # already cancelled
    assert "Superseded" not in retired["report.sex"].resource_json
    audits.submit(v2, "auditor", AuditRequest())  # nothing to judge: the pass is confirmed
    assert _rows(db, v2)["qc.summary"].status == "final"
    assert set(_outbox(db).values()) == {1}


def test_two_versions_publishing_at_once_take_turns(db: Database) -> None:
    """The older version is processed again while the newer one is published: it waits for
    the newer one's transaction, then sees it and changes nothing."""
    v1 = add_report_item(db, "r1", text="one")
    store_findings(db, v1, [finding("report.typo")], publisher=PUBLISHER)
    v2 = add_report_item(db, "r1", text="two")
    errors: list[BaseException] = []

    def process_v1_again() -> None:
        try:
            store_findings(db, v1, [finding("report.typo", message="Other.")], publisher=PUBLISHER)
        except BaseException as exc:  # reported below
            errors.append(exc)

    late = threading.Thread(target=process_v1_again)
    with db.transaction() as session:
        item = session.get(Item, v2)
        assert item is not None
        replace_findings(session, item, "rules", "item", [])
        item.status, item.processed_at = ItemStatus.DONE, PROCESSED_AT
        PUBLISHER.publish(session, item)
        late.start()
        time.sleep(0.5)
        assert late.is_alive()  # waiting for this transaction
    late.join(timeout=30)
    assert not late.is_alive() and not errors, errors
    assert {(row.status, row.version) for row in _rows(db, v1).values()} == {("cancelled", 2)}
    assert set(_outbox(db).values()) == {1}


# -- write-back ------------------------------------------------------------------------------
@pytest.fixture
def server() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as running:
        yield running


def test_lifecycle_updates_are_put_exactly_once(db: Database, server: RecordingFHIRServer) -> None:
    v1 = add_report_item(db, "r1", text="one")
    image = add_image_item(db, content="a")
    with WritebackClient(db, server.base_url, timeout=5.0) as client, running_worker(db, client):
        store_findings(db, v1, [finding("report.terminology")], publisher=PUBLISHER)
        store_findings(db, image, [finding("cxr.exposure")], publisher=PUBLISHER)
        wait_until(lambda: all_delivered(db))
        v2 = add_report_item(db, "r1", text="two")
        image_again = add_image_item(db, content="b")
        store_findings(db, v2, [], publisher=PUBLISHER)
        store_findings(db, image_again, [finding("cxr.exposure")], publisher=PUBLISHER)
        wait_until(lambda: all_delivered(db))
        for item_id in (v1, v2, image, image_again):  # processed again: nothing new to send
            with db.reader() as session:
                findings = [
                    finding(row.code)
                    for row in session.scalars(
                        select(FindingRow).where(FindingRow.item_id == item_id)
                    )
                ]
            store_findings(db, item_id, findings, publisher=PUBLISHER)
        wait_until(lambda: settled(db))
    rows = stored(db)
    assert len(rows) == 4 + 1 + 2  # the first versions' 4, the report's pass, the image's 2
    for obs_id, row in rows.items():
        accepted = server.accepted_puts(obs_id)
        assert len(accepted) == row.version, obs_id
        assert accepted[-1].json() == as_sent(db, row)
    for item_id, note in ((v1, REPORT_NOTE), (image, IMAGE_NOTE)):
        for row in _rows(db, item_id).values():
            first, last = (put.json() for put in server.accepted_puts(row.id))
            assert (first["status"], last["status"]) == ("preliminary", "cancelled")
            assert last["note"][-1]["text"].startswith(note)
            validate(last)
    assert sum(len(server.accepted_puts(obs_id)) for obs_id in rows) == 4 * 2 + 3
