"""Write-back against Medplum's FHIR engine (issue 11, part 6): radqc's real publisher, outbox,
worker and write-back client PUT the Observations of a processed report and image to Medplum's
FhirRouter, which validates each with Medplum's validator. Counted on the server (its history
and its search): every version arrives exactly once and is updated when its source changes; a
server that refuses unresolvable references gets each Observation a few times, then the
outbox entries are ``refused`` with Medplum's OperationOutcome and left alone; references by
identifier are accepted there.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from fhir_adapter.references import ReferenceMode
from fhir_adapter.writeback import WritebackClient
from fhir_adapter.writeback_setup import build_writeback_client
from service import queue
from service.config import Settings
from service.db import Database
from service.ingest import ReceivedReport, store_report
from service.models import Job, OutboxEntry
from service.outbox import retry_refused
from service.taxonomy import Severity
from tests.fhir_adapter.medplum.peer import MedplumPeer
from tests.fhir_adapter.support import (
    OPTIONS,
    STUDY_UID,
    add_image_item,
    add_report_item,
    finding,
    store_findings,
)
from tests.fhir_adapter.writeback_support import (
    PUBLISHER,
    as_sent,
    running_worker,
    settled,
    stored,
    wait_until,
)

MRN = {"system": "urn:oid:1.2.3.4.5", "value": "MRN-0042-7731"}
OWN = {"system": "urn:oid:1.2.3.4.7", "value": "RPT-991"}
REPORT_FINDINGS = [finding("report.laterality"), finding("report.typo")]
IMAGE_FINDINGS = [finding("cxr.sharpness"), finding("cxr.centering", severity=Severity.MINOR)]


def add_ris_report(db: Database, text: str = "one", status: str = "final") -> int:
    """A report version as a RIS sends it: its own identifier, a subject with an MRN."""
    resource = {
        "resourceType": "DiagnosticReport",
        "id": "ris-123",
        "identifier": [OWN],
        "status": status,
        "subject": {"reference": "Patient/p1", "identifier": MRN},
        "effectiveDateTime": "2024-05-01T08:00:00Z",
    }
    received = ReceivedReport(
        report_id="ris-123",
        content_hash=hashlib.sha256(f"{text}|{status}".encode()).hexdigest(),
        resource_json=json.dumps(resource),
        text=text,
        sections={},
        status=status,
        patient_sex=None,
        subject_reference="Patient/p1",
        exam_code="36643-5",
        exam_display="XR Chest 2 Views",
        accession="ACC-2024-77123",
        study_instance_uid=STUDY_UID,
    )
    with db.transaction() as session:
        item_id = store_report(session, received, OPTIONS).item_id
        session.execute(update(Job).where(Job.kind != queue.WRITEBACK).values(status="done"))
    return item_id


def client_for(
    db: Database, medplum: MedplumPeer, tmp_path: Path, mode: ReferenceMode
) -> WritebackClient:
    """The write-back client the composition root builds from these settings."""
    settings = Settings(
        data_dir=tmp_path, fhir_writeback_url=medplum.base_url, fhir_writeback_references=mode
    )
    client = build_writeback_client(db, settings)
    assert client is not None
    return client


def deliver(db: Database, client: WritebackClient) -> None:
    with running_worker(db, client):
        wait_until(lambda: settled(db), timeout=60)


def outbox(db: Database) -> Counter[str]:
    with db.reader() as session:
        return Counter(e.status for e in session.scalars(select(OutboxEntry)))


def delivery_counts(db: Database, medplum: MedplumPeer) -> dict[str, int]:
    """What the server saw and what the outbox says: the figures for the issue's note."""
    puts = medplum.puts()
    entries = outbox(db)
    return {
        "observations": len(stored(db)),
        "sent": len(puts),
        "accepted": sum(e.accepted for e in puts),
        "refused": sum(not e.accepted for e in puts),
        "retries": len(puts) - len({(e.path, e.sha256) for e in puts}),  # the same body again
        "entries_delivered": entries["delivered"],
        "entries_refused": entries["refused"],
    }


def without_meta(resource: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in resource.items() if k != "meta"}


