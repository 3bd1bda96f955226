"""``/api/v1/engines``: configurations, comparison, promotion and its trail, canaries; over real
HTTP against the app as the composition root assembles it, on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx

from service.components import Components
from service.engines.base import Finding
from service.loop.audited_sample import CODE_LIST
from service.loop.challenger import Outcome
from service.loop.engine_configs import EngineRegistry
from service.loop.shadow import ShadowRunner
from service.pipeline import NullPublisher, Pipeline
from service.taxonomy import Severity
from tests.service.api.conftest import ADMIN, AUDITOR
from tests.service.loop.support import audited_reports


def _as(client: httpx.Client, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_engines_compare_promote_and_trail(comps: Components, client: httpx.Client) -> None:
    # The server recorded the configuration its settings run when it started: the champion.
    listed = client.get("/api/v1/engines")
    assert listed.status_code == 200, listed.text
    engines = listed.json()["engines"]
    assert len(engines) == 1
    live = engines[0]
    assert (live["name"], live["role"], live["running"]) == ("live", "champion", True)
    assert live["from_settings"] is True
    assert listed.json()["champion_id"] == live["id"]

    body = {"name": "strict-rules", "parameters": {"rules": {"min_confidence": 0.8}}}
    assert client.post("/api/v1/engines", json=body).status_code == 403  # reader
    created = client.post("/api/v1/engines", json=body, headers=_as(client, ADMIN))
    assert created.status_code == 201, created.text
    challenger = created.json()
    assert (challenger["role"], challenger["version"], challenger["running"]) == (
        "challenger",
        1,
        False,
    )
    again = client.post("/api/v1/engines", json=body, headers=_as(client, ADMIN))
    assert again.json()["id"] == challenger["id"]  # same parameters, same version
    bad = {"name": "x", "parameters": {"rules": {"disabled_codes": ["nope"]}}}
    assert client.post("/api/v1/engines", json=bad, headers=_as(client, ADMIN)).status_code == 422

    known = audited_reports(comps, 20, seed=3)
    runner = ShadowRunner(
        comps.db, Pipeline(comps.db, comps.files, [], [], NullPublisher()), comps.settings
    )
    for row, item_id in enumerate(known.item_ids):
        codes = sorted({c for c, on in zip(CODE_LIST, known.truth[row], strict=True) if on})
        findings = [Finding(c, Severity.MAJOR, "m", [], 0.9, "rules", "t") for c in codes]
        runner.store(challenger["id"], item_id, "replay", Outcome(findings))
        runner.store(live["id"], item_id, "replay", Outcome([]))

    results = client.get(f"/api/v1/engines/{challenger['id']}/results", params={"limit": 15})
    assert results.status_code == 200, results.text
    page = results.json()
    assert len(page["results"]) == 15 and page["next_cursor"]
    rest = client.get(
        f"/api/v1/engines/{challenger['id']}/results", params={"cursor": page["next_cursor"]}
    ).json()
    assert len(rest["results"]) == 5 and rest["next_cursor"] is None
    one = client.get(
        f"/api/v1/engines/{challenger['id']}/results", params={"item_id": known.item_ids[0]}
    ).json()["results"]
    expected = sorted(c for c, on in zip(CODE_LIST, known.truth[0], strict=True) if on)
    assert [(r["source"], r["codes"]) for r in one] == [("replay", expected)]
    assert client.get("/api/v1/engines/999/results").status_code == 404

    compared = client.get("/api/v1/engines/compare", params={"challenger": challenger["id"]})
    assert compared.status_code == 200, compared.text
    report = compared.json()
    assert report["champion"]["id"] == live["id"] and report["n_items"] == 20
    assert report["macro_f1"]["difference"]["value"] > 0
    assert client.get("/api/v1/engines/compare", params={"challenger": 999}).status_code == 404

    url = f"/api/v1/engines/{challenger['id']}/promote"
    denied = client.post(url, json={"reason": "r"}, headers=_as(client, AUDITOR))
    assert denied.status_code == 403
    promoted = client.post(url, json={"reason": "recall"}, headers=_as(client, ADMIN))
    assert promoted.status_code == 201, promoted.text
    assert promoted.json()["promoted_by"].startswith("admin:")
    # Live QC now runs the promoted configuration; the settings' one is retired.
    now = client.get(f"/api/v1/engines/{challenger['id']}").json()
    assert (now["role"], now["running"], now["from_settings"]) == ("champion", True, False)
    former = client.get(f"/api/v1/engines/{live['id']}").json()
    assert (former["role"], former["running"], former["from_settings"]) == (
        "retired",
        False,
        True,
    )
    trail = client.get("/api/v1/engines/promotions").json()
    newest = trail[0]
    assert (newest["from_config_id"], newest["to_config_id"], newest["reason"]) == (
        live["id"],
        challenger["id"],
        "recall",
    )
    assert EngineRegistry(comps.db).champion().id == challenger["id"]  # type: ignore[union-attr]
    assert client.get("/api/v1/engines/canaries").json()["recall"] == []
    assert client.get("/api/v1/engines/999").status_code == 404


def test_a_configuration_this_build_cannot_run_is_not_promoted(client: httpx.Client) -> None:
    body = {"name": "old-rules", "parameters": {"rules": {"version": "rules-0.0.1"}}}
    created = client.post("/api/v1/engines", json=body, headers=_as(client, ADMIN))
    assert created.status_code == 201, created.text
    url = f"/api/v1/engines/{created.json()['id']}/promote"
    refused = client.post(url, json={"reason": "older"}, headers=_as(client, ADMIN))
    assert refused.status_code == 422, refused.text
    assert "rules-0.0.1" in refused.text
    listed = client.get("/api/v1/engines").json()
    champion = next(e for e in listed["engines"] if e["id"] == listed["champion_id"])
    assert champion["name"] == "live"  # unchanged
    assert client.get("/api/v1/engines/promotions").json()[0]["from_config_id"] is None
