"""Engine configurations, shadow mode, replay, comparison and promotion on real databases
(SQLite and PostgreSQL), with the real rules engine as the challenger and a real worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score
from sqlalchemy import func, select, update

from fhir_adapter.publisher import ObservationPublisher
from service import queue
from service.components import Components
from service.config import Settings
from service.engines.base import Finding
from service.errors import InvalidInputError, NotFoundError
from service.loop.audited_sample import CODE_INDEX, CODE_LIST
from service.loop.challenger import ConfigurationUnavailable, Outcome
from service.loop.compare import compare
from service.loop.curation import export_curated
from service.loop.engine_configs import CHAMPION, EngineRegistry
from service.loop.jobs import loop_jobs
from service.loop.models import EngineConfig, ShadowResult
from service.loop.replay import curated_item_ids, replay
from service.loop.shadow import SHADOW, ShadowRunner
from service.models import FindingRow, Job, Observation, OutboxEntry
from service.pipeline import NullPublisher, Pipeline
from service.taxonomy import Severity
from service.worker import Worker, WorkerConfig
from tests.service.api.support import ScriptedEngine, add_report
from tests.service.loop.support import LLM_ANSWER, REPORT_CODES, audited_reports
from tests.support.llm_server import Reply, llm_server

RULES = {"rules": {"min_confidence": 0.0}}
# No IMPRESSION and a template field left in: the real rules flag omission and terminology.
FLAWED = "FINDINGS: Nodule in the left lung measuring [insert size here]. Heart normal."


def _runner(comps: Components, settings: Settings) -> ShadowRunner:
    pipeline = Pipeline(comps.db, comps.files, [], [], NullPublisher())
    return ShadowRunner(comps.db, pipeline, settings)


def test_the_running_configuration_is_recorded_once(comps: Components, settings: Settings) -> None:
    registry = EngineRegistry(comps.db)
    first = registry.record_running(settings)
    again = registry.record_running(settings)
    assert (first.id, first.version, first.role) == (again.id, 1, CHAMPION)
    assert first.rules_version and first.engine_versions == [f"rules@{first.rules_version}"]
    with_llm = settings.model_copy(
        update={"llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m-2"}
    )
    second = registry.record_running(with_llm)
    assert (second.name, second.version, second.role) == ("live", 2, "challenger")
    assert second.llm_model == "m-2" and second.merge_policy == "both"
    assert "api_key" not in str(second.parameters)
    trail = registry.promotions()
    assert [(p.from_config_id, p.to_config_id) for p in trail] == [(None, first.id)]


def test_invalid_parameters_are_refused(comps: Components) -> None:
    registry = EngineRegistry(comps.db)
    for bad in (
        {},
        {"rules": {"disabled_checks": ["no_such_check"]}},
        {"rules": {"disabled_codes": ["report.nope"]}},
        {"rules": {"min_confidence": 2}},
        {"llm": {"report": {"model": "m"}}},
        {"llm": ["report"]},
        {"rules": {"min_confidence": "high"}},
        {"rules": {"disabled_codes": 5}},
    ):
        with pytest.raises(InvalidInputError):
            registry.record("bad", bad, "t")


def test_promotion_changes_the_champion_and_writes_the_trail(
    comps: Components, settings: Settings
) -> None:
    registry = EngineRegistry(comps.db)
    champion = registry.record_running(settings)
    challenger = registry.record("strict", {"rules": {"min_confidence": 0.8}}, "admin:x")
    assert challenger.role == "challenger" and [c.id for c in registry.challengers()] == [
        challenger.id
    ]
    registry.promote(challenger.id, "admin:x", "better recall on the March audits")
    assert registry.champion().id == challenger.id  # type: ignore[union-attr]
    assert registry.get(champion.id).role == "retired"
    row = registry.promotions()[0]
    assert (row.from_config_id, row.to_config_id, row.promoted_by) == (
        champion.id,
        challenger.id,
        "admin:x",
    )
    assert row.reason == "better recall on the March audits"
    with pytest.raises(InvalidInputError):
        registry.promote(challenger.id, "admin:x", "again")
    with pytest.raises(InvalidInputError):
        registry.promote(champion.id, "admin:x", "  ")
    with pytest.raises(NotFoundError):
        registry.promote(999, "admin:x", "no such")
    with comps.db.reader() as session:
        champions = session.scalar(select(func.count()).where(EngineConfig.role == CHAMPION))
    assert champions == 1


def _worker(
    comps: Components, settings: Settings, engine: ScriptedEngine, delivered: list[str]
) -> Worker:
    """A real worker: the champion (scripted) publishes with write-back on (the deliveries are
    recorded, not sent); the loop's jobs as the composition root adds them."""
    pipeline = Pipeline(
        comps.db, comps.files, [engine], [], ObservationPublisher(writeback_enabled=True)
    )
    loop = loop_jobs(settings, comps.db, pipeline)

    def run_qc(job: queue.ClaimedJob) -> None:
        assert job.item_id is not None
        pipeline.process_item(job.item_id)

    def deliver(job: queue.ClaimedJob) -> None:
        delivered.append(job.target or "")

    handlers = {queue.QC: run_qc, queue.WRITEBACK: deliver, **loop.handlers}
    config = WorkerConfig(lease_seconds=5, poll_seconds=0.05)
    return Worker(comps.db, handlers, config, on_done=loop.on_done)


