"""radqc's FHIR read API over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL.

The seed: report r1 in two versions (version 2 corrects it, so version 1's Observations are
cancelled), report r2, and an image. ``STORED_AT`` is when each item's Observations were last
stored (``_lastUpdated``); ``EFFECTIVE`` their ``effectiveDateTime`` (``date``): the reports' own
times, the image's QC time (it has no stored file here)."""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from sqlalchemy import select, update

from fhir_adapter.publisher import ObservationPublisher
from service.api import pagination
from service.app import build_api
from service.components import Components
from service.config import Settings
from service.db import Database
from service.models import Observation
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from service.taxonomy import CODE_SYSTEM
from tests.fhir_adapter.support import (
    STUDY_UID,
    add_image_item,
    add_report_item,
    finding,
    store_findings,
    validate,
)
from tests.support.servers import serve_app

READER = {"Authorization": "Bearer reader-token-0123456789"}
PUBLISHER = ObservationPublisher(writeback_enabled=False)
STORED_AT = {  # item -> when its Observations were (last) stored
    "r1v1": dt.datetime(2024, 1, 10, 12, 0, tzinfo=dt.UTC),
    "r1v2": dt.datetime(2024, 2, 10, 12, 0, tzinfo=dt.UTC),
    "r2": dt.datetime(2024, 3, 10, 8, 0, tzinfo=dt.UTC),
    "image": dt.datetime(2024, 3, 11, 0, 0, 30, 500000, tzinfo=dt.UTC),
}
R1_TIME = {"effectiveDateTime": "2024-01-09T08:00:00+01:00", "issued": "2024-01-09T10:00:00Z"}
EFFECTIVE = {
    "r1v1": "2024-01-09T07:00:00.000Z",
    "r1v2": "2024-01-09T07:00:00.000Z",  # a correction: same study, same time
    "r2": "2024-03-09",  # a date without a time
    "image": "2024-05-01T10:20:30.123Z",  # no source time: the QC time (PROCESSED_AT)
}


@dataclass
class Api:
    http: httpx.Client
    base: str
    ids: dict[str, set[str]]  # item -> its Observation ids

    def search(self, query: str = "", **kwargs: Any) -> httpx.Response:
        return self.http.get(f"/fhir/Observation{'?' + query if query else ''}", **kwargs)

    def found(self, query: str) -> set[str]:
        response = self.search(query)
        assert response.status_code == 200, response.text
        bundle = response.json()
        assert "link" not in bundle or all(link["relation"] != "next" for link in bundle["link"])
        return {entry["resource"]["id"] for entry in bundle.get("entry", [])}

    def of(self, *items: str) -> set[str]:
        return set().union(*(self.ids[item] for item in items))


def _seed(db: Database) -> dict[str, set[str]]:
    items = {
        "r1v1": add_report_item(db, "r1", subject="Patient/p1", text="one", times=R1_TIME),
        "r1v2": add_report_item(db, "r1", subject="Patient/p1", text="two", times=R1_TIME),
        "r2": add_report_item(
            db, "r2", subject="Patient/p2", times={"effectivePeriod": {"start": "2024-03-09"}}
        ),
        "image": add_image_item(db, patient_id="PID-0001"),
    }
    plan = {
        "r1v1": ["report.laterality", "report.typo"],
        "r1v2": ["report.laterality"],
        "r2": [],
        "image": ["cxr.exposure"],
    }
    for name, codes in plan.items():
        store_findings(db, items[name], [finding(code) for code in codes], publisher=PUBLISHER)
    # version 2 superseded version 1: processing version 1 again changes nothing (its
    # Observations, the typo among them, were cancelled once: version 2)
    store_findings(db, items["r1v1"], [finding("report.laterality")], publisher=PUBLISHER)
    ids: dict[str, set[str]] = {}
    with db.transaction() as session:
        for name, item_id in items.items():
            session.execute(
                update(Observation)
                .where(Observation.item_id == item_id)
                .values(updated_at=STORED_AT[name])
            )
            ids[name] = set(
                session.scalars(select(Observation.id).where(Observation.item_id == item_id))
            )
    return ids


