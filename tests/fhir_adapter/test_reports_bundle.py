"""``POST /fhir`` with transaction and batch Bundles over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from service.config import Settings
from service.db import Database
from service.models import Item, ReportVersion
from tests.fhir_adapter.reports_support import (
    NOTHING,
    Service,
    assert_outcome,
    bundle,
    entry,
    narrative,
    plain,
    running,
)

TEXT = "FINDINGS: Heart size normal. Lungs clear.\nIMPRESSION: No acute disease."
PATIENT_URL = "urn:uuid:5a3c3f5e-8c1b-4c55-9a3e-1f2b3c4d5e6f"


@pytest.fixture
def service(settings: Settings, db: Database) -> Iterator[Service]:
    with running(settings, db) as svc:
        yield svc


def good_entries() -> list[dict[str, Any]]:
    patient = {"resourceType": "Patient", "id": "p1", "gender": "female"}
    return [
        entry(patient, "PUT", "Patient/p1", PATIENT_URL),
        entry(plain(TEXT, subject={"reference": PATIENT_URL}), "PUT", "DiagnosticReport/tx-1"),
        entry(narrative(TEXT, id="tx-2", subject={"reference": "Patient/p1"})),
        entry(plain(TEXT + " Stable.", identifier=[{"system": "urn:ris", "value": "77"}])),
    ]


def statuses(response: Any) -> list[str]:
    return [e["response"]["status"] for e in response.json()["entry"]]


def test_transaction_stores_every_report_with_the_bundle_patients_sex(service: Service) -> None:
    response = service.post(bundle(good_entries()), path="/fhir")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    answer = response.json()
    assert (answer["resourceType"], answer["type"]) == ("Bundle", "transaction-response")
    assert statuses(response) == ["200 OK", "201 Created", "201 Created", "201 Created"]
    patient, first, second, third = (e["response"] for e in answer["entry"])
    assert patient["outcome"]["issue"][0]["code"] == "informational"
    assert (first["location"], first["etag"]) == ("DiagnosticReport/tx-1/_history/1", 'W/"1"')
    assert second["location"] == "DiagnosticReport/tx-2/_history/1"
    third_id = third["location"].split("/")[1]
    assert third["location"] == f"DiagnosticReport/{third_id}/_history/1"
    assert service.counts() == {"reports": 3, "versions": 3, "items": 3, "jobs": 3}
    with service.db.reader() as session:
        sexes = dict(
            session.execute(
                select(Item.report_id, ReportVersion.patient_sex).join(
                    Item, Item.report_version_id == ReportVersion.id
                )
            ).all()
        )
        # by fullUrl, by Patient/id; the third report has no subject
        assert sexes == {"tx-1": "female", "tx-2": "female", third_id: None}

    again = service.post(bundle(good_entries()), path="/fhir/")
    assert statuses(again) == ["200 OK"] * 4
    assert [e["response"].get("location") for e in again.json()["entry"]][1:] == [
        first["location"],
        second["location"],
        third["location"],
    ]
    assert service.counts() == {"reports": 3, "versions": 3, "items": 3, "jobs": 3}


def test_transaction_with_one_bad_entry_stores_nothing(service: Service) -> None:
    entries = good_entries()
    entries.insert(2, entry(plain(TEXT, status="signed", id="bad-1")))
    response = service.post(bundle(entries), path="/fhir")
    outcome = assert_outcome(response, 400, "Bundle.entry[2].resource.status", "value")
    assert len(outcome["issue"]) == 1
    assert service.counts() == NOTHING


@pytest.mark.parametrize(
    ("bad", "status", "expression", "code"),
    [
        (
            entry({"resourceType": "Observation", "status": "final", "code": {"text": "x"}}),
            422,
            "Bundle.entry[4].resource.resourceType",
            "not-supported",
        ),
        (
            entry(plain(TEXT), "DELETE", "DiagnosticReport/tx-1"),
            422,
            "Bundle.entry[4].request.method",
            "not-supported",
        ),
        ({"resource": plain(TEXT)}, 400, "Bundle.entry[4].request", "required"),
        (
            entry(plain(TEXT, id="a"), "PUT", "DiagnosticReport/b"),
            400,
            "Bundle.entry[4].resource.id",
            "invalid",
        ),
        (entry(plain(TEXT, id="tx-2")), 400, "Bundle.entry[4].resource", "duplicate"),
        (
            entry({k: v for k, v in plain(TEXT).items() if k != "code"}),
            400,
            "Bundle.entry[4].resource.code",
            "required",
        ),
        (
            entry({"resourceType": "Patient", "gender": "F"}, "POST", "Patient"),
            400,
            "Bundle.entry[4].resource.gender",
            "value",
        ),
    ],
)
def test_transaction_refusals_name_the_entry(
    service: Service, bad: dict[str, Any], status: int, expression: str, code: str
) -> None:
    response = service.post(bundle([*good_entries(), bad]), path="/fhir")
    assert_outcome(response, status, expression, code)
    assert service.counts() == NOTHING


@pytest.mark.parametrize(
    ("body", "status", "expression"),
    [
        (bundle(good_entries(), kind="collection"), 422, "Bundle.type"),
        ({"resourceType": "Bundle", "entry": []}, 422, "Bundle.type"),
        ({**bundle(good_entries()), "total": "many"}, 422, "Bundle.total"),
        ({**bundle([]), "entry": {"resource": plain(TEXT)}}, 400, "Bundle.entry"),
        (plain(TEXT), 400, "resourceType"),
    ],
)
def test_bundle_level_problems_store_nothing(
    service: Service, body: dict[str, Any], status: int, expression: str
) -> None:
    assert_outcome(service.post(body, path="/fhir"), status, expression)
    assert service.counts() == NOTHING


def test_batch_stores_the_good_entries_and_answers_errors_per_entry(service: Service) -> None:
    entries = [
        entry(plain(TEXT, id="b-1")),
        entry(plain(TEXT, id="b-2", status="bogus")),
        entry({"resourceType": "Observation", "status": "final", "code": {"text": "x"}}),
        entry(plain(TEXT + " Unchanged.", id="b-3")),
    ]
    response = service.post(bundle(entries, kind="batch"), path="/fhir")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["type"] == "batch-response"
    assert statuses(response) == [
        "201 Created",
        "422 Unprocessable Entity",
        "422 Unprocessable Entity",
        "201 Created",
    ]
    bad_status = answer["entry"][1]["response"]["outcome"]["issue"][0]
    assert bad_status["expression"] == ["Bundle.entry[1].resource.status"]
    bad_type = answer["entry"][2]["response"]["outcome"]["issue"][0]
    assert (bad_type["code"], bad_type["expression"]) == (
        "not-supported",
        ["Bundle.entry[2].resource.resourceType"],
    )
    assert service.counts() == {"reports": 2, "versions": 2, "items": 2, "jobs": 2}


def test_concurrent_identical_transactions_store_each_report_once(service: Service) -> None:
    body = bundle([entry(plain(f"{TEXT} Case {n}.", id=f"c-{n}")) for n in range(5)])
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: service.post(body, path="/fhir"), range(4)))
    assert [r.status_code for r in responses] == [200] * 4
    created = [s for r in responses for s in statuses(r) if s == "201 Created"]
    assert len(created) == 5  # every report was created by exactly one of the senders
    assert service.counts() == {"reports": 5, "versions": 5, "items": 5, "jobs": 5}
