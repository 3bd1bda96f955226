"""``POST/PUT /fhir/DiagnosticReport`` over real HTTP (uvicorn on loopback), on SQLite and
PostgreSQL: real reports stored once each, versions, and every rejection storing nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from service.config import Settings
from service.db import Database
from service.models import Item, Job, Report, ReportVersion
from tests.fhir_adapter.reports_support import (
    NOTHING,
    READER,
    RealReport,
    Service,
    assert_outcome,
    bundle,
    conclusion,
    contained_patient,
    entry,
    iu_reports,
    mt_reports,
    narrative,
    plain,
    report,
    running,
)

TEXT = "FINDINGS: Heart size normal. Lungs clear.\nIMPRESSION: No acute disease."


@pytest.fixture
def service(settings: Settings, db: Database) -> Iterator[Service]:
    with running(settings, db) as svc:
        yield svc


def assert_stored(response: Any, report_id: str, version: int, status: int = 201) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["location"] == (
        f"/fhir/DiagnosticReport/{report_id}/_history/{version}"
    )
    assert response.headers["etag"] == f'W/"{version}"'
    body = response.json()
    assert (body["resourceType"], body["id"]) == ("DiagnosticReport", report_id)
    assert body["meta"]["versionId"] == str(version)


def _sample(shared_data: Path) -> list[RealReport]:
    iu = [r for r in iu_reports(shared_data) if r.has_findings and r.has_impression][:72]
    return iu + mt_reports(shared_data)[:40]


def _send_all(service: Service, reports: list[RealReport]) -> dict[str, tuple[RealReport, str]]:
    """Send each report in one of five forms; returns report id -> (report, form)."""
    sent: dict[str, tuple[RealReport, str]] = {}
    batch: list[dict[str, Any]] = []
    for number, real in enumerate(reports):
        report_id = f"{real.source}-{real.key}"
        form = ("plain", "narrative", "identifier", "contained", "bundle")[number % 5]
        sent[report_id] = (real, form)
        if form == "plain":
            assert_stored(service.post(plain(real.text, id=report_id)), report_id, 1)
        elif form == "narrative":
            assert_stored(service.put(report_id, narrative(real.text)), report_id, 1)
        elif form == "identifier":
            identifier = [{"system": "urn:oid:2.16.840.1.113883.3.999", "value": report_id}]
            response = service.post(conclusion(real.text, identifier=identifier))
            assert response.status_code == 201, response.text
            sent[response.json()["id"]] = sent.pop(report_id)
        elif form == "contained":
            resource = contained_patient(plain(real.text, id=report_id), "female")
            assert_stored(service.post(resource), report_id, 1)
        else:
            patient_url = f"urn:uuid:00000000-0000-4000-8000-{number:012d}"
            batch.append(
                entry({"resourceType": "Patient", "gender": "male"}, "POST", "Patient", patient_url)
            )
            resource = plain(real.text, subject={"reference": patient_url})
            batch.append(entry(resource, "PUT", f"DiagnosticReport/{report_id}"))
    response = service.post(bundle(batch), path="/fhir")
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses == ["200 OK", "201 Created"] * (len(batch) // 2)
    return sent


def test_real_reports_are_stored_once_each_with_their_sections(
    service: Service, shared_data: Path
) -> None:
    reports = _sample(shared_data)
    assert len(reports) >= 100
    sent = _send_all(service, reports)
    n = len(reports)
    assert service.counts() == {"reports": n, "versions": n, "items": n, "jobs": n}
    with service.db.reader() as session:
        rows = session.execute(
            select(Report.report_id, ReportVersion, Item, Job)
            .join(ReportVersion, ReportVersion.report_pk == Report.id)
            .join(Item, Item.report_version_id == ReportVersion.id)
            .join(Job, Job.item_id == Item.id)
        ).all()
        assert len(rows) == n
        for report_id, version, item, job in rows:
            real, form = sent[report_id]
            found = {s["name"] for s in version.sections["sections"]}
            if real.has_findings:
                assert found & {"findings", "findings_impression"}, (report_id, found)
            if real.has_impression:
                assert found & {"impression", "findings_impression"}, (report_id, found)
            if form != "narrative":  # the narrative is re-flowed: one paragraph a line
                assert version.text == real.text
            expected_sex = {"contained": "female", "bundle": "male"}.get(form)
            assert version.patient_sex == expected_sex, (report_id, form)
            assert (version.version, version.status, version.exam_code) == (1, "final", "36643-5")
            assert (item.kind, item.status, item.report_id) == ("report", "queued", report_id)
            assert (job.kind, job.key) == ("qc", f"item:{item.id}")


def test_resent_report_is_not_stored_again_and_changed_text_is_a_new_version(
    service: Service,
) -> None:
    first = service.put("cxr-42", plain(TEXT, meta={"source": "ris-a"}))
    assert_stored(first, "cxr-42", 1)
    assert service.counts() == {"reports": 1, "versions": 1, "items": 1, "jobs": 1}

    again = service.put("cxr-42", plain(TEXT, id="cxr-42", meta={"source": "ris-b"}))
    assert_stored(again, "cxr-42", 1, status=200)
    assert_stored(service.post(plain(TEXT, id="cxr-42")), "cxr-42", 1, status=200)
    assert service.counts() == {"reports": 1, "versions": 1, "items": 1, "jobs": 1}

    amended = plain(TEXT + "\nADDENDUM: Small left pleural effusion.", status="amended")
    assert_stored(service.put("cxr-42", amended), "cxr-42", 2, status=200)  # an update
    assert service.counts() == {"reports": 1, "versions": 2, "items": 2, "jobs": 2}
    assert_stored(service.put("cxr-42", amended), "cxr-42", 2, status=200)
    with service.db.reader() as session:
        latest = session.scalars(select(ReportVersion).where(ReportVersion.version == 2)).one()
        assert (latest.status, latest.text.endswith("effusion.")) == ("amended", True)
        items = session.scalars(select(Item).order_by(Item.id)).all()
        assert [i.report_version for i in items] == [1, 2]


def _received(outcome: str) -> float:
    sample = REGISTRY.get_sample_value(
        "radqc_received_total", {"source": "fhir", "outcome": outcome}
    )
    return sample or 0.0


def test_received_reports_are_counted_by_outcome(service: Service) -> None:
    """Issue 14: radqc_received_total counted DICOM objects only."""
    before = {o: _received(o) for o in ("created", "duplicate", "new_version")}
    service.put("count-1", plain(TEXT))
    service.put("count-1", plain(TEXT))
    service.put("count-1", plain(TEXT + "\nADDENDUM: none.", status="amended"))
    after = {o: _received(o) - before[o] for o in before}
    assert after == {"created": 1, "duplicate": 1, "new_version": 1}


def test_the_stored_json_is_the_body_as_received(service: Service) -> None:
    body = (
        '{\n  "resourceType": "DiagnosticReport",\n  "status": "final",\n'
        '  "code": {"text": "CXR PA"},\n  "conclusion": "IMPRESSION: Clear \\u00e9."\n}'
    )
    response = service.put("raw-1", body.encode())
    assert_stored(response, "raw-1", 1)
    with service.db.reader() as session:
        version = session.scalars(select(ReportVersion)).one()
        assert version.resource_json == body
        assert version.text == "IMPRESSION: Clear é."


def test_concurrent_senders_of_one_new_report_store_it_once(service: Service) -> None:
    resource = plain(TEXT, id="race-1")
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: service.post(resource), range(8)))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert service.counts() == {"reports": 1, "versions": 1, "items": 1, "jobs": 1}


# -- rejections ----------------------------------------------------------------------------------

JSON_BODY = {"Content-Type": "application/fhir+json"}
BROKEN: list[tuple[str, str, str, bytes, dict[str, str], int, str | None, str]] = [
    (
        "wrong resourceType",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps({"resourceType": "Patient", "gender": "male"}).encode(),
        JSON_BODY,
        400,
        "resourceType",
        "invalid",
    ),
    (
        "invalid JSON",
        "POST",
        "/fhir/DiagnosticReport",
        b'{"resourceType": "DiagnosticReport", "status": ',
        JSON_BODY,
        400,
        None,
        "structure",
    ),
    (
        "JSON array",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps([plain(TEXT)]).encode(),
        JSON_BODY,
        400,
        "resourceType",
        "structure",
    ),
    (
        "missing status",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps({k: v for k, v in plain(TEXT).items() if k != "status"}).encode(),
        JSON_BODY,
        422,
        "DiagnosticReport.status",
        "required",
    ),
    (
        "missing code",
        "PUT",
        "/fhir/DiagnosticReport/m-1",
        json.dumps({k: v for k, v in plain(TEXT).items() if k != "code"}).encode(),
        JSON_BODY,
        422,
        "DiagnosticReport.code",
        "required",
    ),
    (
        "bogus status",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps(plain(TEXT, status="done")).encode(),
        JSON_BODY,
        422,
        "DiagnosticReport.status",
        "value",
    ),
    (
        "unknown element",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps(plain(TEXT, reportText="x")).encode(),
        JSON_BODY,
        422,
        "DiagnosticReport.reportText",
        "structure",
    ),
    (
        "no text at all",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps(report()).encode(),
        JSON_BODY,
        422,
        "DiagnosticReport.presentedForm",
        "required",
    ),
    (
        "text/plain",
        "POST",
        "/fhir/DiagnosticReport",
        TEXT.encode(),
        {"Content-Type": "text/plain"},
        415,
        None,
        "not-supported",
    ),
    (
        "application/xml",
        "POST",
        "/fhir/DiagnosticReport",
        b'<DiagnosticReport xmlns="http://hl7.org/fhir"><status value="final"/></DiagnosticReport>',
        {"Content-Type": "application/xml"},
        415,
        None,
        "not-supported",
    ),
    (
        "no Content-Type",
        "PUT",
        "/fhir/DiagnosticReport/m-2",
        json.dumps(plain(TEXT)).encode(),
        {},
        415,
        None,
        "not-supported",
    ),
    (
        "latin-1 charset",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps(plain(TEXT)).encode(),
        {"Content-Type": "application/fhir+json; charset=iso-8859-1"},
        415,
        None,
        "not-supported",
    ),
    (
        "PUT id mismatch",
        "PUT",
        "/fhir/DiagnosticReport/report-a",
        json.dumps(plain(TEXT, id="report-b")).encode(),
        JSON_BODY,
        400,
        "DiagnosticReport.id",
        "invalid",
    ),
    (
        "PUT invalid id",
        "PUT",
        "/fhir/DiagnosticReport/" + "x" * 65,
        json.dumps(plain(TEXT)).encode(),
        JSON_BODY,
        400,
        "DiagnosticReport.id",
        "value",
    ),
    (
        "POST id too long",
        "POST",
        "/fhir/DiagnosticReport",
        json.dumps(plain(TEXT, id="y" * 65)).encode(),
        JSON_BODY,
        422,
        "DiagnosticReport.id",
        "value",
    ),
]


def test_broken_inputs_are_refused_naming_the_element_and_store_nothing(service: Service) -> None:
    for name, method, path, body, headers, status, expression, code in BROKEN:
        response = service.send(method, path, body, headers=headers)
        outcome = assert_outcome(response, status, expression, code)
        assert service.counts() == NOTHING, name
        assert all(i["diagnostics"] for i in outcome["issue"]), name


def test_accepted_media_types(service: Service) -> None:
    for number, media in enumerate(
        [
            "application/fhir+json",
            "application/json",
            "application/fhir+json; charset=UTF-8",
            "application/json;charset=utf-8",
            "application/fhir+json; fhirVersion=4.0",
        ]
    ):
        response = service.post(plain(TEXT, id=f"m{number}"), headers={"Content-Type": media})
        assert_stored(response, f"m{number}", 1)
    assert service.counts()["reports"] == 5


def test_tokens_are_required_and_must_have_the_ingest_role(service: Service) -> None:
    cases = [
        ({}, 401),
        ({"Authorization": "Bearer not-a-known-token-123456"}, 401),
        ({"Authorization": "Basic aW5nZXN0OnNlY3JldA=="}, 401),
        (READER, 403),
    ]
    for token, status in cases:
        for method, path, body in [
            ("POST", "/fhir/DiagnosticReport", plain(TEXT)),
            ("PUT", "/fhir/DiagnosticReport/t-1", plain(TEXT)),
            ("POST", "/fhir", bundle([entry(plain(TEXT))])),
        ]:
            response = service.send(method, path, body, token=token)
            assert response.status_code == status, (token, path, response.text)
            if service.full_app:  # the app's handlers render OperationOutcome on /fhir
                assert_outcome(response, status, None)
    assert service.counts() == NOTHING


def test_admin_token_may_ingest(service: Service) -> None:
    admin = {"Authorization": "Bearer admin-token-01234567890"}
    assert_stored(service.post(plain(TEXT, id="by-admin"), token=admin), "by-admin", 1)


def test_an_oversized_body_is_refused_and_stores_nothing(settings: Settings, db: Database) -> None:
    small = settings.model_copy(update={"max_body_bytes": 4096})
    with running(small, db) as service:
        if not service.full_app:
            pytest.skip("the app's body-size limit is not there yet")
        response = service.post(plain("FINDINGS: " + "Lungs clear. " * 400, id="big"))
        assert_outcome(response, 413, None, "too-long")
        assert_stored(service.post(plain(TEXT, id="small")), "small", 1)
        assert service.counts()["reports"] == 1