def assert_on_medplum_once_each(db: Database, medplum: MedplumPeer) -> None:
    """Every radqc Observation is on Medplum as its current version was sent, each version
    stored exactly once, and nothing else is there."""
    rows = stored(db)
    assert medplum.count() == len(rows)
    for obs_id, row in rows.items():
        history = medplum.history(obs_id)
        assert len(history) == row.version, obs_id
        assert without_meta(history[-1]) == as_sent(db, row, "identifier"), obs_id
        assert [e.accepted for e in medplum.puts(obs_id)] == [True] * row.version


def publish_report_and_image(db: Database, report: int | None = None) -> tuple[int, int]:
    report = report if report is not None else add_ris_report(db)
    store_findings(db, report, REPORT_FINDINGS, publisher=PUBLISHER)
    image = add_image_item(db)
    store_findings(db, image, IMAGE_FINDINGS, publisher=PUBLISHER)
    return report, image


@pytest.mark.timeout(180)
def test_a_report_and_an_image_are_accepted_valid_and_stored_once(
    db: Database, medplum: MedplumPeer, tmp_path: Path
) -> None:
    publish_report_and_image(db)
    with client_for(db, medplum, tmp_path, "identifier") as client:
        deliver(db, client)
    counts = delivery_counts(db, medplum)
    print(f"\nMedplum, report and image: {counts}")
    assert counts == {
        "observations": 6,
        "sent": 6,
        "accepted": 6,
        "refused": 0,
        "retries": 0,
        "entries_delivered": 6,
        "entries_refused": 0,
    }
    assert_on_medplum_once_each(db, medplum)
    assert medplum.count(code="qc.summary") == 2
    image_summary = [
        medplum.read(oid) for oid, row in stored(db).items() if row.code == "qc.summary"
    ]
    assert all(s is not None and len(s["hasMember"]) == 2 for s in image_summary)


@pytest.mark.timeout(240)
def test_the_lifecycle_arrives_on_medplum_once_per_change(
    db: Database, medplum: MedplumPeer, tmp_path: Path
) -> None:
    """A corrected report and a re-sent image cancel their first versions' Observations, a
    changed finding updates its Observation, a withdrawn report makes the current ones
    entered-in-error: each change is one new version on Medplum, nothing is sent twice."""
    v1, image1 = publish_report_and_image(db)
    with client_for(db, medplum, tmp_path, "identifier") as client:
        deliver(db, client)
        v2 = add_ris_report(db, "two")
        store_findings(db, v2, [finding("report.typo")], publisher=PUBLISHER)
        image2 = add_image_item(db, content="b")
        store_findings(db, image2, IMAGE_FINDINGS[:1], publisher=PUBLISHER)
        deliver(db, client)
        assert medplum.count(status="cancelled") == 6  # every Observation of v1 and image 1
        changed = [finding("report.typo", severity=Severity.CRITICAL, message="Changed.")]
        store_findings(db, v2, changed, publisher=PUBLISHER)
        deliver(db, client)
        v3 = add_ris_report(db, "three", status="entered-in-error")
        store_findings(db, v3, [], publisher=PUBLISHER)
        deliver(db, client)
        again = {v1: REPORT_FINDINGS, image1: IMAGE_FINDINGS, v2: changed,
                 image2: IMAGE_FINDINGS[:1], v3: []}  # fmt: skip
        for item_id, findings in again.items():  # processed again, same results
            store_findings(db, item_id, findings, publisher=PUBLISHER)
        deliver(db, client)
    counts = delivery_counts(db, medplum)
    print(f"\nMedplum, lifecycle: {counts}")
    assert_on_medplum_once_each(db, medplum)
    rows = stored(db)
    statuses = Counter(row.status for row in rows.values())
    assert statuses == {"cancelled": 6, "entered-in-error": 3, "preliminary": 2}
    assert medplum.count(status="cancelled") == 6
    assert medplum.count(status="entered-in-error") == 3
    assert medplum.count(status="preliminary") == 2  # image 2's finding and summary
    versions = sum(row.version for row in rows.values())
    assert counts["sent"] == counts["accepted"] == counts["entries_delivered"] == versions
    assert counts["retries"] == 0  # each version sent once


