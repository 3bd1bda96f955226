"""Promotion takes effect: live QC runs the champion's engines, and a running worker switches
to a newly promoted champion between jobs. Real parts throughout: the composition root's
components and worker (real rules engine, real publisher), the API under uvicorn for the
promotion over REST, an OpenAI-compatible server on loopback for the LLM, and SQLite and
PostgreSQL."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from service.app import WorkerBundle, build_api, build_components, build_worker
from service.components import Components
from service.config import Settings
from service.engines.base import Finding, StudyInput
from service.engines.rules import RULES_VERSION
from service.errors import InvalidInputError
from service.loop.challenger import ConfiguredRules
from service.loop.engine_configs import (
    CHAMPION,
    RETIRED,
    EngineRegistry,
    RulesParams,
    record_at_startup,
)
from service.loop.models import EngineConfig
from service.models import FindingRow, Item, ItemStatus
from service.taxonomy import Severity
from tests.service.api.conftest import ADMIN, READER
from tests.service.api.support import add_report
from tests.service.loop.support import LLM_ANSWER
from tests.support.llm_server import Reply, llm_server
from tests.support.servers import serve_app

# No IMPRESSION and a template field left in: the real rules flag omission and terminology.
FLAWED = "FINDINGS: Nodule in the left lung measuring [insert size here]. Heart normal."
NO_OMISSION = {"rules": {"disabled_codes": ["report.omission"]}}


@pytest.fixture
def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"engine_refresh_seconds": 0.1})


@pytest.fixture
def live_comps(live_settings: Settings) -> Iterator[Components]:
    """The components exactly as the composition root builds them for a worker process."""
    comps = build_components(live_settings)
    yield comps
    comps.db.dispose()


@contextmanager
def running(bundle: WorkerBundle) -> Iterator[WorkerBundle]:
    """The worker's real loop in a thread (periodic tasks included), stopped afterwards."""
    thread = threading.Thread(target=bundle.worker.run, name="test-worker", daemon=True)
    thread.start()
    try:
        yield bundle
    finally:
        bundle.worker.stop()
        thread.join(timeout=10)
        bundle.close()
        assert not thread.is_alive()


def wait_for(what: str, check: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def item_done(comps: Components, item_id: int) -> bool:
    with comps.db.reader() as session:
        return session.scalar(select(Item.status).where(Item.id == item_id)) == ItemStatus.DONE


def findings(comps: Components, item_id: int) -> list[tuple[str, str, str]]:
    with comps.db.reader() as session:
        rows = session.execute(
            select(FindingRow.code, FindingRow.engine, FindingRow.engine_version)
            .where(FindingRow.item_id == item_id)
            .order_by(FindingRow.code, FindingRow.engine)
        ).all()
    return [(code, engine, version) for code, engine, version in rows]


def admin(http: httpx.Client) -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN}"}


