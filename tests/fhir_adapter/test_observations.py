"""The Observation builder: R4B-valid resources, deterministic ids, what DESIGN §5 asks for.

The helpers at the top (items stored through :mod:`service.ingest`, findings through
:func:`service.findings.replace_findings`) are shared by the other fhir_adapter tests.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import select

from fhir_adapter import observations as obs
from fhir_adapter.publisher import ObservationPublisher
from service.db import Database
from service.models import Item, Observation
from service.taxonomy import CODE_SYSTEM, Severity
from tests.fhir_adapter.support import (
    FHIR_ID,
    STUDY_UID,
    add_image_item,
    add_report_item,
    build_all,
    finding,
    store_findings,
    validate,
)


def test_report_observations_validate_and_carry_the_contract(db: Database) -> None:
    item_id = add_report_item(db, "r1")
    store_findings(
        db,
        item_id,
        [
            finding("report.laterality", severity=Severity.CRITICAL, confidence=0.93),
            finding("report.typo", severity=Severity.MINOR),
        ],
        publisher=None,
    )
    laterality, typo, summary = build_all(db, item_id)
    for resource in (laterality, typo, summary):
        validate(resource)
        assert resource["status"] == "preliminary"
        assert resource["category"][0]["coding"][0] == {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "imaging",
            "display": "Imaging",
        }
        assert resource["subject"] == {"reference": "Patient/p1"}
        assert resource["derivedFrom"] == [{"reference": "DiagnosticReport/r1/_history/1"}]
        assert resource["focus"] == resource["derivedFrom"]  # what was checked: the report
        # the report has no time of its own here: effective falls back to the QC time
        assert resource["issued"] == resource["effectiveDateTime"] == "2024-05-01T10:20:30.123Z"
        assert "extension" not in resource
    for resource in (laterality, typo):  # a finding: the problem is present, abnormal
        assert resource["valueCodeableConcept"]["coding"] == [
            {"system": "http://snomed.info/sct", "code": "52101004", "display": "Present"}
        ]
        assert resource["interpretation"] == [
            {
                "coding": [
                    {"system": obs.INTERPRETATION_SYSTEM, "code": "A", "display": "Abnormal"}
                ],
                "text": "Abnormal",
            }
        ]

    assert laterality["code"]["coding"] == [
        {"system": CODE_SYSTEM, "code": "report.laterality", "display": "Left/right confusion"}
    ]
    severity, confidence = laterality["component"]
    assert severity["valueCodeableConcept"]["coding"][0] == {
        "system": "https://radqc.org/fhir/CodeSystem/qc-severity",
        "code": "critical",
        "display": "Critical",
    }
    assert confidence["valueQuantity"]["value"] == 0.93
    assert confidence["valueQuantity"]["unit"] == "1"
    assert laterality["note"][0]["text"] == "report.laterality found in the test"
    assert laterality["note"][1]["text"] == 'Evidence: IMPRESSION chars 12-21: "left lung"'
    assert laterality["method"]["coding"] == [
        {
            "system": "https://radqc.org/fhir/CodeSystem/qc-engine",
            "code": "rules",
            "display": "rules-1.0",
        }
    ]
    assert laterality["method"]["text"] == "rules rules-1.0"

    assert summary["code"]["coding"][0]["code"] == "qc.summary"
    assert summary["valueCodeableConcept"]["coding"][0]["code"] == "fail"
    assert summary["interpretation"][0]["coding"][0]["code"] == "A"
    assert summary["hasMember"] == [
        {"reference": f"Observation/{laterality['id']}"},
        {"reference": f"Observation/{typo['id']}"},
    ]


def test_image_observations_reference_study_instance_and_patient_id(db: Database) -> None:
    sop_uid = "1.2.826.0.1.3680043.8.498.11"
    item_id = add_image_item(db, sop_uid, patient_id="PID-0001")
    store_findings(
        db,
        item_id,
        [
            finding(
                "cxr.exposure",
                evidence=[{"region": [10, 20, 300, 400], "mean": 0.97}, {"tag": "(0028,1050)"}],
            )
        ],
        publisher=None,
    )
    exposure, summary = build_all(db, item_id)
    for resource in (exposure, summary):
        validate(resource)
        assert resource["subject"] == {
            "type": "Patient",
            "identifier": {"system": "urn:radqc:dicom-patient-id", "value": "PID-0001"},
        }
        assert resource["derivedFrom"] == [
            {
                "type": "ImagingStudy",
                "identifier": {"system": "urn:dicom:uid", "value": f"urn:oid:{STUDY_UID}"},
            }
        ]
        assert resource["focus"] == resource["derivedFrom"]  # what was checked: the study
        assert resource["extension"] == [
            {
                "url": "https://radqc.org/fhir/StructureDefinition/sop-instance-uid",
                "valueOid": f"urn:oid:{sop_uid}",
            }
        ]
    assert exposure["note"][1]["text"] == (
        "Evidence: mean 0.97, region [10, 20, 300, 400]; tag (0028,1050)"
    )


def test_without_patient_id_or_subject_the_subject_is_left_out(db: Database) -> None:
    image_id = add_image_item(db, patient_id=None)
    report_id = add_report_item(db, "r2", subject="#contained-patient")
    for item_id in (image_id, report_id):
        store_findings(db, item_id, [], publisher=None)
        (summary,) = build_all(db, item_id)
        validate(summary)
        assert "subject" not in summary
        assert summary["valueCodeableConcept"]["coding"][0]["code"] == "pass"
        assert summary["interpretation"][0]["coding"][0] == {
            "system": obs.INTERPRETATION_SYSTEM,
            "code": "N",
            "display": "Normal",
        }
        assert "hasMember" not in summary


def test_a_contained_patient_with_an_identifier_is_the_subject(db: Database) -> None:
    """Reports over HL7 v2 (and FHIR reports with a contained Patient) name the patient by the
    MRN the RIS sent: the Observations reference that identifier, as images do with theirs, so
    that ``subject:identifier`` finds them."""
    patient = {
        "resourceType": "Patient",
        "id": "pat",
        "identifier": [
            {"value": "OTHER-1"},  # no system: not a usable reference
            {"system": "urn:oid:1.2.3.4", "value": "MRN-0042-7731"},
        ],
    }
    item_id = add_report_item(db, "r3", subject="#pat", contained=[patient])
    store_findings(
        db,
        item_id,
        [finding("report.typo")],
        publisher=ObservationPublisher(writeback_enabled=False),
    )
    for resource in build_all(db, item_id):
        validate(resource)
        assert resource["subject"] == {
            "type": "Patient",
            "identifier": {"system": "urn:oid:1.2.3.4", "value": "MRN-0042-7731"},
        }
    with db.reader() as session:
        subjects = set(
            session.scalars(select(Observation.subject).where(Observation.item_id == item_id))
        )
    assert subjects == {"urn:oid:1.2.3.4|MRN-0042-7731"}  # what subject:identifier matches
    # a contained Patient without a system-qualified identifier still gives no subject
    bare = {"resourceType": "Patient", "id": "pat", "identifier": [{"value": "OTHER-1"}]}
    other = add_report_item(db, "r4", subject="#pat", contained=[bare])
    store_findings(db, other, [], publisher=None)
    (summary,) = build_all(db, other)
    assert "subject" not in summary


def test_a_non_conformant_sop_uid_is_kept_as_a_string(db: Database) -> None:
    item_id = add_image_item(db, "1.2.03.4")  # a leading zero: not an OID
    store_findings(db, item_id, [], publisher=None)
    (summary,) = build_all(db, item_id)
    validate(summary)
    assert summary["extension"][0] == {"url": obs.SOP_INSTANCE_EXTENSION, "valueString": "1.2.03.4"}


def test_ids_are_deterministic_valid_and_distinct(db: Database) -> None:
    first = add_report_item(db, "r1", text="one")
    second = add_report_item(db, "r1", text="two")  # version 2 of the same report
    image = add_image_item(db)
    for item_id in (first, second, image):
        for engine, scope in (("rules", "item"), ("llm", "item"), ("rules", "study")):
            store_findings(
                db,
                item_id,
                [finding("report.typo", engine=engine, scope=scope)],
                publisher=None,
                engine=engine,
                scope=scope,
            )
    ids = {item_id: [r["id"] for r in build_all(db, item_id)] for item_id in (first, second, image)}
    assert ids == {item_id: [r["id"] for r in build_all(db, item_id)] for item_id in ids}
    every = [i for group in ids.values() for i in group]
    assert len(set(every)) == len(every) == 12
    assert all(FHIR_ID.match(i) for i in every)
    key = "report:r1:v2"
    # The finding's problem key (where its evidence points) is part of its id.
    problem = "impression@12-21"
    assert ids[second][1] == obs.finding_observation_id(key, "llm", "report.typo", "item", problem)
    assert ids[second][1] != obs.finding_observation_id(key, "llm", "report.typo", "item")
    assert ids[second][-1] == obs.summary_observation_id(key)
    expected = "rqc-" + hashlib.sha256(f"{key}|qc.summary".encode()).hexdigest()[:40]
    assert obs.summary_observation_id(key) == expected
    with db.reader() as session:
        item = session.get(Item, image)
        assert item is not None
        assert obs.item_key(item) == "sop:1.2.826.0.1.3680043.8.498.11:v1"


def test_cancelled_copy_validates_and_the_hash_ignores_meta(db: Database) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.omission")], publisher=None)
    omission, _ = build_all(db, item_id)
    cancelled = obs.with_status(omission, obs.CANCELLED)
    validate(cancelled)
    assert cancelled["status"] == "cancelled"
    assert omission["status"] == "preliminary"
    with_meta = {**omission, "meta": {"versionId": "7"}}
    assert obs.content_hash(with_meta) == obs.content_hash(omission)
    assert obs.content_hash(cancelled) != obs.content_hash(omission)


def test_status_argument_and_fallback_time(db: Database) -> None:
    item_id = add_report_item(db)
    store_findings(db, item_id, [finding("report.sex")], publisher=None, done=False)
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert item.processed_at is None
        context = obs.item_context(item)
        final = obs.build_finding_observation(context, item.findings[0], status=obs.FINAL)
        created = item.findings[0].created_at
    validate(final)
    assert final["status"] == "final"
    assert final["issued"] == obs.fhir_instant(created)


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        ([], ""),
        (
            [{"section": "findings", "start": 0, "end": 4, "text": "left"}],
            'FINDINGS chars 0-4: "left"',
        ),
        (
            [{"quote": "mm"}, {"tag": "(0018,5101)", "value": "PA"}],
            'text: "mm"; tag (0018,5101), value PA',
        ),
    ],
)
def test_render_evidence(evidence: list[dict[str, Any]], expected: str) -> None:
    assert obs.render_evidence(evidence) == expected
