"""``POST /api/v1/items/{id}/audit`` over real HTTP, on SQLite and PostgreSQL: verdicts are stored
with the auditor from the token, Observations change status and are written back to a real
(recording) FHIR server through the outbox, and bad input gets a specific 4xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fhir_adapter.writeback import WritebackClient
from service import queue
from service.api.auth import authenticate
from service.components import Components
from service.config import Settings
from service.db import Database
from service.loop.models import Audit, AuditFinding, AuditMissed
from service.models import FindingRow, Observation, OutboxEntry
from service.worker import Worker, WorkerConfig
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.service.api.conftest import ADMIN, AUDITOR, READER, make_app, make_components
from tests.service.api.support import seed_scenario
from tests.support.servers import serve_app


@pytest.fixture
def fhir() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
def comps(settings: Settings, db: Database, fhir: RecordingFHIRServer) -> Components:
    return make_components(settings.model_copy(update={"fhir_writeback_url": fhir.base_url}), db)


@pytest.fixture
def ids(comps: Components, shared_data: Path) -> dict[str, int]:
    return seed_scenario(comps, shared_data)


@pytest.fixture
def base_url(comps: Components, ids: dict[str, int]) -> Iterator[str]:
    with serve_app(make_app(comps)) as url:
        yield url


def _client(base_url: str, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=10)


@pytest.fixture
def auditor(base_url: str) -> Iterator[httpx.Client]:
    with _client(base_url, AUDITOR) as http:
        yield http


def test_each_audit_version_names_the_person_and_the_time(
    comps: Components, ids: dict[str, int]
) -> None:
    """Issue 15: audits were recorded as ``auditor:<fingerprint>``, one role token shared by
    everyone; a token issued as ``auditor@person:token`` names the person on every version."""
    tokens = {"alice-token-0123456789": "auditor", "bob-token-0123456789ab": "auditor"}
    settings = comps.settings.model_copy(
        update={
            "api_tokens": tokens,
            "api_token_people": {
                "alice-token-0123456789": "alice",
                "bob-token-0123456789ab": "Bob O'Neil",
            },
        }
    )
    people = Components(settings, comps.db, comps.files, comps.pipeline)
    item = ids["r_flagged"]
    verdicts = [
        {"finding_id": f, "verdict": "rejected", "reason": "no"}
        for f in _findings(comps.db, item).values()
    ]
    with serve_app(make_app(people)) as url:
        for token in tokens:
            with _client(url, token) as http:
                response = http.post(f"/api/v1/items/{item}/audit", json={"verdicts": verdicts})
                assert response.status_code == 201, response.text
    with comps.db.reader() as session:
        audits = session.scalars(select(Audit).where(Audit.item_id == item)).all()
    trail = sorted((a.version, a.auditor) for a in audits)
    assert trail == [(1, "alice"), (2, "Bob O'Neil")]
    assert all(a.created_at is not None for a in audits)


def _findings(db: Database, item_id: int) -> dict[str, int]:
    with db.reader() as session:
        rows = session.scalars(select(FindingRow).where(FindingRow.item_id == item_id)).all()
        return {row.code: row.id for row in rows}


def _observations(db: Database, item_id: int) -> dict[str, Observation]:
    with db.reader() as session:
        rows = session.scalars(select(Observation).where(Observation.item_id == item_id)).all()
        return {row.code: row for row in rows}


def _deliver(comps: Components) -> int:
    """A real worker delivering the outbox to the recording FHIR server."""
    url = comps.settings.fhir_writeback_url
    with WritebackClient(comps.db, url, timeout=5) as client:
        config = WorkerConfig(
            lease_seconds=5, poll_seconds=0.05, retry=queue.RetryPolicy(0.01, 0.01)
        )
        worker = Worker(comps.db, {queue.WRITEBACK: client.deliver}, config)
        ran = 0
        while worker.run_once():
            ran += 1
        return ran


def test_verdicts_change_observations_and_are_written_back(
    comps: Components, ids: dict[str, int], auditor: httpx.Client, fhir: RecordingFHIRServer
) -> None:
    item = ids["r_flagged"]
    found = _findings(comps.db, item)
    before = _observations(comps.db, item)
    assert {before[c].status for c in found} == {"preliminary"}
    body = {
        "verdicts": [
            {"finding_id": found["report.laterality"], "verdict": "confirmed", "reason": None},
            {"finding_id": found["report.typo"], "verdict": "rejected", "reason": "not a typo"},
        ],
        "missed": [{"code": "report.omission", "evidence": "IMPRESSION lacks the effusion"}],
    }
    response = auditor.post(f"/api/v1/items/{item}/audit", json=body)
    assert response.status_code == 201, response.text
    audit = response.json()
    expected_name = authenticate({AUDITOR: "auditor"}, AUDITOR)
    assert expected_name is not None
    assert audit["auditor"] == expected_name.name
    assert audit["version"] == 1
    assert {v["code"]: v["verdict"] for v in audit["verdicts"]} == {
        "report.laterality": "confirmed",
        "report.typo": "rejected",
    }
    assert audit["missed"] == [
        {"code": "report.omission", "evidence": "IMPRESSION lacks the effusion"}
    ]

    after = _observations(comps.db, item)
    assert after["report.laterality"].status == "final"
    assert after["report.typo"].status == "cancelled"
    assert after["report.laterality"].version == before["report.laterality"].version + 1
    with comps.db.reader() as session:
        stored = session.scalars(select(Audit).where(Audit.item_id == item)).one()
        assert stored.auditor == expected_name.name
        reasons = {f.code: f.reason for f in session.scalars(select(AuditFinding)).all()}
        assert reasons == {"report.laterality": None, "report.typo": "not a typo"}
        assert session.scalars(select(AuditMissed.code)).all() == ["report.omission"]
        queued = session.scalars(select(OutboxEntry.observation_id)).all()
    assert set(queued) >= {after["report.laterality"].id, after["report.typo"].id}

    assert _deliver(comps) >= 2
    sent = {
        r.json()["id"]: r.json()["status"] for r in fhir.accepted_puts() if r.json().get("code")
    }
    assert sent[after["report.laterality"].id] == "final"
    assert sent[after["report.typo"].id] == "cancelled"

    detail = auditor.get(f"/api/v1/items/{item}").json()
    assert [a["version"] for a in detail["audits"]] == [1]
    links = {o["code"]: o["status"] for o in detail["observations"]}
    assert links["report.laterality"] == "final"
    assert links["report.typo"] == "cancelled"


def test_a_second_audit_is_a_new_version_and_its_verdict_wins(
    comps: Components, ids: dict[str, int], base_url: str
) -> None:
    item = ids["i_flagged"]
    finding = _findings(comps.db, item)["cxr.exposure"]
    with _client(base_url, AUDITOR) as first, _client(base_url, ADMIN) as second:
        one = first.post(
            f"/api/v1/items/{item}/audit",
            json={"verdicts": [{"finding_id": finding, "verdict": "confirmed"}]},
        )
        assert _observations(comps.db, item)["cxr.exposure"].status == "final"
        two = second.post(
            f"/api/v1/items/{item}/audit",
            json={"verdicts": [{"finding_id": finding, "verdict": "rejected", "reason": "ok"}]},
        )
    assert (one.status_code, two.status_code) == (201, 201)
    assert (one.json()["version"], two.json()["version"]) == (1, 2)
    assert two.json()["auditor"].startswith("admin:")
    assert _observations(comps.db, item)["cxr.exposure"].status == "cancelled"
    resource = json.loads(_observations(comps.db, item)["cxr.exposure"].resource_json)
    assert resource["status"] == "cancelled"


def test_an_empty_audit_says_the_item_had_no_error(
    comps: Components, ids: dict[str, int], auditor: httpx.Client
) -> None:
    response = auditor.post(f"/api/v1/items/{ids['r_clean']}/audit", json={})
    assert response.status_code == 201
    assert response.json()["verdicts"] == [] and response.json()["missed"] == []


def _bad_bodies(ids: dict[str, int], found: dict[str, int], other: int) -> list[Any]:
    flagged = ids["r_flagged"]
    lat = found["report.laterality"]
    return [
        (flagged, {"verdicts": [{"finding_id": 999999, "verdict": "confirmed"}]}, 422,
         "finding 999999 does not exist"),
        (flagged, {"verdicts": [{"finding_id": other, "verdict": "confirmed"}]}, 422,
         f"belongs to item {ids['i_flagged']}, not item {flagged}"),
        (flagged, {"missed": [{"code": "report.nonsense"}]}, 422,
         "unknown finding code 'report.nonsense'"),
        (flagged, {"missed": [{"code": "cxr.exposure"}]}, 422, "cxr.exposure is for images; item"),
        (flagged, {"verdicts": [{"finding_id": lat, "verdict": "maybe"}]}, 422, "verdict"),
        (flagged, {"verdicts": [{"finding_id": lat, "verdict": "confirmed"}],
                   "missed": [{"code": "report.laterality"}]}, 422, "was flagged and confirmed"),
        (flagged, {"verdicts": [{"finding_id": lat, "verdict": "confirmed"},
                                {"finding_id": lat, "verdict": "rejected"}]}, 422, "two verdicts"),
        (flagged, {"verdicts": [], "surprise": 1}, 422, "surprise"),
        (flagged, {"verdicts": []}, 422, "have no verdict"),  # submitted untouched
        (flagged, {"verdicts": [{"finding_id": lat, "verdict": "rejected"}]}, 422,
         "have no verdict"),  # one finding of two judged
        (424242, {"verdicts": []}, 404, "item 424242 does not exist"),
    ]  # fmt: skip


def test_bad_audits_are_specific_4xx_and_store_nothing(
    comps: Components, ids: dict[str, int], auditor: httpx.Client
) -> None:
    found = _findings(comps.db, ids["r_flagged"])
    other = _findings(comps.db, ids["i_flagged"])["cxr.exposure"]
    for item, body, status, message in _bad_bodies(ids, found, other):
        response = auditor.post(f"/api/v1/items/{item}/audit", json=body)
        assert response.status_code == status, (body, response.text)
        assert message in response.json()["message"], response.json()
    with comps.db.reader() as session:
        assert session.scalars(select(Audit)).all() == []
    assert {o.status for o in _observations(comps.db, ids["r_flagged"]).values()} == {"preliminary"}


@pytest.mark.parametrize(("token", "status"), [(None, 401), ("nope", 401), (READER, 403)])
def test_only_auditors_and_admins_may_audit(
    base_url: str, ids: dict[str, int], token: str | None, status: int
) -> None:
    with _client(base_url, token) as http:
        response = http.post(f"/api/v1/items/{ids['r_clean']}/audit", json={})
    assert response.status_code == status
    assert response.json()["message"]


def test_draw_an_audit_sample_over_rest(
    comps: Components, ids: dict[str, int], auditor: httpx.Client
) -> None:
    response = auditor.post("/api/v1/audit-samples", json={"seed": 3})
    assert response.status_code == 201, response.text
    body = response.json()
    # the critical finding's item is always drawn; items still queued never are
    assert ids["i_flagged"] in body["item_ids"]
    assert ids["r_queued"] not in body["item_ids"] and ids["i_queued"] not in body["item_ids"]
    assert body["drawn"] == len(body["item_ids"]) == sum(body["by_stratum"].values())
    again = auditor.post("/api/v1/audit-samples", json={"seed": 4}).json()
    assert not set(again["item_ids"]) & set(body["item_ids"])  # an item is drawn once
    bad = auditor.post("/api/v1/audit-samples", json={"since": "soon"})
    assert bad.status_code == 422 and "since" in bad.json()["message"]