def test_a_promotion_over_rest_switches_the_running_worker(live_comps: Components) -> None:
    with (
        serve_app(build_api(live_comps)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {READER}"}) as http,
        running(build_worker(live_comps)) as bundle,
    ):
        # The API recorded the settings' configuration at start-up: the first champion.
        live = http.get("/api/v1/engines").json()["engines"][0]
        assert (live["name"], live["role"], live["running"]) == ("live", CHAMPION, True)
        wait_for(
            "the worker to follow the first champion",
            lambda: bundle.live is not None and bundle.live.champion_id == live["id"],
        )

        first = add_report(live_comps, "live-1", text=FLAWED)
        wait_for("the first item", lambda: item_done(live_comps, first))
        before = findings(live_comps, first)
        assert {"report.omission", "report.terminology"} <= {code for code, _, _ in before}
        assert {version for _, _, version in before} == {RULES_VERSION}

        created = http.post(
            "/api/v1/engines",
            json={"name": "no-omission", "parameters": NO_OMISSION},
            headers=admin(http),
        )
        assert created.status_code == 201, created.text
        challenger = created.json()
        version = challenger["engine_versions"][0].split("@", 1)[1]
        assert version != RULES_VERSION  # its findings are told apart from the plain rules'
        promoted = http.post(
            f"/api/v1/engines/{challenger['id']}/promote",
            json={"reason": "omission is noise at this site"},
            headers=admin(http),
        )
        assert promoted.status_code == 201, promoted.text
        assert bundle.live is not None
        wait_for(
            "the worker to switch",
            lambda: bundle.live is not None and bundle.live.champion_id == challenger["id"],
        )

        # The gauge a dashboard watches: this worker left the old champion for the new one.
        assert (
            REGISTRY.get_sample_value(
                "radqc_live_engine_workers", {"config": bundle.live.current.label}
            )
            == 1
        )
        assert "no-omission" in bundle.live.current.label
        assert (
            REGISTRY.get_sample_value(
                "radqc_live_engine_workers",
                {"config": f"engine configuration live v{live['version']} (id {live['id']})"},
            )
            == 0
        )

        second = add_report(live_comps, "live-2", text=FLAWED)
        wait_for("the second item", lambda: item_done(live_comps, second))
        after = findings(live_comps, second)
        codes = {code for code, _, _ in after}
        assert "report.omission" not in codes and "report.terminology" in codes
        assert {(engine, v) for _, engine, v in after} == {("rules", version)}
        assert findings(live_comps, first) == before  # the first item is untouched

        shown = http.get(f"/api/v1/items/{second}").json()["findings"]
        assert {f["engine_version"] for f in shown} == {version}
        trail = http.get("/api/v1/engines/promotions").json()
        assert (trail[0]["from_config_id"], trail[0]["to_config_id"], trail[0]["reason"]) == (
            live["id"],
            challenger["id"],
            "omission is noise at this site",
        )
        listed = {e["id"]: e for e in http.get("/api/v1/engines").json()["engines"]}
        assert (listed[challenger["id"]]["running"], listed[challenger["id"]]["role"]) == (
            True,
            CHAMPION,
        )
        assert listed[live["id"]]["running"] is False and listed[live["id"]]["from_settings"]
        assert listed[live["id"]]["role"] == RETIRED  # the former champion stops; no shadow


def test_a_new_worker_starts_on_the_champion_and_start_up_never_repromotes(
    live_comps: Components, caplog: pytest.LogCaptureFixture
) -> None:
    registry = EngineRegistry(live_comps.db)
    live = registry.record_running(live_comps.settings)
    quiet = registry.record("no-omission", NO_OMISSION, "admin:t")
    registry.promote(quiet.id, "admin:t", "test")
    # A restart records the settings again: they stay retired, the champion stays.
    again = record_at_startup(live_comps.db, live_comps.settings)
    assert again is not None and (again.id, again.role) == (live.id, RETIRED)
    assert registry.champion().id == quiet.id  # type: ignore[union-attr]

    caplog.set_level(logging.INFO, logger="service.loop.champion")
    bundle = build_worker(live_comps)
    try:
        assert bundle.live is not None and bundle.live.champion_id == quiet.id
        assert [type(e) for e in live_comps.pipeline.engines] == [ConfiguredRules]
        item_id = add_report(live_comps, "start-1", text=FLAWED)
        assert bundle.worker.run_once()  # the first job already runs the champion
        codes = {code for code, _, _ in findings(live_comps, item_id)}
        assert "report.omission" not in codes and "report.terminology" in codes
        assert bundle.live.refresh() is False  # nothing changed: no rebuild
    finally:
        bundle.close()
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name == "service.loop.champion"
    ]
    assert len(warnings) == 1 and "live QC runs the champion" in warnings[0]


def test_with_the_settings_champion_the_settings_engines_stay(live_comps: Components) -> None:
    settings_engines = list(live_comps.pipeline.engines)
    record_at_startup(live_comps.db, live_comps.settings)
    bundle = build_worker(live_comps)
    try:
        assert bundle.live is not None and bundle.live.champion_id is not None
        assert list(live_comps.pipeline.engines) == settings_engines  # the same objects
    finally:
        bundle.close()


def test_a_champion_this_build_cannot_run_is_refused_and_never_run(
    live_comps: Components, caplog: pytest.LogCaptureFixture
) -> None:
    registry = EngineRegistry(live_comps.db)
    live = registry.record_running(live_comps.settings)
    old = registry.record("old", {"rules": {"version": "rules-0.0.1"}}, "t")
    with pytest.raises(InvalidInputError):
        registry.promote(old.id, "admin:t", "older rules")
    assert registry.champion().id == live.id  # type: ignore[union-attr]
    # Made champion behind the registry's back (say, by an older build): the worker keeps the
    # engines it has, and says so once.
    with live_comps.db.transaction() as session:
        session.execute(update(EngineConfig).where(EngineConfig.id == live.id).values(role=RETIRED))
        session.execute(update(EngineConfig).where(EngineConfig.id == old.id).values(role=CHAMPION))
    engines = list(live_comps.pipeline.engines)
    caplog.set_level(logging.ERROR, logger="service.loop.champion")
    bundle = build_worker(live_comps)
    try:
        assert bundle.live is not None and bundle.live.champion_id is None
        assert bundle.live.refresh() is False
        assert list(live_comps.pipeline.engines) == engines
    finally:
        bundle.close()
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "rules-0.0.1" in errors[0]


