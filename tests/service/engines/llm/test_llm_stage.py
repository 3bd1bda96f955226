"""The LLM part as a durable job: rules first; while the LLM is down the job waits; then it adds
its findings and metering. Real worker, real queue, SQLite and PostgreSQL, loopback LLM server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from prometheus_client import REGISTRY
from sqlalchemy import select

from fhir_adapter.publisher import ObservationPublisher
from service import queue
from service.app import build_components, build_worker
from service.config import Settings
from service.db import Database
from service.engines.base import Engine
from service.engines.llm.client import LLMClient, LLMConfig
from service.engines.llm.engine import LLMReportEngine
from service.llm_stage import JOB_KIND, LLMStage, Prices
from service.models import FindingRow, Item, ItemStatus, Job, LLMCall, Observation
from service.pipeline import NullPublisher, Pipeline, Publisher
from service.storage import FileStore
from service.worker import Worker
from tests.service.api.conftest import READER, make_app, make_components
from tests.service.test_worker import CONFIG, ScriptedEngine, _drain, _report
from tests.support.llm_server import Reply, llm_server
from tests.support.servers import serve_app

ANSWER = json.dumps(
    {
        "findings": [
            {
                "code": "report.laterality",
                "severity": "major",
                "message": "Right in findings, left in impression.",
                "quote": "left",
                "confidence": 0.7,
            }
        ],
        "rule_verdicts": [{"index": 0, "verdict": "confirm", "confidence": 0.9}],
    }
)


def _report_pipeline(
    db: Database,
    tmp_path: Path,
    rules: Engine | None = None,
    publisher: Publisher | None = None,
) -> Pipeline:
    """Reports get the rules (scripted unless given) and then an LLM part as its own job."""
    return Pipeline(
        db,
        FileStore(tmp_path / "f"),
        [rules or ScriptedEngine(name="rules")],
        [],
        publisher or NullPublisher(),
        llm_kinds=frozenset({"report"}),
    )


def test_llm_down_then_back_adds_findings_without_losing_rules(
    db: Database, tmp_path: Path
) -> None:
    rules = ScriptedEngine(name="rules")
    pipeline = _report_pipeline(db, tmp_path, rules)
    with llm_server() as (srv, url):
        client = LLMClient(LLMConfig(base_url=url, model="m", max_attempts=1))
        stage = LLMStage(
            pipeline,
            report_engine=LLMReportEngine(client, mode="both"),
            prices={"report": Prices(per_1k_in=1.0, per_1k_out=2.0)},
        )
        handlers = {
            queue.QC: lambda job: pipeline.process_item(job.item_id or 0),
            JOB_KIND: lambda job: stage.process(job.item_id or 0),
        }
        worker = Worker(db, handlers, CONFIG)
        item_id = _report(db, "r1", "Opacity BAD on the right. IMPRESSION: left pneumonia.")

        srv.default = Reply(status=503)
        worker.run_once()  # the QC job: rules result written
        worker.run_once()  # the llm job: endpoint down, job fails and waits
        with db.reader() as session:
            item = session.get(Item, item_id)
            # rules written and published at once; done only after the LLM part (DESIGN 4)
            assert item is not None and item.status == ItemStatus.PROCESSING
            assert item.processed_at is None
            assert [f.engine for f in item.findings] == ["rules"]
            job = session.scalars(select(Job).where(Job.kind == JOB_KIND)).one()
            assert job.status != "done" and job.attempts >= 1 and "503" in (job.last_error or "")
        down_requests = len(srv.requests)
        assert down_requests >= 1

        srv.default = Reply(content=ANSWER)
        _drain(worker)
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == ItemStatus.DONE and item.processed_at
        rows = session.scalars(select(FindingRow).where(FindingRow.item_id == item_id)).all()
        by_engine = {r.engine: r for r in rows}
        assert set(by_engine) == {"rules", "llm"}
        assert by_engine["llm"].code == "report.laterality"
        assert "report_review.v2@" in by_engine["llm"].engine_version
        assert by_engine["rules"].evidence[-1]["llm_verdict"] == "confirm"
        calls = session.scalars(
            select(LLMCall).where(LLMCall.item_id == item_id).order_by(LLMCall.id)
        ).all()
        # the calls made while the endpoint was down are metered too, each with its error
        assert [c.error for c in calls] == ["HTTP 503"] * down_requests + [None]
        assert all(c.tokens_in == 0 and c.latency_ms > 0 for c in calls[:-1])
        c = calls[-1]
        assert c.tokens_in > 0 and c.cost == c.tokens_in / 1000 + 2 * c.tokens_out / 1000
        job = session.scalars(select(Job).where(Job.kind == JOB_KIND)).one()
        assert job.status == "done"
    assert len(srv.requests) == down_requests + 1  # exactly one successful call, no duplicate


def _failures(version: str, kind: str) -> float:
    value = REGISTRY.get_sample_value(
        "radqc_llm_call_failures_total", {"engine": version, "kind": kind}
    )
    return value or 0.0


def test_calls_that_fail_outright_are_metered_even_when_the_job_is_retried(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    pipeline = _report_pipeline(db, tmp_path)
    with llm_server() as (srv, url):
        cfg = LLMConfig(base_url=url, model="meter", max_attempts=2, timeout=0.4)
        engine = LLMReportEngine(LLMClient(cfg), mode="both")
        stage = LLMStage(pipeline, report_engine=engine, prices={"report": Prices(per_1k_in=1.0)})
        handlers = {
            queue.QC: lambda job: pipeline.process_item(job.item_id or 0),
            JOB_KIND: lambda job: stage.process(job.item_id or 0),
        }
        worker = Worker(db, handlers, CONFIG)
        item_id = _report(db, "m1", "Heart BAD size.")
        before = {k: _failures(engine.version, k) for k in ("http_5xx", "timeout", "malformed")}
        worker.run_once()  # rules
        srv.push(Reply(status=500), Reply(status=503))  # 5xx after the in-call retry
        worker.run_once()
        srv.push(Reply(delay=1.5), Reply(delay=1.5))  # timeouts
        worker.run_once()
        srv.push(Reply(content="no json"), Reply(content="{still not"))  # malformed twice
        _drain(worker)
    with db.reader() as session:
        calls = session.scalars(
            select(LLMCall).where(LLMCall.item_id == item_id).order_by(LLMCall.id)
        ).all()
        assert [c.error and c.error.split(":")[0] for c in calls] == [
            "HTTP 500",
            "HTTP 503",
            "timed out",
            "timed out",
            "malformed",
            "malformed",
        ]
        assert all(c.tokens_in == 0 and c.tokens_out == 0 for c in calls[:4])
        assert all(c.latency_ms > 0 for c in calls)
        assert 300 < calls[2].latency_ms < 1500  # the client's timeout, not the server's delay
        assert calls[4].tokens_in > 0 and calls[4].cost == calls[4].tokens_in / 1000
        item = session.get(Item, item_id)
        assert item is not None and item.status == ItemStatus.DONE
        assert item.error is not None and item.error.startswith("llm: malformed")
        assert [f.engine for f in item.findings] == ["rules"]  # never silently empty
        job = session.scalars(select(Job).where(Job.kind == JOB_KIND)).one()
        assert job.status == "done" and job.attempts == 3  # two failed runs, then the answer
    after = {k: _failures(engine.version, k) for k in before}
    assert {k: after[k] - before[k] for k in before} == {
        "http_5xx": 2,
        "timeout": 2,
        "malformed": 2,
    }
    # The usage API sums them: six calls, six errors.
    comps = make_components(settings, db)
    with serve_app(make_app(comps)) as base:
        got = httpx.get(
            f"{base}/api/v1/llm/usage", headers={"Authorization": f"Bearer {READER}"}
        ).json()
    [usage] = [e for e in got["engines"] if e["engine_version"] == engine.version]
    assert (usage["calls"], usage["errors"], usage["items"]) == (6, 6, 1)
    assert usage["tokens_in"] == calls[4].tokens_in + calls[5].tokens_in


def test_a_dead_lettered_llm_job_fails_the_item_and_keeps_the_rule_findings(
    settings: Settings,
) -> None:
    with llm_server() as (srv, url):
        srv.default = Reply(status=503)
        configured = settings.model_copy(
            update={"llm_base_url": url, "llm_model": "m", "llm_max_attempts": 1}
        )
        comps = build_components(configured)  # the composition root, as `radqc worker` runs
        comps.pipeline.engines = [ScriptedEngine(name="rules")]  # type: ignore[list-item]
        comps.pipeline.llm_max_attempts = 2
        worker = build_worker(comps).worker
        item_id = _report(comps.db, "d1", "Heart BAD size.")
        worker.run_once()  # rules
        for _ in range(50):
            worker.run_once()
            with comps.db.reader() as session:
                job = session.scalars(select(Job).where(Job.kind == JOB_KIND)).one()
                if job.status == "failed":
                    break
            time.sleep(0.05)
    with comps.db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == ItemStatus.FAILED
        assert item.error is not None and item.error.startswith("llm: LLMUnavailable")
        assert "503" in item.error
        assert [(f.engine, f.code) for f in item.findings] == [("rules", "report.typo")]
        calls = session.scalars(select(LLMCall).where(LLMCall.item_id == item_id)).all()
        assert [c.error for c in calls] == ["HTTP 503", "HTTP 503"]  # both attempts metered
    comps.db.dispose()


def test_rule_findings_are_published_at_once_and_the_summary_once_the_llm_ran(
    db: Database, tmp_path: Path
) -> None:
    pipeline = _report_pipeline(
        db, tmp_path, publisher=ObservationPublisher(writeback_enabled=False)
    )

    def published() -> set[str]:
        with db.reader() as session:
            return {o.code for o in session.scalars(select(Observation)).all()}

    with llm_server() as (srv, url):
        srv.default = Reply(content=ANSWER)
        client = LLMClient(LLMConfig(base_url=url, model="m"))
        stage = LLMStage(pipeline, report_engine=LLMReportEngine(client, mode="both"))
        handlers = {
            queue.QC: lambda job: pipeline.process_item(job.item_id or 0),
            JOB_KIND: lambda job: stage.process(job.item_id or 0),
        }
        worker = Worker(db, handlers, CONFIG)
        item_id = _report(db, "p1", "Opacity BAD on the right. IMPRESSION: left pneumonia.")
        worker.run_once()
        assert published() == {"report.typo"}  # no summary while the item is processing
        worker.run_once()
        stage.runner.close()
    assert published() == {"report.typo", "report.laterality", "qc.summary"}
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == ItemStatus.DONE


def test_an_llm_job_for_a_kind_no_longer_configured_just_finishes_the_item(
    db: Database, tmp_path: Path
) -> None:
    pipeline = _report_pipeline(db, tmp_path)
    stage = LLMStage(pipeline)  # no report engine: switched off after the job was queued
    handlers = {
        queue.QC: lambda job: pipeline.process_item(job.item_id or 0),
        JOB_KIND: lambda job: stage.process(job.item_id or 0),
    }
    item_id = _report(db, "o1", "Heart BAD size.")
    _drain(Worker(db, handlers, CONFIG))
    stage.runner.close()
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == ItemStatus.DONE and item.processed_at
        assert [f.engine for f in item.findings] == ["rules"]
