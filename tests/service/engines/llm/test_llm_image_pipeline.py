"""An image item through the real worker path: stored film, Pipeline with the rules engine,
the LLM stage with the image engine, the loopback server, the real database. It ends with the
LLM findings stored and merged with the rules, every call metered, the item done."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import select

from service import queue
from service.db import Database
from service.engines.llm.client import LLMClient, LLMConfig
from service.engines.llm.engine import LLMImageEngine
from service.engines.rules import RulesEngine, StudyRulesEngine
from service.llm_stage import JOB_KIND, LLMStage, Prices
from service.models import Item, ItemStatus, Job, LLMCall
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from service.worker import Worker
from tests.service.engines.support import CXR_FILES
from tests.service.engines.test_rules_engine import _store_image
from tests.service.test_worker import CONFIG
from tests.support.llm_server import Reply, llm_server

ANSWER = json.dumps(
    {
        "findings": [
            {
                "code": "cxr.rotation",
                "severity": "minor",
                "message": "Clavicle heads asymmetric about the spine.",
                "quote": "upper thorax",
                "confidence": 0.65,
            }
        ],
        "rule_verdicts": [],
    }
)


def test_image_item_ends_done_with_llm_findings_merged_and_metered(
    db: Database, tmp_path: Path, shared_data: Path
) -> None:
    files = FileStore(tmp_path / "files")
    pipeline = Pipeline(
        db,
        files,
        [RulesEngine()],
        [StudyRulesEngine()],
        NullPublisher(),
        llm_kinds=frozenset({"image"}),  # type: ignore[list-item]
    )
    with llm_server() as (srv, url):
        srv.default = Reply(content=ANSWER)
        client = LLMClient(LLMConfig(base_url=url, model="vision-model"))
        stage = LLMStage(
            pipeline,
            image_engine=LLMImageEngine(client, mode="both", max_side=384),
            prices={"image": Prices(per_1k_in=0.5, per_1k_out=1.5)},
        )
        handlers = {
            queue.QC: lambda job: pipeline.process_item(job.item_id or 0),
            queue.STUDY: lambda job: pipeline.process_study(job.study_id or 0),
            JOB_KIND: lambda job: stage.process(job.item_id or 0),
        }
        worker = Worker(db, handlers, CONFIG)
        item_id = _store_image(db, files, shared_data / CXR_FILES["test1"])
        statuses = []
        for _ in range(20):
            if not worker.run_once():
                break
            with db.reader() as session:
                item = session.get(Item, item_id)
                assert item is not None
                statuses.append(item.status)
        stage.runner.close()
    assert ItemStatus.PROCESSING in statuses  # rules written, LLM part pending
    assert statuses[-1] == ItemStatus.DONE
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == ItemStatus.DONE and item.processed_at
        assert item.error is None and item.flagged
        by_engine: dict[str, list[str]] = {}
        for f in item.findings:
            by_engine.setdefault(f.engine, []).append(f.code)
        assert by_engine["llm"] == ["cxr.rotation"]
        [llm] = [f for f in item.findings if f.engine == "llm"]
        assert llm.evidence[0]["merge_policy"] == "both"
        assert "image_review.v2@" in llm.engine_version
        assert llm.confidence == 0.65
        [call] = session.scalars(select(LLMCall).where(LLMCall.item_id == item_id)).all()
        assert call.kind == "image" and call.error is None and call.tokens_in > 0
        assert call.cost == call.tokens_in / 1000 * 0.5 + call.tokens_out / 1000 * 1.5
        jobs = {j.kind: j.status for j in session.scalars(select(Job)).all()}
        assert jobs[JOB_KIND] == "done" and jobs[queue.QC] == "done"
    # What left was a redacted rendering of the film, nothing else.
    [request] = srv.requests
    user = request["messages"][1]["content"]
    url_part = next(p for p in user if p["type"] == "image_url")["image_url"]["url"]
    sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(url_part.split(",", 1)[1]))))
    assert max(sent.shape) == 384
    assert int(sent[:10].max()) == 0  # the top band is blacked out
    assert int(sent[150:250, 100:300].max()) > 0  # the lungs are not