def test_an_llm_champion_runs_live_with_its_model(live_comps: Components) -> None:
    assert not live_comps.pipeline.llm_kinds  # the settings run no LLM
    registry = EngineRegistry(live_comps.db)
    registry.record_running(live_comps.settings)
    with llm_server() as (server, base_url):
        server.default = Reply(content=LLM_ANSWER)
        parameters = {
            "rules": NO_OMISSION["rules"],
            "llm": {"report": {"model": "m-champion", "base_url": base_url, "mode": "review"}},
        }
        config = registry.record("with-llm", parameters, "admin:t")
        with running(build_worker(live_comps)) as bundle:
            registry.promote(config.id, "admin:t", "the model catches laterality")
            wait_for(
                "the switch",
                lambda: bundle.live is not None and bundle.live.champion_id == config.id,
            )
            item_id = add_report(live_comps, "llm-live-1", text=FLAWED)
            wait_for("the item, LLM part included", lambda: item_done(live_comps, item_id))
        assert [r["model"] for r in server.requests] == ["m-champion"]
    rules_version, llm_version = (v.split("@", 1)[1] for v in config.engine_versions)
    found = findings(live_comps, item_id)
    assert ("report.laterality", "llm", llm_version) in found
    assert "report.omission" not in {code for code, _, _ in found}
    assert {v for _, engine, v in found if engine == "rules"} == {rules_version}


def test_an_llm_job_queued_before_a_switch_to_rules_only_finishes_with_the_rules(
    live_comps: Components,
) -> None:
    registry = EngineRegistry(live_comps.db)
    registry.record_running(live_comps.settings)
    unreachable = {"model": "m", "base_url": "http://127.0.0.1:9/v1"}  # never called
    with_llm = registry.record("with-llm", {"llm": {"report": unreachable}}, "admin:t")
    registry.promote(with_llm.id, "admin:t", "llm")
    bundle = build_worker(live_comps)
    try:
        assert bundle.live is not None and live_comps.pipeline.llm_kinds == {"report"}
        item_id = add_report(live_comps, "switch-1", text=FLAWED)
        assert bundle.worker.run_once()  # the QC job: no rules, the llm job queued
        assert not item_done(live_comps, item_id)
        rules_only = registry.record("rules-only", NO_OMISSION, "admin:t")
        registry.promote(rules_only.id, "admin:t", "back to rules")
        assert bundle.live.refresh() is True
        assert not live_comps.pipeline.llm_kinds
        assert bundle.worker.run_once()  # the llm job, finished without an LLM
        assert item_done(live_comps, item_id)
        assert findings(live_comps, item_id) == []  # with-llm had no rules; nothing was asked
    finally:
        bundle.close()


class _FakeStudyChecks:
    def review_study(self, study: StudyInput) -> dict[int, list[Finding]]:
        def finding(code: str, confidence: float) -> Finding:
            return Finding(code, Severity.MAJOR, "m", [], confidence, "rules", RULES_VERSION)

        return {
            7: [finding("cxr.metadata", 0.9), finding("cxr.rotation", 0.9)],
            8: [finding("cxr.rotation", 0.3)],
        }


def test_the_champion_tuning_applies_to_study_checks_too() -> None:
    tuning = {"disabled_checks": [], "disabled_codes": ["cxr.metadata"], "min_confidence": 0.5}
    rules = ConfiguredRules(RulesParams.model_validate({"version": RULES_VERSION, **tuning}))
    rules.study = _FakeStudyChecks()  # type: ignore[assignment]
    found = rules.review_study(StudyInput("1.2.3"))
    assert {item: [(f.code, f.engine_version) for f in fs] for item, fs in found.items()} == {
        7: [("cxr.rotation", rules.version)],
        8: [],
    }
    assert rules.version.startswith(f"{RULES_VERSION}+")
