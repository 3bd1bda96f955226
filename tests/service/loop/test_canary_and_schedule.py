"""Canaries (injected copies run in shadow, never stored as items or findings) and the
scheduled audit draw (one draw per slot however many workers, within the daily quota), on
SQLite and PostgreSQL with the real rules engine and a real worker."""

from __future__ import annotations

import random

from prometheus_client import REGISTRY
from sqlalchemy import func, select

from fhir_adapter.publisher import ObservationPublisher
from service import queue
from service.components import Components
from service.config import Settings
from service.loop.canary import INJECTORS, CanaryRunner, canary_summary, inject
from service.loop.engine_configs import EngineRegistry
from service.loop.jobs import loop_jobs
from service.loop.models import AuditSelection, CanaryResult, ShadowResult
from service.loop.schedule import AUDIT_SAMPLE, sampling_task
from service.loop.shadow import CANARY, ShadowRunner, after_job
from service.models import FindingRow, Item, Job, Observation
from service.pipeline import NullPublisher, Pipeline
from service.taxonomy import Severity
from service.worker import Periodic, Worker, WorkerConfig
from tests.service.api.support import ScriptedEngine, add_report, drain

TEXT = (
    "FINDINGS: Patchy opacity in the left lower lobe. No pleural effusion. Heart size normal.\n"
    "IMPRESSION: Left lower lobe pneumonia."
)
INJECTED = ("report.omission", "report.terminology", "report.laterality")


def test_each_injector_changes_the_text_and_names_its_code() -> None:
    seen = set()
    for injector in INJECTORS:
        injected = injector(TEXT, random.Random(0))
        assert injected is not None and injected.text != TEXT
        seen.add(injected.code)
    assert seen == set(INJECTED)
    assert inject("no sections at all", random.Random(0)) is None


def test_canaries_measure_recall_and_store_nothing_else(
    comps: Components, settings: Settings
) -> None:
    registry = EngineRegistry(comps.db)
    blind = registry.record("blind", {"rules": {"disabled_codes": list(INJECTED)}}, "t")
    ids = [add_report(comps, f"canary-{i}", text=TEXT) for i in range(8)]
    shadow = ShadowRunner(
        comps.db, Pipeline(comps.db, comps.files, [], [], NullPublisher()), settings
    )
    results = [r for item_id in ids for r in CanaryRunner(shadow).run(item_id)]
    running = registry.record_running(settings)
    assert len(results) == 16
    caught = {(r.config_id, r.caught) for r in results}
    assert caught == {(running.id, True), (blind.id, False)}
    assert len({r.code for r in results}) >= 2  # the injected error varies between items
    with comps.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Item)) == 8
        for table in (FindingRow, Observation, ShadowResult):
            assert session.scalar(select(func.count()).select_from(table)) == 0
        assert session.scalar(select(func.count()).select_from(CanaryResult)) == 16
    summary = {(row["config_id"], row["code"]): row for row in canary_summary(comps.db)}
    for (config_id, code), row in summary.items():
        assert row["recall"]["value"] == (1.0 if config_id == running.id else 0.0)
        gauge = REGISTRY.get_sample_value(
            "radqc_canary_recall", {"config": str(config_id), "code": code}
        )
        assert gauge == row["recall"]["value"]


def test_a_completed_qc_job_queues_a_canary_at_the_rate(comps: Components) -> None:
    report = add_report(comps, "rate-1", text=TEXT)
    hook = after_job(canary_rate=1.0, rng=random.Random(0))
    job = queue.ClaimedJob(1, queue.QC, f"qc:{report}", report, None, None, 1, 1, "w")
    with comps.db.transaction() as session:
        hook(session, job)
    never = after_job(canary_rate=0.0)
    with comps.db.transaction() as session:
        never(session, job)
    with comps.db.reader() as session:
        keys = session.scalars(select(Job.key).where(Job.kind == CANARY)).all()
    assert keys == [f"canary:{report}"]


def test_the_scheduled_draw_runs_once_per_slot_within_the_quota(
    comps: Components, settings: Settings
) -> None:
    ids = [add_report(comps, f"sched-{i}") for i in range(10)]
    engine = ScriptedEngine(script={i: [("report.typo", Severity.CRITICAL)] for i in ids})
    assert drain(comps, engine, ObservationPublisher(writeback_enabled=False)) == 10
    scheduled = settings.model_copy(
        update={"audit_sample_interval_seconds": 3600.0, "audit_daily_quota": 10}
    )
    loop = loop_jobs(scheduled, comps.db, comps.pipeline)
    assert len(loop.periodic) == 1
    assert loop_jobs(settings, comps.db, comps.pipeline).periodic == []  # 0: not scheduled
    config = WorkerConfig(lease_seconds=5, poll_seconds=0.05)
    workers = [Worker(comps.db, loop.handlers, config, periodic=loop.periodic) for _ in range(2)]
    for worker in workers:  # two workers, the same slot: one job
        worker.run_periodic(now=0.0)
    with comps.db.reader() as session:
        assert session.scalar(select(func.count()).where(Job.kind == AUDIT_SAMPLE)) == 1
    assert workers[1].run_once()
    assert not workers[0].run_once()
    with comps.db.reader() as session:
        drawn = session.scalars(select(AuditSelection.strategy)).all()
    assert sorted(drawn) == ["critical"] * 10

    clock = [7200.0 * 1000]
    task = sampling_task(comps.db, 3600.0, clock=lambda: clock[0])
    task.run()  # the next slot: a new job, but today's quota is spent
    task.run()
    assert workers[0].run_once() and not workers[0].run_once()
    with comps.db.reader() as session:
        assert session.scalar(select(func.count()).where(Job.kind == AUDIT_SAMPLE)) == 2
        assert session.scalar(select(func.count()).select_from(AuditSelection)) == 10


def test_a_failing_periodic_task_does_not_stop_the_worker(comps: Components) -> None:
    calls: list[int] = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("boom")

    worker = Worker(comps.db, {}, WorkerConfig(), periodic=[Periodic(10.0, broken)])
    worker.run_periodic(now=100.0)
    worker.run_periodic(now=105.0)  # not due yet
    worker.run_periodic(now=111.0)
    assert len(calls) == 2