def test_shadow_findings_never_reach_the_item_or_the_outbox(
    comps: Components, settings: Settings
) -> None:
    registry = EngineRegistry(comps.db)
    registry.record_running(settings)
    strict = registry.record("all-rules", RULES, "t")
    quiet = registry.record("no-omission", {"rules": {"disabled_codes": ["report.omission"]}}, "t")
    item_id = add_report(comps, "shadow-1", text=FLAWED)
    engine = ScriptedEngine(script={item_id: [("report.typo", Severity.MINOR)]})
    delivered: list[str] = []
    worker = _worker(comps, settings, engine, delivered)
    while worker.run_once():
        pass
    with comps.db.reader() as session:
        jobs = dict(session.execute(select(Job.key, Job.status).where(Job.kind == SHADOW)).all())
        assert jobs == {
            f"shadow:{strict.id}:{item_id}": "done",
            f"shadow:{quiet.id}:{item_id}": "done",
        }
        shadow = {r.config_id: r for r in session.scalars(select(ShadowResult)).all()}
        findings = session.scalars(select(FindingRow.code).where(FindingRow.item_id == item_id))
        codes = sorted(findings)
        observed = dict(session.execute(select(Observation.id, Observation.code)).all())
        outbox = session.scalars(select(OutboxEntry.observation_id)).all()
    assert {"report.omission", "report.terminology"} <= set(shadow[strict.id].codes)
    assert shadow[strict.id].source == "shadow" and shadow[strict.id].error is None
    assert "report.omission" not in shadow[quiet.id].codes  # its parameters were applied
    assert "report.terminology" in shadow[quiet.id].codes
    # The item shows only the champion's finding; its Observations and outbox only that too.
    assert codes == ["report.typo"]
    assert sorted(observed.values()) == ["qc.summary", "report.typo"]
    assert sorted(outbox) == sorted(observed) == sorted(delivered)


def test_a_configuration_of_another_rules_version_cannot_run(
    comps: Components, settings: Settings
) -> None:
    registry = EngineRegistry(comps.db)
    old = registry.record("old", {"rules": {"version": "rules-0.0.1"}}, "t")
    item_id = add_report(comps, "old-1", text=FLAWED)
    with pytest.raises(ConfigurationUnavailable):
        _runner(comps, settings).run(old.id, item_id)


def test_replay_over_a_curated_export(
    comps: Components, settings: Settings, tmp_path: Path
) -> None:
    known = audited_reports(comps, 8, seed=4)
    written = export_curated(comps.db, comps.files, tmp_path / "curated")
    assert written["items"] == 8
    config = EngineRegistry(comps.db).record("replayed", RULES, "t")
    ids = curated_item_ids(tmp_path / "curated")
    assert sorted(ids) == sorted(known.item_ids)
    steps: list[tuple[int, int]] = []
    summary = replay(
        _runner(comps, settings), config.id, [*ids, 10_000], lambda _s, d, t: steps.append((d, t))
    )
    assert (summary.ran, summary.failed, summary.missing) == (8, 0, 1)
    assert steps[0] == (0, 9) and steps[-1] == (9, 9)
    with comps.db.reader() as session:
        rows = session.scalars(select(ShadowResult).where(ShadowResult.config_id == config.id))
        stored = {r.item_id: r for r in rows}
        item_findings = session.scalar(select(func.count()).select_from(FindingRow))
    assert set(stored) == set(known.item_ids)
    assert all(r.source == "replay" for r in stored.values())
    assert item_findings == int(known.flags.sum())  # replay added no finding to any item
    with pytest.raises(InvalidInputError):
        curated_item_ids(tmp_path / "nowhere")


