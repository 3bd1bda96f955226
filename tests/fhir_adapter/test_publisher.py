"""The publisher on real SQLite and PostgreSQL: versioned Observations, outbox, write-back jobs."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select, update

from fhir_adapter import observations as obs
from fhir_adapter.publisher import ObservationPublisher
from service import queue
from service.db import Database
from service.models import FindingRow, Job, JobStatus, Observation, OutboxEntry
from service.taxonomy import Severity
from tests.fhir_adapter.support import (
    PROCESSED_AT,
    STUDY_UID,
    add_image_item,
    add_report_item,
    finding,
    store_findings,
    validate,
)


def _observations(db: Database) -> dict[str, Observation]:
    with db.reader() as session:
        return {row.code: row for row in session.scalars(select(Observation))}


def _outbox(db: Database) -> list[tuple[str, int]]:
    with db.reader() as session:
        rows = session.scalars(select(OutboxEntry).order_by(OutboxEntry.id))
        return [(row.observation_id, row.observation_version) for row in rows]


def _jobs(db: Database) -> dict[str, Job]:
    with db.reader() as session:
        rows = session.scalars(select(Job).where(Job.kind == queue.WRITEBACK))
        return {row.target or "": row for row in rows}


def _finish_jobs(db: Database) -> None:
    with db.transaction() as session:
        session.execute(update(Job).values(status=JobStatus.DONE))


def test_first_publish_stores_every_observation_and_queues_write_back(db: Database) -> None:
    item_id = add_report_item(db)
    store_findings(
        db,
        item_id,
        [finding("report.laterality"), finding("report.typo")],
        publisher=ObservationPublisher(writeback_enabled=True),
    )
    rows = _observations(db)
    assert set(rows) == {"report.laterality", "report.typo", "qc.summary"}
    for row in rows.values():
        resource = json.loads(row.resource_json)
        validate(resource)
        assert (row.id, row.item_id, row.version, row.status) == (
            resource["id"],
            item_id,
            1,
            "preliminary",
        )
        assert row.subject == "Patient/p1"
        assert row.derived_from == "DiagnosticReport/r1/_history/1"
        assert row.content_hash == obs.content_hash(resource)
    assert rows["qc.summary"].finding_id is None
    with db.reader() as session:
        finding_ids = {r.code: r.id for r in session.scalars(select(FindingRow))}
    assert rows["report.typo"].finding_id == finding_ids["report.typo"]
    assert sorted(_outbox(db)) == sorted((row.id, 1) for row in rows.values())
    jobs = _jobs(db)
    assert set(jobs) == {row.id for row in rows.values()}
    for obs_id, job in jobs.items():
        assert job.key == f"writeback:{obs_id}"
        assert job.max_attempts is None
        assert job.status == JobStatus.QUEUED


def test_publishing_again_writes_nothing(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=True)
    item_id = add_report_item(db)
    findings = [finding("report.laterality"), finding("report.typo")]
    store_findings(db, item_id, findings, publisher=publisher)
    _finish_jobs(db)
    before = {
        code: (row.version, row.updated_at, row.resource_json)
        for code, row in _observations(db).items()
    }
    store_findings(db, item_id, findings, publisher=publisher)
    after = {
        code: (row.version, row.updated_at, row.resource_json)
        for code, row in _observations(db).items()
    }
    assert after == before
    assert len(_outbox(db)) == 3
    assert {job.status for job in _jobs(db).values()} == {JobStatus.DONE}


def test_processing_again_with_the_same_result_is_not_a_new_version(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=True)
    item_id = add_image_item(db)
    store_findings(
        db,
        item_id,
        [finding("cxr.rotation", scope="study")],
        publisher=publisher,
        done=False,
        scope="study",
    )  # a study check first: no processed_at yet
    store_findings(db, item_id, [finding("cxr.exposure")], publisher=publisher)
    before = {code: (row.version, row.resource_json) for code, row in _observations(db).items()}
    assert before["cxr.rotation"][0] == 1
    later = PROCESSED_AT + dt.timedelta(hours=1)
    store_findings(db, item_id, [finding("cxr.exposure")], publisher=publisher, processed_at=later)
    after = {code: (row.version, row.resource_json) for code, row in _observations(db).items()}
    assert after == before
    assert len(_outbox(db)) == 3

    store_findings(
        db,
        item_id,
        [finding("cxr.exposure", confidence=0.5)],
        publisher=publisher,
        processed_at=later,
    )  # a real change carries the new time
    exposure = json.loads(_observations(db)["cxr.exposure"].resource_json)
    assert exposure["issued"] == obs.fhir_instant(later)


def test_a_changed_finding_bumps_its_version_and_requeues_its_job(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=True)
    item_id = add_report_item(db)
    store_findings(
        db, item_id, [finding("report.laterality"), finding("report.typo")], publisher=publisher
    )
    _finish_jobs(db)
    before = _observations(db)
    store_findings(
        db,
        item_id,
        [finding("report.laterality", severity=Severity.CRITICAL), finding("report.typo")],
        publisher=publisher,
    )
    after = _observations(db)
    changed = after["report.laterality"]
    assert changed.version == 2
    assert changed.updated_at > before["report.laterality"].updated_at
    component = json.loads(changed.resource_json)["component"][0]
    assert component["valueCodeableConcept"]["coding"][0]["code"] == "critical"
    assert after["report.typo"].version == 1
    assert after["qc.summary"].version == 1
    assert _outbox(db)[3:] == [(changed.id, 2)]
    jobs = _jobs(db)
    assert jobs[changed.id].status == JobStatus.QUEUED
    assert jobs[after["report.typo"].id].status == JobStatus.DONE


def test_a_changed_finding_requeues_a_running_job_to_run_again(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=True)
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.typo")], publisher=publisher)
    with db.transaction() as session:
        session.execute(update(Job).where(Job.kind == queue.QC).values(status=JobStatus.DONE))
        session.execute(
            update(Job)
            .where(Job.kind == queue.WRITEBACK)
            .values(status=JobStatus.RUNNING, locked_by="w1")
        )
    store_findings(
        db, item_id, [finding("report.typo", message="Another sentence.")], publisher=publisher
    )
    typo = _observations(db)["report.typo"]
    job = _jobs(db)[typo.id]
    assert job.status == JobStatus.RUNNING
    assert job.rerun is True


def test_a_removed_finding_is_cancelled_and_left_out_of_the_summary(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=True)
    item_id = add_report_item(db)
    store_findings(
        db, item_id, [finding("report.laterality"), finding("report.typo")], publisher=publisher
    )
    store_findings(db, item_id, [finding("report.laterality")], publisher=publisher)
    rows = _observations(db)
    typo, summary = rows["report.typo"], rows["qc.summary"]
    assert (typo.status, typo.version, typo.finding_id) == ("cancelled", 2, None)
    validate(json.loads(typo.resource_json))
    assert json.loads(typo.resource_json)["status"] == "cancelled"
    assert summary.version == 2
    members = json.loads(summary.resource_json)["hasMember"]
    assert members == [{"reference": f"Observation/{rows['report.laterality'].id}"}]
    assert (typo.id, 2) in _outbox(db)
    assert (summary.id, 2) in _outbox(db)

    store_findings(db, item_id, [], publisher=publisher)  # the last finding gone too: a pass
    rows = _observations(db)
    assert rows["report.laterality"].status == "cancelled"
    summary_json = json.loads(rows["qc.summary"].resource_json)
    assert summary_json["valueCodeableConcept"]["coding"][0]["code"] == "pass"
    assert "hasMember" not in summary_json
    store_findings(db, item_id, [], publisher=publisher)  # cancelling twice changes nothing
    assert rows["report.typo"].version == _observations(db)["report.typo"].version == 2

    store_findings(db, item_id, [finding("report.typo")], publisher=publisher)  # it is back
    back = _observations(db)["report.typo"]
    assert (back.status, back.version) == ("preliminary", 3)
    assert back.finding_id is not None


def test_without_write_back_nothing_goes_to_the_outbox(db: Database) -> None:
    item_id = add_image_item(db)
    store_findings(
        db,
        item_id,
        [finding("cxr.exposure")],
        publisher=ObservationPublisher(writeback_enabled=False),
    )
    rows = _observations(db)
    assert set(rows) == {"cxr.exposure", "qc.summary"}
    assert rows["cxr.exposure"].subject == "urn:radqc:dicom-patient-id|PID-0001"
    assert rows["cxr.exposure"].derived_from == f"urn:dicom:uid|urn:oid:{STUDY_UID}"
    assert _outbox(db) == []
    assert _jobs(db) == {}


def test_a_study_check_before_the_item_is_done_publishes_no_summary(db: Database) -> None:
    publisher = ObservationPublisher(writeback_enabled=True)
    item_id = add_image_item(db)
    store_findings(
        db,
        item_id,
        [finding("cxr.rotation", scope="study")],
        publisher=publisher,
        done=False,
        scope="study",
    )
    assert set(_observations(db)) == {"cxr.rotation"}
    store_findings(db, item_id, [finding("cxr.exposure")], publisher=publisher)
    rows = _observations(db)
    assert set(rows) == {"cxr.rotation", "cxr.exposure", "qc.summary"}
    assert rows["cxr.rotation"].status == "preliminary"  # not cancelled: only another scope ran
    assert len(json.loads(rows["qc.summary"].resource_json)["hasMember"]) == 2


def test_the_status_hook_decides_a_finding_status(db: Database) -> None:
    publisher = ObservationPublisher(
        writeback_enabled=False, status_of=lambda session, row: obs.FINAL
    )
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.sex")], publisher=publisher)
    rows = _observations(db)
    assert rows["report.sex"].status == "final"
    assert json.loads(rows["report.sex"].resource_json)["status"] == "final"
