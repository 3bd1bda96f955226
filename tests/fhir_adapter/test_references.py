"""References that work on another server (issue 11): what the hospital server gets instead of
radqc's own ``DiagnosticReport/r1/_history/1``, in each ``RADQC_FHIR_WRITEBACK_REFERENCES`` mode,
and end to end through a worker."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fhir_adapter.observations import DICOM_UID_SYSTEM, PATIENT_ID_SYSTEM
from fhir_adapter.references import ReferenceMode, for_hospital, targets_of
from fhir_adapter.writeback_setup import build_writeback_client
from service.config import Settings
from service.db import Database
from service.ingest import ReceivedReport, store_report
from service.models import Item, Observation
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
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
    all_delivered,
    running_worker,
    wait_until,
)

MRN = {
    "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]},
    "system": "urn:oid:1.2.3.4.5",
    "value": "MRN-0042-7731",
}
ACSN = {
    "type": {
        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}]
    },
    "system": "urn:oid:1.2.3.4.6",
    "value": "ACC-2024-77123",
}
OWN = {"system": "urn:oid:1.2.3.4.7", "value": "RPT-991"}
STUDY = {"system": DICOM_UID_SYSTEM, "value": f"urn:oid:{STUDY_UID}"}


def add_rich_report(
    db: Database, *, subject: dict[str, Any], identifiers: list[dict[str, Any]], with_id: bool
) -> int:
    """A report as a RIS sends it: its identifiers, subject, a contained Patient with an MRN."""
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "identifier": identifiers,
        "status": "final",
        "subject": subject,
        "contained": [
            {"resourceType": "Patient", "id": "pat", "identifier": [{"value": "x"}, MRN]}
        ],
    }
    if with_id:
        resource["id"] = "ris-123"
    text = json.dumps(resource)
    received = ReceivedReport(
        report_id="ris-123",
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        resource_json=text,
        text="FINDINGS: clear.\nIMPRESSION: normal.",
        sections={},
        status="final",
        patient_sex=None,
        subject_reference=subject.get("reference"),
        exam_code=None,
        exam_display=None,
        accession=ACSN["value"],
        study_instance_uid=STUDY_UID,
    )
    with db.transaction() as session:
        return store_report(session, received, OPTIONS).item_id


def hospital_view(
    db: Database, item_id: int, mode: ReferenceMode, system: str = ""
) -> dict[str, Any]:
    store_findings(db, item_id, [], publisher=PUBLISHER)
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        row = session.scalars(select(Observation).where(Observation.item_id == item_id)).one()
        stored = json.loads(row.resource_json)
        if item.kind == "report":  # what radqc's own API serves
            assert stored["derivedFrom"][0]["reference"].endswith("/_history/1")
        return for_hospital(stored, targets_of(item, system), mode)


def refs(view: dict[str, Any]) -> tuple[Any, Any]:
    return view.get("subject"), view.get("derivedFrom")


def test_a_report_with_a_contained_patient_by_identifier_literal_and_both(db: Database) -> None:
    item_id = add_rich_report(
        db, subject={"reference": "#pat"}, identifiers=[ACSN, OWN], with_id=True
    )
    mrn = {k: MRN[k] for k in ("type", "system", "value")}
    report = {"type": "DiagnosticReport", "identifier": OWN}
    study = {"type": "ImagingStudy", "identifier": STUDY}
    assert refs(hospital_view(db, item_id, "identifier")) == (
        {"type": "Patient", "identifier": mrn},
        [report, study],
    )
    # literal: the id the RIS sent; the contained patient has none: its MRN stands in
    assert refs(hospital_view(db, item_id, "literal")) == (
        {"type": "Patient", "identifier": mrn},
        [{"reference": "DiagnosticReport/ris-123", "type": "DiagnosticReport"}, study],
    )
    assert refs(hospital_view(db, item_id, "both")) == (
        {"type": "Patient", "identifier": mrn},
        [{"reference": "DiagnosticReport/ris-123", **report}, study],
    )


def test_a_literal_subject_and_a_report_known_by_its_accession_only(db: Database) -> None:
    subject = {"reference": "Patient/p1", "identifier": MRN}
    item_id = add_rich_report(db, subject=subject, identifiers=[ACSN], with_id=False)
    view = hospital_view(db, item_id, "both")
    assert view["subject"] == {"reference": "Patient/p1", "type": "Patient", "identifier": MRN}
    # no id of the RIS's (radqc made one up from the identifier): no literal reference
    assert view["derivedFrom"][0] == {"type": "DiagnosticReport", "identifier": ACSN}
    literal = hospital_view(db, item_id, "literal")
    assert literal["subject"] == {"reference": "Patient/p1", "type": "Patient"}
    assert literal["derivedFrom"][0] == {"type": "DiagnosticReport", "identifier": ACSN}


def test_a_report_without_identifiers_falls_back_to_what_the_ris_sent(db: Database) -> None:
    item_id = add_report_item(db, "r1", subject="Patient/p1")  # {"id": "r1"} and no identifier
    view = hospital_view(db, item_id, "identifier")
    assert view["subject"] == {"reference": "Patient/p1", "type": "Patient"}
    assert view["derivedFrom"] == [
        {"reference": "DiagnosticReport/r1", "type": "DiagnosticReport"},
        {"type": "ImagingStudy", "identifier": {"type": ACSN["type"], "value": "ACC-r1"}},
    ]


@pytest.mark.parametrize("mode", ["identifier", "literal", "both"])
def test_an_image_is_referred_to_by_identifiers_in_every_mode(
    db: Database, mode: ReferenceMode
) -> None:
    item_id = add_image_item(db)
    view = hospital_view(db, item_id, mode, system="urn:oid:1.2.3.4.5")
    assert view["subject"] == {
        "type": "Patient",
        "identifier": {"system": "urn:oid:1.2.3.4.5", "value": "PID-0001"},
    }
    assert view["derivedFrom"] == [{"type": "ImagingStudy", "identifier": STUDY}]
    default = hospital_view(db, item_id, mode)
    assert default["subject"]["identifier"]["system"] == PATIENT_ID_SYSTEM


def test_no_history_reference_is_ever_written_back(db: Database) -> None:
    resource = {
        "resourceType": "Observation",
        "derivedFrom": [{"reference": "DiagnosticReport/r1/_history/3"}],
        "focus": [{"reference": "DiagnosticReport/r1/_history/3"}],
        "hasMember": [{"reference": "Observation/rqc-1"}],
    }
    item_id = add_report_item(db)
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        view = for_hospital(resource, targets_of(item), "literal")
    assert "_history" not in json.dumps(view)
    assert view["focus"] == [{"reference": "DiagnosticReport/r1", "type": "DiagnosticReport"}]
    assert view["hasMember"] == resource["hasMember"]


@pytest.fixture
def server() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as running:
        yield running


@pytest.mark.parametrize("mode", ["identifier", "literal"])
def test_written_back_observations_carry_the_configured_references(
    db: Database, server: RecordingFHIRServer, tmp_path: Path, mode: ReferenceMode
) -> None:
    item_id = add_rich_report(
        db, subject={"reference": "Patient/p1", "identifier": MRN}, identifiers=[OWN], with_id=True
    )
    store_findings(db, item_id, [finding("report.typo")], publisher=PUBLISHER)
    settings = Settings(
        data_dir=tmp_path, fhir_writeback_url=server.base_url, fhir_writeback_references=mode
    )
    client = build_writeback_client(db, settings)
    assert client is not None
    with client, running_worker(db, client):
        wait_until(lambda: all_delivered(db))
    bodies = [r.json() for r in server.accepted_puts()]
    assert len(bodies) == 2
    for body in bodies:
        assert "_history" not in json.dumps(body)
        if mode == "identifier":
            assert body["subject"] == {"type": "Patient", "identifier": MRN}
            assert body["derivedFrom"][0] == {"type": "DiagnosticReport", "identifier": OWN}
        else:
            assert body["subject"] == {"reference": "Patient/p1", "type": "Patient"}
            assert body["derivedFrom"][0]["reference"] == "DiagnosticReport/ris-123"