def _store(runner: ShadowRunner, config_id: int, item_id: int, codes: list[str]) -> None:
    findings = [Finding(c, Severity.MAJOR, "m", [], 0.9, "rules", "t") for c in codes]
    runner.store(config_id, item_id, "replay", Outcome(findings))


def test_comparison_on_the_same_audited_items(comps: Components, settings: Settings) -> None:
    known = audited_reports(comps, 40, seed=9)
    registry = EngineRegistry(comps.db)
    champion = registry.record_running(settings)
    challenger = registry.record("perfect", RULES, "t")
    runner = _runner(comps, settings)
    rng = np.random.default_rng(0)
    champion_flags = known.truth.copy()
    for row, item_id in enumerate(known.item_ids):
        for code in REPORT_CODES:
            if rng.random() < 0.4:
                champion_flags[row, CODE_INDEX[code]] ^= True
        truth_codes = [CODE_LIST[j] for j in np.flatnonzero(known.truth[row])]
        own = [CODE_LIST[j] for j in np.flatnonzero(champion_flags[row])]
        _store(runner, challenger.id, item_id, truth_codes)
        _store(runner, champion.id, item_id, own)
    report = compare(comps.db, champion.id, challenger.id, replicates=500)
    assert report["n_items"] == 40 and report["champion"]["id"] == champion.id
    for code in REPORT_CODES:
        j = CODE_INDEX[code]
        row = report["per_code"][code]
        assert row["champion"]["precision"]["value"] == pytest.approx(
            precision_score(known.truth[:, j], champion_flags[:, j])
        )
        assert row["challenger"]["f1"]["value"] == pytest.approx(1.0)
        assert row["f1_difference"]["value"] == pytest.approx(
            1.0 - f1_score(known.truth[:, j], champion_flags[:, j])
        )
    assert report["macro_f1"]["difference"]["low"] > 0


def test_the_live_champion_is_scored_from_its_audited_findings(
    comps: Components, settings: Settings
) -> None:
    known = audited_reports(comps, 12, seed=2)
    registry = EngineRegistry(comps.db)
    champion = registry.record_running(settings)
    # The audited findings came from the scripted engine (rules@scripted-1): say it is live.
    with comps.db.transaction() as session:
        session.execute(
            update(EngineConfig)
            .where(EngineConfig.id == champion.id)
            .values(engine_versions=["rules@scripted-1"])
        )
    challenger = registry.record("c", RULES, "t")
    runner = _runner(comps, settings)
    for item_id in known.item_ids[:6]:  # the challenger has only seen half of the items
        _store(runner, challenger.id, item_id, [])
    report = compare(comps.db, champion.id, challenger.id, replicates=200)
    assert report["n_items"] == 6 and report["item_ids"] == known.item_ids[:6]
    assert report["per_code"]
    for code, row in report["per_code"].items():
        j = CODE_INDEX[code]
        assert row["champion"]["tp"] == int((known.truth[:6, j] & known.flags[:6, j]).sum())
        assert row["champion"]["fp"] == int((~known.truth[:6, j] & known.flags[:6, j]).sum())
        assert row["challenger"]["fn"] == int(known.truth[:6, j].sum())  # it flagged nothing
    with pytest.raises(InvalidInputError):
        compare(comps.db, champion.id, champion.id)


def test_an_llm_challenger_runs_in_shadow_with_its_own_model(
    comps: Components, settings: Settings
) -> None:
    item_id = add_report(comps, "llm-1", text=FLAWED)
    with llm_server() as (server, base_url):
        server.default = Reply(content=LLM_ANSWER)
        config = EngineRegistry(comps.db).record(
            "llm-only",
            {"rules": None, "llm": {"report": {"model": "m-challenger", "base_url": base_url}}},
            "t",
        )
        assert config.kinds == ["report"] and config.merge_policy == "both"
        runner = _runner(comps, settings)
        try:
            outcome = runner.run(config.id, item_id)
        finally:
            runner.close()
        assert [r["model"] for r in server.requests] == ["m-challenger"]
    assert outcome.error is None and outcome.codes == ["report.laterality"]
    with comps.db.reader() as session:
        row = session.scalars(select(ShadowResult)).one()
        assert session.scalar(select(func.count()).select_from(FindingRow)) == 0
    assert row.codes == ["report.laterality"]
    assert row.findings[0]["engine_version"] == config.engine_versions[0].split("@", 1)[1]

    other = EngineRegistry(comps.db).record(
        "old-prompt",
        {"llm": {"report": {"model": "m", "base_url": base_url, "prompt": "report_review.v0@x"}}},
        "t",
    )
    with pytest.raises(ConfigurationUnavailable):
        _runner(comps, settings).run(other.id, item_id)