@pytest.fixture
def api(db: Database, settings: Settings) -> Iterator[Api]:
    with seeded_api(db, settings) as served:
        yield served


@contextmanager
def seeded_api(db: Database, settings: Settings) -> Iterator[Api]:
    """radqc under uvicorn with the seeded Observations, and a reader's client."""
    ids = _seed(db)
    files = FileStore(settings.dicom_dir)
    components = Components(
        settings=settings, db=db, files=files, pipeline=Pipeline(db, files, [], [], NullPublisher())
    )
    with (
        serve_app(build_api(components)) as base,
        httpx.Client(base_url=base, headers=READER, timeout=10) as http,
    ):
        yield Api(http, base, ids)


def _code_of(api: Api, code: str) -> set[str]:
    with_code = set()
    for obs_id in api.of("r1v1", "r1v2", "r2", "image"):
        resource = api.http.get(f"/fhir/Observation/{obs_id}").json()
        if resource["code"]["coding"][0]["code"] == code:
            with_code.add(obs_id)
    return with_code


def test_metadata_is_an_open_capability_statement(api: Api) -> None:
    response = httpx.get(f"{api.base}/fhir/metadata")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    body = response.json()
    CapabilityStatement.model_validate(body)
    assert body["fhirVersion"] == "4.0.1"
    assert body["format"] == ["json"]
    (rest,) = body["rest"]
    assert rest["mode"] == "server"
    resources = {r["type"]: r for r in rest["resource"]}
    assert {i["code"] for i in resources["DiagnosticReport"]["interaction"]} == {
        "read",
        "vread",
        "create",
        "update",
    }
    assert {i["code"] for i in resources["Observation"]["interaction"]} == {
        "read",
        "vread",
        "search-type",
    }
    assert resources["Observation"]["readHistory"] is True
    assert {p["name"] for p in resources["Observation"]["searchParam"]} == {
        "_id",
        "_lastUpdated",
        "code",
        "status",
        "category",
        "subject",
        "patient",
        "derived-from",
        "date",
    }
    assert {p["name"] for p in rest["searchParam"]} == {
        "_sort",
        "_count",
        "_summary",
        "_total",
        "_elements",
        "_format",
    }
    assert body["implementation"]["url"] == f"{api.base}/fhir"


