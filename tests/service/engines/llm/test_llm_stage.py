"""The LLM part as a durable job: rules first; while the LLM is down the job waits; then it adds
its findings and metering. Real worker, real queue, SQLite and PostgreSQL, loopback LLM server."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from service import queue
from service.db import Database
from service.engines.llm.client import LLMClient, LLMConfig
from service.engines.llm.engine import LLMReportEngine
from service.engines.llm.stage import JOB_KIND, LLMStage, Prices
from service.models import Finding as FindingRow
from service.models import Item, ItemStatus, Job, LLMCall
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from service.worker import Worker
from tests.service.test_worker import CONFIG, ScriptedEngine, _drain, _report
from tests.support.llm_server import Reply, llm_server

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


def test_llm_down_then_back_adds_findings_without_losing_rules(
    db: Database, tmp_path: Path
) -> None:
    rules = ScriptedEngine(name="rules")
    pipeline = Pipeline(
        db,
        FileStore(tmp_path / "f"),
        [rules],
        [],
        NullPublisher(),
        llm_kinds=frozenset({"report"}),  # type: ignore[list-item]
    )
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
            assert item is not None and item.status == ItemStatus.DONE
            assert [f.engine for f in item.findings] == ["rules"]
            job = session.scalars(select(Job).where(Job.kind == JOB_KIND)).one()
            assert job.status != "done" and job.attempts >= 1 and "503" in (job.last_error or "")
        down_requests = len(srv.requests)
        assert down_requests >= 1

        srv.default = Reply(content=ANSWER)
        _drain(worker)
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        rows = session.scalars(select(FindingRow).where(FindingRow.item_id == item_id)).all()
        by_engine = {r.engine: r for r in rows}
        assert set(by_engine) == {"rules", "llm"}
        assert by_engine["llm"].code == "report.laterality"
        assert "report_review.v1@" in by_engine["llm"].engine_version
        assert by_engine["rules"].evidence[-1]["llm_verdict"] == "confirm"
        calls = session.scalars(select(LLMCall).where(LLMCall.item_id == item_id)).all()
        assert len(calls) == 1 and calls[0].error is None
        c = calls[0]
        assert c.tokens_in > 0 and c.cost == c.tokens_in / 1000 + 2 * c.tokens_out / 1000
        job = session.scalars(select(Job).where(Job.kind == JOB_KIND)).one()
        assert job.status == "done"
    assert len(srv.requests) == down_requests + 1  # exactly one successful call, no duplicate
