"""The FHIR routes against hostile or broken input (issue 10), over real HTTP, on SQLite and
PostgreSQL: text no database can store, repeated JSON members, and what an error or a log line
may say. Patient data is stood in for by canaries that must never appear in a response to a
refused request nor in any log record of any logger (radqc's, SQLAlchemy's, uvicorn's)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from service.config import Settings
from service.db import Database
from tests.fhir_adapter.reports_support import (
    NOTHING,
    READER,
    Service,
    assert_outcome,
    bundle,
    conclusion,
    entry,
    plain,
    running,
)
from tests.service.api.log_support import every_log_record, rendered

MRN = "MRN-CANARY-7731902"
NAME = "Canarina Zyxwvutsky"
CANARIES = (MRN, NAME, "Zyxwvutsky")
TEXT = "FINDINGS: Lungs clear.\nIMPRESSION: No acute disease."


@pytest.fixture
def service(settings: Settings, db: Database) -> Iterator[Service]:
    with running(settings, db) as svc:
        yield svc


def patient_report(text: str = TEXT, **elements: Any) -> dict[str, Any]:
    """A report about the canary patient: MRN in the subject reference, name in its display."""
    return conclusion(text, subject={"reference": f"Patient/{MRN}", "display": NAME}, **elements)


def assert_no_canary(text: str, where: str) -> None:
    for canary in CANARIES:
        assert canary not in text, f"{canary!r} found in {where}:\n{text[:3000]}"


def test_a_stored_report_leaves_no_patient_data_in_any_log(service: Service) -> None:
    """SQLAlchemy logs every statement at INFO: with hide_parameters its values stay out."""
    with every_log_record() as records:
        response = service.post(patient_report(id="canary-1"))
        assert response.status_code == 201, response.text
    assert any(r.name.startswith("sqlalchemy.engine") for r in records), "no SQL was logged"
    assert_no_canary(rendered(records), "the log")


NUL = "\u0000"
NUL_CASES = [
    (
        "POST",
        "/fhir/DiagnosticReport",
        patient_report(f"FINDINGS: a{NUL}b"),
        "DiagnosticReport.conclusion",
    ),
    (
        "PUT",
        "/fhir/DiagnosticReport/nul-put-1",
        conclusion(TEXT, subject={"reference": f"Patient/{MRN}", "display": NAME + NUL}),
        "DiagnosticReport.subject.display",
    ),
    (
        "POST",
        "/fhir",
        bundle([entry(patient_report(f"IMPRESSION: {NUL}"))]),
        "Bundle.entry[0].resource.conclusion",
    ),
    (
        "POST",
        "/fhir",
        bundle([entry(patient_report()), entry(patient_report(f"x{NUL}"))], kind="batch"),
        "Bundle.entry[1].resource.conclusion",
    ),
    (
        "POST",
        "/fhir/DiagnosticReport",
        plain(f"FINDINGS: {NUL} clear.", subject={"reference": f"Patient/{MRN}"}),
        "DiagnosticReport.presentedForm[0].data",
    ),
    (
        "POST",
        "/fhir/DiagnosticReport",
        {**patient_report(), f"note{NUL}": "x"},
        "DiagnosticReport",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "expression"), NUL_CASES)
def test_a_nul_is_refused_naming_the_element_and_nothing_reaches_a_log(
    service: Service, method: str, path: str, body: dict[str, Any], expression: str
) -> None:
    """PostgreSQL text cannot hold U+0000: the INSERT used to fail with a 500 and log its
    parameters (the MRN, the name, the start of the report). Now: 422 before any statement."""
    with every_log_record() as records:
        response = service.send(method, path, body)
        outcome = assert_outcome(response, 422, expression, "value", says="NUL")
    assert_no_canary(response.text, "the response")
    assert_no_canary(rendered(records), "the log")
    assert json.dumps(outcome).count("\\u0000") == 0
    assert service.counts() == NOTHING


def test_an_unpaired_surrogate_is_refused_not_a_500(service: Service) -> None:
    raw = json.dumps(patient_report("IMPRESSION: x")).replace("x", "\\ud800")
    response = service.post(raw.encode())
    assert_outcome(response, 422, "DiagnosticReport.conclusion", "value", says="surrogate")
    text = base64.b64encode("FINDINGS: é".encode("utf-7")).decode()
    utf7 = plain(TEXT)
    utf7["presentedForm"] = [{"contentType": "text/plain; charset=utf-7", "data": text}]
    assert service.post(utf7).status_code == 201  # valid UTF-7 is fine
    lone = base64.b64encode(b"FINDINGS: +2AA-").decode()  # UTF-7 for a lone surrogate
    utf7["presentedForm"] = [{"contentType": "text/plain; charset=utf-7", "data": lone}]
    assert_outcome(service.post(utf7), 422, "DiagnosticReport.presentedForm[0].data", "value")


DUPLICATES = [
    (
        "/fhir/DiagnosticReport",
        '{"resourceType": "DiagnosticReport", "status": "final", "status": "cancelled",'
        ' "code": {"text": "CXR"}, "conclusion": "IMPRESSION: clear."}',
        "DiagnosticReport.status",
    ),
    (
        "/fhir/DiagnosticReport",
        '{"resourceType": "DiagnosticReport", "status": "final", "code": {"text": "CXR",'
        ' "text": "CT head"}, "conclusion": "IMPRESSION: clear."}',
        "DiagnosticReport.code.text",
    ),
    (
        "/fhir",
        '{"resourceType": "Bundle", "type": "batch", "entry": [{"request": {"method": "POST",'
        ' "url": "DiagnosticReport"}, "resource": {"resourceType": "DiagnosticReport",'
        ' "status": "final", "code": {"text": "CXR"}, "conclusion": "a", "conclusion": "b"}}]}',
        "Bundle.entry[0].resource.conclusion",
    ),
    (
        "/fhir",
        '{"resourceType": "Bundle", "type": "transaction", "type": "batch", "entry": []}',
        "Bundle.type",
    ),
]


@pytest.mark.parametrize(("path", "raw", "expression"), DUPLICATES)
def test_a_member_given_twice_is_refused(
    service: Service, path: str, raw: str, expression: str
) -> None:
    """Two readers of one body must not see two reports: the last-one-wins parse is refused."""
    response = service.send("POST", path, raw.encode())
    assert_outcome(response, 400, expression, "structure", says="given twice")
    assert service.counts() == NOTHING


SECRET = "CANARY-VALUE-5523"
ECHOES = [
    ("POST", "/fhir/DiagnosticReport", patient_report(status=SECRET), "DiagnosticReport.status"),
    ("POST", "/fhir/DiagnosticReport", patient_report(issued=SECRET), "DiagnosticReport.issued"),
    ("POST", "/fhir", {"resourceType": "Bundle", "type": SECRET}, "Bundle.type"),
    (
        "POST",
        "/fhir",
        bundle([{"resource": patient_report(), "request": {"method": SECRET, "url": "x"}}]),
        "Bundle.entry[0].request.method",
    ),
    (
        "POST",
        "/fhir/DiagnosticReport",
        patient_report(contained=[{"resourceType": "CanaryValueType"}]),
        "DiagnosticReport.contained[0].resourceType",
    ),
    ("POST", "/fhir/DiagnosticReport", {"resourceType": "CanaryValueType"}, "resourceType"),
    ("PUT", f"/fhir/DiagnosticReport/{SECRET}", patient_report(id="other"), "DiagnosticReport.id"),
]


@pytest.mark.parametrize(("method", "path", "body", "expression"), ECHOES)
def test_an_error_names_the_element_not_the_value(
    service: Service, method: str, path: str, body: dict[str, Any], expression: str
) -> None:
    with every_log_record() as records:
        response = service.send(method, path, body)
        assert_outcome(response, response.status_code, expression)
    assert response.status_code in (400, 422)
    # the request line (a URL may hold the id) is logged only by the test's client and by
    # uvicorn's access log, which radqc's servers run without
    logged = [r for r in records if r.name not in ("httpx", "uvicorn.access")]
    for text, where in ((response.text, "the response"), (rendered(logged), "the log")):
        assert SECRET not in text and "CanaryValueType" not in text, (where, text[:2000])
        assert_no_canary(text, where)


def test_header_values_are_not_repeated(service: Service) -> None:
    for header in ("application/x-canary-5523", "application/json; charset=canary-5523"):
        response = service.post(patient_report(), headers={"Content-Type": header})
        assert_outcome(response, 415, None, "not-supported")
        assert "canary-5523" not in response.text


@pytest.mark.parametrize(
    "query",
    [
        "status=CANARY-VALUE-5523",
        "date=CANARY-VALUE-5523",
        "date=9999-12-31",  # the day after does not exist: was an OverflowError, a 500
        "date=9999-12",
        "_count=%C2%B2",  # a superscript two is a digit to str.isdigit, not to int(): was a 500
        "subject=Patient%2F%00",  # PostgreSQL cannot compare text holding NUL: was a 500
        "code=%00",
        "_cursor=" + base64.urlsafe_b64encode(b'{"after": "\\u0000"}').decode(),  # forged
    ],
)
def test_observation_search_refuses_bad_values_with_400(service: Service, query: str) -> None:
    response = service.client.get(f"/fhir/Observation?{query}", headers=READER)
    assert_outcome(response, 400, None)
    assert "CANARY" not in response.text


def test_an_observation_id_with_a_nul_is_400_not_a_database_error(service: Service) -> None:
    response = service.client.get("/fhir/Observation/obs%00x", headers=READER)
    assert_outcome(response, 400, None, says="NUL")
    response = service.client.get(f"/fhir/Observation/{SECRET}", headers=READER)
    assert_outcome(response, 404, None, "not-found")
    assert SECRET not in response.text