def test_read_returns_the_stored_resource_with_meta(api: Api) -> None:
    (cancelled,) = _code_of(api, "report.typo")
    response = api.http.get(f"/fhir/Observation/{cancelled}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.headers["etag"] == 'W/"2"'
    resource = response.json()
    validate(resource)
    assert list(resource)[:3] == ["resourceType", "id", "meta"]
    assert resource["meta"] == {"versionId": "2", "lastUpdated": "2024-01-10T12:00:00.000Z"}
    assert resource["status"] == "cancelled"
    assert resource["note"][-1]["text"].startswith("Superseded: version 2 of this report")
    assert resource["effectiveDateTime"] == EFFECTIVE["r1v1"]


def test_vread_answers_the_current_and_every_past_version(api: Api) -> None:
    (cancelled,) = _code_of(api, "report.typo")
    current = api.http.get(f"/fhir/Observation/{cancelled}/_history/2")
    assert current.status_code == 200
    assert current.headers["etag"] == 'W/"2"'
    assert current.json() == api.http.get(f"/fhir/Observation/{cancelled}").json()
    earlier = api.http.get(f"/fhir/Observation/{cancelled}/_history/1")
    assert earlier.status_code == 200
    assert earlier.headers["etag"] == 'W/"1"'
    past = earlier.json()
    validate(past)
    assert past["meta"]["versionId"] == "1"
    assert past["status"] == "preliminary"  # as it was before version 2 of the report
    assert "note" not in past or all("Superseded" not in n["text"] for n in past["note"])
    assert {k: v for k, v in past.items() if k not in ("meta", "status", "note")} == {
        k: v for k, v in current.json().items() if k not in ("meta", "status", "note")
    }
    for missing in ("3", "0", "x"):
        answer = api.http.get(f"/fhir/Observation/{cancelled}/_history/{missing}")
        assert answer.status_code == 404
        assert answer.json()["resourceType"] == "OperationOutcome"
        assert "the current one is 2" in answer.json()["issue"][0]["diagnostics"]
    assert api.http.get("/fhir/Observation/rqc-unknown/_history/1").status_code == 404
    path = f"/fhir/Observation/{cancelled}/_history/2"
    assert api.http.get(path, headers={"If-None-Match": 'W/"2"'}).status_code == 304
    earlier_path = f"/fhir/Observation/{cancelled}/_history/1"
    assert api.http.get(earlier_path, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert httpx.get(f"{api.base}{path}").status_code == 401
    assert httpx.get(f"{api.base}{earlier_path}").status_code == 401


def test_read_unknown_is_404_and_reading_needs_a_reader_token(api: Api) -> None:
    response = api.http.get("/fhir/Observation/rqc-unknown")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/fhir+json")
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "not-found"
    some_id = next(iter(api.ids["r2"]))
    assert httpx.get(f"{api.base}/fhir/Observation/{some_id}").status_code == 401
    assert httpx.get(f"{api.base}/fhir/Observation").status_code == 401
    ingest = {"Authorization": "Bearer ingest-token-0123456789"}
    assert api.search(headers=ingest).status_code == 403
    auditor = {"Authorization": "Bearer auditor-token-0123456789"}
    assert api.http.get(f"/fhir/Observation/{some_id}", headers=auditor).status_code == 200


def test_search_by_code_status_subject_and_derived_from(api: Api) -> None:
    every = api.of("r1v1", "r1v2", "r2", "image")
    assert len(every) == 8
    assert api.found("") == every
    laterality = _code_of(api, "report.laterality")
    assert len(laterality) == 2
    assert api.found("code=report.laterality") == laterality
    typo = _code_of(api, "report.typo")
    assert api.found(f"code={CODE_SYSTEM}|report.typo") == typo
    assert api.found("code=http://loinc.org|report.typo") == set()
    assert api.found(f"code={CODE_SYSTEM}|") == every
    assert api.found("code=report.typo,cxr.exposure") == typo | _code_of(api, "cxr.exposure")
    assert len(api.found("code=qc.summary")) == 4
    superseded = api.of("r1v1")  # a corrected report: version 1 is no longer current
    assert typo <= superseded
    assert api.found("status=cancelled") == superseded
    assert api.found("status=preliminary") == every - superseded
    assert api.found("status=preliminary,final") == every - superseded
    assert api.found("status:not=cancelled,entered-in-error") == every - superseded
    assert api.found("status:not=cancelled&status:not=entered-in-error") == every - superseded
    assert api.found("status=preliminary&code=report.typo") == set()
    current_summary = "derived-from=DiagnosticReport/r1&code=qc.summary&status=preliminary,final"
    assert api.found(current_summary) == api.of("r1v2") & _code_of(api, "qc.summary")
    assert api.found("subject=Patient/p1") == api.of("r1v1", "r1v2")
    assert api.found("subject=Patient/p2") == api.of("r2")
    assert api.found("subject:identifier=urn:radqc:dicom-patient-id|PID-0001") == api.of("image")
    assert api.found("derived-from=DiagnosticReport/r1") == api.of("r1v1", "r1v2")
    assert api.found("derived-from=DiagnosticReport/r1/_history/2") == api.of("r1v2")
    assert api.found("derived-from=DiagnosticReport/r") == set()
    assert api.found(f"derived-from:identifier=urn:dicom:uid|urn:oid:{STUDY_UID}") == api.of(
        "image"
    )
    assert api.found("code=report.laterality&derived-from=DiagnosticReport/r1/_history/1") == (
        laterality & api.of("r1v1")
    )


def test_search_by_last_updated(api: Api) -> None:
    assert api.found("_lastUpdated=2024-01") == api.of("r1v1")
    assert api.found("_lastUpdated=2024") == api.of("r1v1", "r1v2", "r2", "image")
    assert api.found("_lastUpdated=ne2024-01") == api.of("r1v2", "r2", "image")
    assert api.found("_lastUpdated=ge2024-02-10") == api.of("r1v2", "r2", "image")
    assert api.found("_lastUpdated=gt2024-02-10") == api.of("r2", "image")
    assert api.found("_lastUpdated=lt2024-02-10T12:00:00Z") == api.of("r1v1")
    assert api.found("_lastUpdated=le2024-02-10T12:00:00Z") == api.of("r1v1", "r1v2")
    assert api.found("_lastUpdated=2024-02-10T12:00:00Z") == api.of("r1v2")
    assert api.found("_lastUpdated=2024-02-10T13:00:00%2B01:00") == api.of("r1v2")
    assert api.found("_lastUpdated=2024-02-10T13:00:00+01:00") == api.of("r1v2")  # "+" as is
    assert api.found("_lastUpdated=2024-03-11T00:00") == api.of("image")
    assert api.found("_lastUpdated=2024-03-11T00:00:30") == api.of("image")
    assert api.found("_lastUpdated=2024-03-11T00:00:30.4") == set()
    assert api.found("_lastUpdated=ge2024-01-01&_lastUpdated=lt2024-03") == api.of("r1v1", "r1v2")


def test_search_by_date_is_on_the_study_or_report_time(api: Api) -> None:
    every = api.of("r1v1", "r1v2", "r2", "image")
    for name, item_ids in api.ids.items():
        for obs_id in item_ids:
            resource = api.http.get(f"/fhir/Observation/{obs_id}").json()
            assert resource["effectiveDateTime"] == EFFECTIVE[name], name
            validate(resource)
    r1 = api.of("r1v1", "r1v2")
    assert api.found("date=2024") == every
    assert api.found("date=2024-01") == r1
    assert api.found("date=2024-01-09T07:00:00Z") == r1
    assert api.found("date=2024-01-09T08:00:00%2B01:00") == r1
    assert api.found("date=2024-01-09T08:00:00+01:00") == r1  # "+" sent unencoded
    assert api.found("date=2024-01-09T07:01") == set()
    assert api.found("date=2024-03-09") == api.of("r2")  # a date: its day, from 00:00 UTC
    assert api.found("date=ne2024-01") == api.of("r2", "image")
    assert api.found("date=ge2024-03") == api.of("r2", "image")
    assert api.found("date=gt2024-03-09") == api.of("image")
    assert api.found("date=lt2024-03-09") == r1
    assert api.found("date=le2024-03-09") == r1 | api.of("r2")
    assert api.found("date=2024-05-01T10:20:30.123Z") == api.of("image")
    assert api.found("date=2024-05-01T10:20:30.124Z") == set()
    assert api.found("date=ge2024-01-01&date=lt2024-03") == r1
    # the DSTU prefixes fhirclient sends for $gte, $gt, $lte, $lt
    assert api.found("date=>=2024-03") == api.of("r2", "image")
    assert api.found("date=%3E2024-03-09") == api.of("image")
    assert api.found("date=<=2024-03-09") == r1 | api.of("r2")
    assert api.found("date=<2024-03-09") == r1


def test_paging_follows_next_links_through_every_result(api: Api) -> None:
    for query, expected in (
        ("_count=3", api.of("r1v1", "r1v2", "r2", "image")),
        ("subject=Patient/p1&_count=4", api.of("r1v1", "r1v2")),
    ):
        url: str | None = f"{api.base}/fhir/Observation?{query}"
        seen: list[str] = []
        pages = 0
        while url is not None:
            response = api.http.get(url)
            assert response.status_code == 200
            bundle = response.json()
            Bundle.model_validate(bundle)
            assert bundle["type"] == "searchset"
            assert bundle["total"] == len(expected)
            links = {link["relation"]: link["url"] for link in bundle["link"]}
            assert links["self"] == url
            for entry in bundle.get("entry", []):
                assert entry["search"] == {"mode": "match"}
                assert entry["fullUrl"] == (
                    f"{api.base}/fhir/Observation/{entry['resource']['id']}"
                )
                assert entry["resource"]["meta"]["versionId"] in {"1", "2"}
                seen.append(entry["resource"]["id"])
            url = links.get("next")
            assert url is None or url.startswith(f"{api.base}/fhir/Observation?")
            pages += 1
        assert len(seen) == len(set(seen))
        assert set(seen) == expected
        assert pages == -(-len(expected) // int(query.rsplit("=", 1)[1]))
    summary_only = api.search("_count=0").json()
    assert summary_only["total"] == 8
    assert "entry" not in summary_only
    assert "entry" not in api.search("code=cxr.centering").json()
    assert len(api.search("_count=100000").json()["entry"]) == 8


def _follow(api: Api, query: str) -> list[list[str]]:
    pages: list[list[str]] = []
    url: str | None = f"{api.base}/fhir/Observation?{query}"
    while url is not None and len(pages) < 100:
        bundle = api.http.get(url).json()
        pages.append([entry["resource"]["id"] for entry in bundle.get("entry", [])])
        url = next((link["url"] for link in bundle["link"] if link["relation"] == "next"), None)
    assert url is None, "paging did not end"
    return pages


def test_paging_holds_every_observation_once_in_id_order_when_times_tie(api: Api) -> None:
    every = sorted(api.of("r1v1", "r1v2", "r2", "image"))
    assert len(every) == 8  # several share one stored time (STORED_AT is per item)
    with_code = sorted(api.of("r1v1", "r1v2") & _code_of(api, "report.laterality"))
    for count in (1, 2, 3, 7, 8, 9):
        pages = _follow(api, f"_count={count}")
        assert [obs_id for page in pages for obs_id in page] == every, count
        assert all(len(page) == count for page in pages[:-1]) and pages[-1]
        pages = _follow(api, f"code=report.laterality&_count={count}")
        assert [obs_id for page in pages for obs_id in page] == with_code, count


def test_a_cursor_of_an_earlier_scheme_or_another_list_is_400(api: Api) -> None:
    first = api.search("_count=1").json()
    cursor = parse_qs(urlsplit(first["link"][1]["url"]).query)["_cursor"][0]
    some_id = min(api.of("r2"))
    earlier = base64.urlsafe_b64encode(json.dumps({"after": some_id}).encode()).decode()
    items_cursor = pagination.ITEMS.encode((STORED_AT["r2"], 1))
    for bad in (earlier, earlier.rstrip("="), items_cursor, cursor[:-1], cursor + "A"):
        response = api.search(urlencode({"_cursor": bad}))
        assert response.status_code == 400, (bad, response.text)
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["expression"] == ["_cursor"]
        assert "invalid cursor" in outcome["issue"][0]["diagnostics"]
    assert api.search(urlencode({"_cursor": cursor})).status_code == 200


BAD_QUERIES = [
    ("_count=-1", "_count"),
    ("_count=many", "_count"),
    ("status=bogus", "status"),
    ("date=2024-13", "date"),
    ("date=sa2024-01-01", "date"),
    ("date=yesterday", "date"),
    ("_cursor=%21%21not-a-cursor", "_cursor"),
    ("subject=a|b", "subject"),
    ("code=", "code"),
    ("code=a,,b", "code"),
    ("subject:identifier=PID-0001", "subject:identifier"),
    ("code=report.typo&derived-from=urn:dicom:uid|x", "derived-from"),
]


def test_a_bad_parameter_is_400_with_an_operation_outcome(api: Api) -> None:
    for query, parameter in BAD_QUERIES:
        response = api.search(query)
        assert response.status_code == 400, (query, response.text)
        assert response.headers["content-type"].startswith("application/fhir+json")
        outcome = response.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["code"] == "invalid"
        assert outcome["issue"][0]["expression"] == [parameter], query
