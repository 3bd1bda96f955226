"""The egress guard (issue 10): a request that still holds an identifier known for the item is
never sent, whatever the scrubber missed; the item records the refusal (kinds, no values), a
metric counts it, and the rule findings stand. Real queue and database, loopback LLM server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from service import ingest, queue
from service.db import Database
from service.engines.base import ReportInput
from service.engines.llm.client import LLMClient, LLMConfig, PHIRefused
from service.engines.llm.engine import LLMReportEngine
from service.llm_stage import JOB_KIND, LLMStage
from service.models import Item, ItemStatus
from service.phi.known import KnownIdentifiers, from_fhir
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from service.worker import Worker
from tests.service.test_worker import CONFIG, OPTIONS, ScriptedEngine, _drain
from tests.support.llm_server import llm_server

PATIENT = {
    "resourceType": "Patient",
    "id": "p",
    "name": [{"family": "Quillfeather", "given": ["Zyxwvut"]}],
    "identifier": [{"system": "urn:mrn", "value": "MRN-0042-7731"}],
}
REPORT = {
    "resourceType": "DiagnosticReport",
    "id": "r9",
    "status": "final",
    "code": {"text": "XR CHEST"},
    "contained": [PATIENT],
    "subject": {"reference": "#p"},
}
TEXT = "INDICATION: Patient Zyxwvut QUILLFEATHER, mrn 0042 7731. Cough.\nIMPRESSION: Clear lungs."


@pytest.fixture
def scrubber_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    """A scrubber that lets everything through, as a missed pattern would."""
    monkeypatch.setattr(KnownIdentifiers, "redact", lambda self, text: text)
    monkeypatch.setattr("service.engines.llm.engine.deidentify", lambda text, key, known: text)


def test_client_refuses_before_anything_is_sent() -> None:
    known = from_fhir(PATIENT)
    messages = [{"role": "user", "content": "about quillfeather"}]

    async def go() -> None:
        client = LLMClient(LLMConfig(base_url=url, model="m"))
        try:
            await client.complete(messages, {}, known)
        finally:
            await client.close()

    with llm_server() as (srv, url), pytest.raises(PHIRefused) as refused:
        asyncio.run(go())
    assert srv.requests == []
    assert refused.value.kinds == ["name"] and "quillfeather" not in str(refused.value).lower()


def _refused(kind: str) -> float:
    return REGISTRY.get_sample_value("radqc_llm_phi_refused_total", {"kind": kind}) or 0.0


def test_a_missed_identifier_is_refused_and_the_rule_findings_stand(
    db: Database, tmp_path: Path, scrubber_misses: None
) -> None:
    rules = ScriptedEngine(name="rules")
    pipeline = Pipeline(
        db, FileStore(tmp_path), [rules], [], NullPublisher(), llm_kinds=frozenset({"report"})
    )
    received = ingest.ReceivedReport(
        report_id="r9",
        content_hash="r9".ljust(64, "0"),
        resource_json=json.dumps(REPORT),
        text=TEXT + " BAD",  # the scripted rules flag "BAD"
        sections={"sections": []},
        status="final",
        patient_sex=None,
        subject_reference="#p",
        exam_code=None,
        exam_display="XR CHEST",
        accession=None,
        study_instance_uid=None,
    )
    item_id = ingest.ingest(db, ingest.store_report, received, OPTIONS).item_id
    before = _refused("report")
    with llm_server() as (srv, url):
        stage = LLMStage(
            pipeline, report_engine=LLMReportEngine(LLMClient(LLMConfig(base_url=url, model="m")))
        )
        handlers = {
            queue.QC: lambda job: pipeline.process_item(job.item_id or 0),
            JOB_KIND: lambda job: stage.process(job.item_id or 0),
        }
        _drain(Worker(db, handlers, CONFIG))
        stage.runner.close()
    assert srv.requests == []  # nothing left the process
    assert _refused("report") == before + 1
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == ItemStatus.DONE
        assert item.error is not None and "refused" in item.error and "name" in item.error
        assert "Quillfeather" not in item.error and "7731" not in item.error
        assert [f.engine for f in item.findings] == ["rules"] and item.flagged


def test_the_pipeline_hands_the_engine_every_known_identifier(db: Database, tmp_path: Path) -> None:
    pipeline = Pipeline(db, FileStore(tmp_path), [], [], NullPublisher())
    received = ingest.ReceivedReport(
        report_id="r9",
        content_hash="r9".ljust(64, "1"),
        resource_json=json.dumps(REPORT),
        text=TEXT,
        sections={"sections": []},
        status="final",
        patient_sex=None,
        subject_reference="#p",
        exam_code=None,
        exam_display=None,
        accession="ACC-55123",
        study_instance_uid=None,
    )
    item_id = ingest.ingest(db, ingest.store_report, received, OPTIONS).item_id
    loaded = pipeline.stored_input(item_id)
    assert isinstance(loaded, ReportInput)
    out = loaded.known_identifiers.redact(TEXT + " acc ACC55123")
    assert "Quillfeather" not in out and "Zyxwvut" not in out and "7731" not in out
    assert "55123" not in out