@pytest.mark.timeout(180)
def test_unresolvable_literal_references_are_refused_then_left_alone(
    db: Database, medplum: MedplumPeer, tmp_path: Path
) -> None:
    """Medplum refuses the report's Observations (Patient/p1 and DiagnosticReport/r1 are not
    there; the summary's members were refused); the image's, by identifier, go in. Once the
    hospital holds the patient and the report, an admin's retry delivers each one once."""
    medplum.reset(references="refuse")
    report = add_report_item(db, "r1", subject="Patient/p1")
    publish_report_and_image(db, report)
    with client_for(db, medplum, tmp_path, "literal") as client:
        deliver(db, client)
        sent = len(medplum.puts())
        time.sleep(1.0)  # nothing is retried for ever: no PUT comes later
        assert len(medplum.puts()) == sent
        counts = delivery_counts(db, medplum)
        print(f"\nMedplum refusing unresolvable references, literal: {counts}")
        assert counts == {
            "observations": 6,
            "sent": 3 + 3 * 3,  # the image's 3; the report's 3, three times each
            "accepted": 3,
            "refused": 9,
            "retries": 6,
            "entries_delivered": 3,
            "entries_refused": 3,
        }
        report_ids = [oid for oid, row in stored(db).items() if row.item_id == report]
        assert medplum.count() == 3
        with db.reader() as session:
            entries = session.scalars(
                select(OutboxEntry).where(OutboxEntry.observation_id.in_(report_ids))
            ).all()
        for entry in entries:
            assert (entry.status, entry.refusals, entry.http_status) == ("refused", 3, 400)
            outcome = json.loads(entry.outcome_json or "{}")
            assert outcome["resourceType"] == "OperationOutcome"
            texts = " ".join(i["details"]["text"] for i in outcome["issue"])
            assert "Invalid reference (Patient/p1)" in texts
            assert "Invalid reference (DiagnosticReport/r1)" in texts

        # the hospital now holds the patient and the report; an admin retries the item
        medplum.seed({"resourceType": "Patient", "id": "p1"})
        medplum.seed({"resourceType": "DiagnosticReport", "id": "r1", "status": "final",
                      "code": {"text": "XR Chest"}})  # fmt: skip
        with db.transaction() as session:
            assert retry_refused(session, item_id=report) == 3
        deliver(db, client)
    assert outbox(db) == {"delivered": 6}
    for obs_id in report_ids:
        assert [e.accepted for e in medplum.puts(obs_id)] == [False] * 3 + [True]
        assert len(medplum.history(obs_id)) == 1
    assert medplum.count() == 6


@pytest.mark.timeout(180)
def test_references_by_identifier_are_accepted_by_a_refusing_server(
    db: Database, medplum: MedplumPeer, tmp_path: Path
) -> None:
    medplum.reset(references="refuse")
    publish_report_and_image(db)
    with client_for(db, medplum, tmp_path, "identifier") as client:
        deliver(db, client)
    counts = delivery_counts(db, medplum)
    print(f"\nMedplum refusing unresolvable references, identifier: {counts}")
    assert counts["sent"] == counts["accepted"] == counts["entries_delivered"] == 6
    assert counts["retries"] == counts["refused"] == 0
    assert_on_medplum_once_each(db, medplum)
    for row in stored(db).values():
        sent = medplum.read(row.id)
        assert sent is not None
        assert "reference" not in sent["subject"]
        assert all("reference" not in ref for ref in sent["derivedFrom"])


@pytest.mark.parametrize(
    ("change", "expression"),
    [
        ({"effectiveDateTime": "2024-13-45"}, "Observation.effective[x]"),
        ({"code": None}, "Observation.code"),
        ({"dataAbsentReason": {"text": "unknown"}}, "Observation"),  # obs-6: it has a value
        ({"qcScore": 3}, "Observation.qcScore"),
    ],
)
def test_medplum_validates_what_it_is_sent(
    db: Database, medplum: MedplumPeer, change: dict[str, Any], expression: str
) -> None:
    """The peer is a real check: one of radqc's Observations, spoiled, is refused with Medplum's
    OperationOutcome naming the element (and the same Observation unspoiled is accepted)."""
    item_id = add_ris_report(db)
    store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
    row = next(row for row in stored(db).values() if row.code == "report.typo")
    good = as_sent(db, row)
    spoiled = {k: v for k, v in {**good, **change}.items() if v is not None}
    with httpx.Client(base_url=medplum.base_url) as http:
        refused = http.put(f"Observation/{row.id}", json=spoiled)
        accepted = http.put(f"Observation/{row.id}", json=good)
    assert refused.status_code == 400
    issues = refused.json()["issue"]
    assert any(expression in issue.get("expression", []) for issue in issues), issues
    assert accepted.status_code in (200, 201)
