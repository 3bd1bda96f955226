"""FHIR search semantics clients expect (issue 11, part 5), over real HTTP on SQLite and
PostgreSQL: lenient and strict handling, ``_id``, ``_lastUpdated``, ``_sort``, ``_summary``,
``_total``, ``_elements``, ``_format``, ``category``, ``patient``, conditional read, OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fhir.resources.R4B.bundle import Bundle

from fhir_adapter.effective import effective_key
from service.config import Settings
from service.db import Database
from tests.fhir_adapter.test_read_api import EFFECTIVE, STORED_AT, Api, seeded_api
from tests.fhir_adapter.test_read_api import _follow as follow

STRICT = {"Prefer": "return=representation, handling=strict"}
ITEMS = ("r1v1", "r1v2", "r2", "image")


@pytest.fixture
def api(db: Database, settings: Settings) -> Iterator[Api]:
    with seeded_api(db, settings) as served:
        yield served


def _self(bundle: dict[str, Any]) -> str:
    return str(next(link["url"] for link in bundle["link"] if link["relation"] == "self"))


def _by_time(api: Api, descending: bool = False) -> list[str]:
    keyed = [(STORED_AT[item], obs_id) for item in ITEMS for obs_id in api.ids[item]]
    ordered = sorted(keyed, reverse=descending)
    return [obs_id for _, obs_id in ordered]


def _by_effective(api: Api, descending: bool = False) -> list[str]:
    padded = {
        item: effective_key(f'{{"effectiveDateTime": "{EFFECTIVE[item]}"}}') for item in ITEMS
    }
    keyed = [(padded[item], obs_id) for item in ITEMS for obs_id in api.ids[item]]
    return [obs_id for _, obs_id in sorted(keyed, reverse=descending)]


def test_unknown_parameters_are_ignored_unless_handling_is_strict(api: Api) -> None:
    typo = api.found("code=report.typo")
    assert len(typo) == 1
    for unknown in ("foo=bar", "_sort=status", "_summary=text", "_include=Observation:subject"):
        query = f"{unknown}&code=report.typo"
        response = api.search(query)
        assert response.status_code == 200, (unknown, response.text)
        bundle = response.json()
        assert {e["resource"]["id"] for e in bundle["entry"]} == typo
        assert _self(bundle) == f"{api.base}/fhir/Observation?code=report.typo"
        strict = api.search(query, headers=STRICT)
        assert strict.status_code == 400, unknown
        outcome = strict.json()
        assert outcome["resourceType"] == "OperationOutcome"
        assert outcome["issue"][0]["expression"] == [unknown.split("=")[0]]
    assert api.search("code=report.typo", headers=STRICT).status_code == 200
    lenient = {"Prefer": "handling=lenient"}
    assert api.search("foo=bar", headers=lenient).status_code == 200
    # a value radqc cannot read of a parameter it knows is an error either way
    assert api.search("status=bogus").status_code == 400


def test_id_last_updated_category_and_patient(api: Api) -> None:
    every = api.of(*ITEMS)
    two = sorted(every)[:2]
    assert api.found(f"_id={two[0]}") == {two[0]}
    assert api.found(f"_id={two[0]},{two[1]}") == set(two)
    assert api.found("_id=rqc-none") == set()
    assert api.found("_lastUpdated=ge2024-02-10") == api.of("r1v2", "r2", "image")
    assert api.found("_lastUpdated=gt2024-02-10") == api.of("r2", "image")
    assert api.found("_lastUpdated=lt2024-02-10T12:00:00Z") == api.of("r1v1")
    assert api.found("_lastUpdated=le2024-02-10T12:00:00Z") == api.of("r1v1", "r1v2")
    assert api.found("_lastUpdated=ge2024-01-01&_lastUpdated=lt2024-03") == api.of("r1v1", "r1v2")
    assert api.search("_lastUpdated=sa2024").json()["issue"][0]["expression"] == ["_lastUpdated"]
    assert api.found("category=imaging") == every
    system = "http://terminology.hl7.org/CodeSystem/observation-category"
    assert api.found(f"category={system}|imaging") == every
    assert api.found("category=laboratory") == set()
    assert api.found("category=http://other|imaging") == set()
    assert api.found("patient=p1") == api.of("r1v1", "r1v2")
    assert api.found("patient=Patient/p2") == api.of("r2")
    assert api.found("patient=p1,p2&code=qc.summary") == api.found(
        "subject=Patient/p1,Patient/p2&code=qc.summary"
    )
    assert api.search("patient=Group/g1").status_code == 400


def test_sort_orders_page_through_every_result(api: Api) -> None:
    every = sorted(api.of(*ITEMS))
    for sort, expected in (
        ("_id", every),
        ("-_id", every[::-1]),
        ("_lastUpdated", _by_time(api)),
        ("-_lastUpdated", _by_time(api, descending=True)),
        ("date", _by_effective(api)),
        ("-date", _by_effective(api, descending=True)),
    ):
        for count in (1, 3, 8):
            pages = follow(api, f"_sort={sort}&_count={count}")
            assert [obs_id for page in pages for obs_id in page] == expected, (sort, count)
    # the DSTU2 form fhirclient sends for {"_sort": {"$desc": "date"}}
    pages = follow(api, "_sort:desc=date&_count=3")
    assert [obs_id for page in pages for obs_id in page] == _by_effective(api, descending=True)
    pages = follow(api, "_sort:asc=date&_count=3")
    assert [obs_id for page in pages for obs_id in page] == _by_effective(api)
    # a cursor is bound to its order
    first = api.search("_sort=-_lastUpdated&_count=2").json()
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    assert "_sort=-_lastUpdated" in next_url
    cursor = parse_qs(urlsplit(next_url).query)["_cursor"][0]
    response = api.search(urlencode({"_cursor": cursor}))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_cursor"]


def test_summary_count_total_elements_and_format(api: Api) -> None:
    counted = api.search("_summary=count&code=qc.summary").json()
    Bundle.model_validate(counted)
    assert counted["total"] == 4
    assert "entry" not in counted
    assert [link["relation"] for link in counted["link"]] == ["self"]
    assert "total" not in api.search("_total=none").json()
    assert api.search("_total=accurate").json()["total"] == 8
    assert api.search("_total=some").status_code == 400
    assert len(api.search("_summary=false").json()["entry"]) == 8

    subset = api.search("_elements=code,status&_count=100").json()
    Bundle.model_validate(subset)
    for entry in subset["entry"]:
        resource = entry["resource"]
        assert set(resource) == {"resourceType", "id", "meta", "code", "status"}
        assert resource["meta"]["tag"][0]["code"] == "SUBSETTED"
    assert api.search("_elements=a.b").status_code == 400

    for fmt in ("json", "application/json", "application/fhir+json"):
        response = api.search(urlencode({"_format": fmt, "_count": "1"}))
        assert response.status_code == 200, fmt
        assert response.headers["content-type"].startswith("application/fhir+json")
    xml = api.search("_format=xml")
    assert xml.status_code == 406
    assert xml.json()["issue"][0]["code"] == "not-supported"


def test_conditional_read_of_an_observation(api: Api) -> None:
    obs_id = min(api.of("r2"))
    path = f"/fhir/Observation/{obs_id}"
    assert api.http.get(path, headers={"If-None-Match": 'W/"1"'}).status_code == 304
    assert api.http.get(path, headers={"If-None-Match": 'W/"2"'}).status_code == 200


def test_openapi_documents_the_search_parameters(api: Api) -> None:
    spec = httpx.get(f"{api.base}/openapi.json", headers=api.http.headers).json()
    parameters = spec["paths"]["/fhir/Observation"]["get"]["parameters"]
    documented = {p["name"] for p in parameters if p["in"] == "query"}
    assert documented >= {
        "_id",
        "_lastUpdated",
        "code",
        "status",
        "category",
        "subject",
        "subject:identifier",
        "patient",
        "derived-from",
        "derived-from:identifier",
        "date",
        "status:not",
        "_sort",
        "_count",
        "_summary",
        "_total",
        "_elements",
        "_format",
        "_cursor",
    }
