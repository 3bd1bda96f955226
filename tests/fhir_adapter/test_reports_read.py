"""``GET /fhir/DiagnosticReport/{id}[/_history/{vid}]`` and conditional requests (``If-Match``
on update, ``If-None-Match`` on read) over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from service.config import Settings
from service.db import Database
from tests.fhir_adapter.reports_support import FHIR, INGEST, READER, Service, plain, running

TEXT = "FINDINGS: Heart size normal. Lungs clear.\nIMPRESSION: No acute disease."
AMENDED = TEXT + "\nADDENDUM: Small left pleural effusion."


@pytest.fixture
def service(settings: Settings, db: Database) -> Iterator[Service]:
    with running(settings, db) as svc:
        yield svc


def test_read_and_vread_return_what_was_received(service: Service) -> None:
    first = plain(TEXT, meta={"source": "ris-a"})
    assert service.put("cxr-7", first).status_code == 201
    assert service.put("cxr-7", plain(AMENDED, status="amended")).status_code == 200

    latest = service.client.get("/fhir/DiagnosticReport/cxr-7", headers=_ingest())
    assert latest.status_code == 200, latest.text
    assert latest.headers["content-type"].startswith("application/fhir+json")
    assert latest.headers["etag"] == 'W/"2"'
    body = latest.json()
    assert (body["resourceType"], body["id"], body["status"]) == (
        "DiagnosticReport",
        "cxr-7",
        "amended",
    )
    assert body["meta"]["versionId"] == "2"
    assert body["meta"]["lastUpdated"].endswith("Z")

    one = service.client.get("/fhir/DiagnosticReport/cxr-7/_history/1", headers=_ingest())
    assert one.status_code == 200
    assert one.headers["etag"] == 'W/"1"'
    assert one.json()["meta"]["source"] == "ris-a"
    assert one.json()["presentedForm"] == first["presentedForm"]
    assert one.headers["content-location"] == "/fhir/DiagnosticReport/cxr-7/_history/1"

    for missing in (
        "/fhir/DiagnosticReport/nope",
        "/fhir/DiagnosticReport/cxr-7/_history/3",
        "/fhir/DiagnosticReport/cxr-7/_history/x",
    ):
        response = service.client.get(missing, headers=_ingest())
        assert response.status_code == 404, missing
        assert response.json()["resourceType"] == "OperationOutcome"
        assert response.json()["issue"][0]["code"] == "not-found"
    assert service.client.get("/fhir/DiagnosticReport/cxr-7").status_code == 401
    assert service.client.get("/fhir/DiagnosticReport/cxr-7", headers=READER).status_code == 403


def test_if_none_match_answers_304_for_the_current_version(service: Service) -> None:
    assert service.put("cxr-8", plain(TEXT)).status_code == 201
    path = "/fhir/DiagnosticReport/cxr-8"
    same = service.client.get(path, headers={**_ingest(), "If-None-Match": 'W/"1"'})
    assert same.status_code == 304
    assert same.headers["etag"] == 'W/"1"'
    assert same.content == b""
    other = service.client.get(path, headers={**_ingest(), "If-None-Match": 'W/"7"'})
    assert other.status_code == 200
    assert service.put("cxr-8", plain(AMENDED)).status_code == 200
    stale = service.client.get(path, headers={**_ingest(), "If-None-Match": 'W/"1"'})
    assert stale.status_code == 200
    assert stale.json()["meta"]["versionId"] == "2"


def test_if_match_makes_an_update_conditional(service: Service) -> None:
    assert service.put("cxr-9", plain(TEXT)).status_code == 201
    counts = service.counts()

    stale = service.put("cxr-9", plain(AMENDED), headers=_fhir(**{"If-Match": 'W/"2"'}))
    assert stale.status_code == 412, stale.text
    outcome = stale.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] == "conflict"
    assert service.counts() == counts  # nothing stored

    garbled = service.put("cxr-9", plain(AMENDED), headers=_fhir(**{"If-Match": "soon"}))
    assert garbled.status_code == 412
    absent = service.put("cxr-10", plain(TEXT), headers=_fhir(**{"If-Match": 'W/"1"'}))
    assert absent.status_code == 412
    assert service.counts() == counts

    fresh = service.put("cxr-9", plain(AMENDED), headers=_fhir(**{"If-Match": 'W/"1"'}))
    assert fresh.status_code == 200, fresh.text
    assert fresh.headers["etag"] == 'W/"2"'
    assert fresh.headers["location"] == "/fhir/DiagnosticReport/cxr-9/_history/2"
    again = service.put("cxr-9", plain(TEXT), headers=_fhir(**{"If-Match": 'W/"1"'}))
    assert again.status_code == 412  # version 1 is no longer current
    anything = service.put("cxr-9", plain(TEXT), headers=_fhir(**{"If-Match": "*"}))
    assert anything.status_code == 200
    assert anything.headers["etag"] == 'W/"3"'


def test_create_is_201_and_update_200(service: Service) -> None:
    created = service.put("cxr-11", plain(TEXT))
    assert created.status_code == 201
    assert service.put("cxr-11", plain(TEXT)).status_code == 200  # unchanged
    updated = service.put("cxr-11", plain(AMENDED))
    assert updated.status_code == 200
    assert json.loads(updated.content)["meta"]["versionId"] == "2"
    assert service.post(plain(TEXT, id="cxr-12")).status_code == 201


def _ingest() -> dict[str, str]:
    return dict(INGEST)


def _fhir(**extra: str) -> dict[str, str]:
    return {**FHIR, **extra}
