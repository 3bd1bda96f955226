"""A small scenario for the audit pages: a report with evidence spans, a chest X-ray, both
processed by a real worker and pipeline, and both drawn for audit by the real sampler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fhir_adapter.publisher import ObservationPublisher
from service import queue
from service.components import Components
from service.engines.base import Engine, Finding, ImageInput, QCInput, ReportInput
from service.engines.rules._findings import text_evidence
from service.loop.audit import observation_status
from service.loop.audit_draw import AuditSampler, SamplingPlan
from service.pipeline import Pipeline
from service.taxonomy import Kind, Severity
from service.worker import Worker, WorkerConfig
from tests.service.api.support import add_image, add_report

REPORT = (
    "FINDINGS: Opacity in the left lower lobe. Heart size normal.\n"
    "IMPRESSION: Right lower lobe pneumonia. Hart size normal."
)


@dataclass
class SpanEngine:
    """Flags report phrases with real evidence spans, and the image's exposure."""

    name: str = "rules"
    version: str = "ui-test-1"
    kinds: frozenset[Kind] = frozenset({"image", "report"})

    def review(self, item: QCInput) -> list[Finding]:
        if isinstance(item, ImageInput):
            return [
                self._finding(
                    "cxr.exposure", Severity.MAJOR, "Image too dark.", [{"tag": "(0028,1050)"}]
                )
            ]
        assert isinstance(item, ReportInput)
        text = item.text
        right = text.index("Right lower lobe")
        hart = text.index("Hart")
        return [
            self._finding(
                "report.laterality",
                Severity.CRITICAL,
                "Findings say left, impression says right.",
                [text_evidence("IMPRESSION", text, right, right + len("Right lower lobe"))],
            ),
            self._finding(
                "report.typo",
                Severity.MINOR,
                "'Hart' is probably 'Heart'.",
                [text_evidence("IMPRESSION", text, hart, hart + 4)],
            ),
        ]

    def _finding(
        self, code: str, severity: Severity, message: str, evidence: list[dict[str, object]]
    ) -> Finding:
        return Finding(
            code=code,
            severity=severity,
            message=message,
            evidence=evidence,
            confidence=0.9,
            engine=self.name,
            engine_version=self.version,
        )


def run_qc_jobs(comps: Components, engine: Engine) -> None:
    """A real worker runs every due QC job through a real pipeline with ``engine``. The first
    versions are not written back here (the worker runs QC jobs only)."""
    publisher = ObservationPublisher(writeback_enabled=False, status_of=observation_status)
    pipeline = Pipeline(comps.db, comps.files, [engine], [], publisher)

    def run_qc(job: queue.ClaimedJob) -> None:
        assert job.item_id is not None
        pipeline.process_item(job.item_id)

    config = WorkerConfig(lease_seconds=5, poll_seconds=0.05, retry=queue.RetryPolicy(0.01, 0.01))
    worker = Worker(comps.db, {queue.QC: run_qc}, config)
    while worker.run_once():
        pass


def seed_audit_scenario(comps: Components, shared_data: Path) -> dict[str, int]:
    ids = {
        "report": add_report(comps, "ui-rep-1", accession="UI-1", text=REPORT),
        "image": add_image(comps, shared_data, "1.2.840.77.1", "1.2.840.77", "UI-1"),
    }
    run_qc_jobs(comps, SpanEngine())
    drawn = AuditSampler(comps.db, SamplingPlan()).run(seed=1)
    assert {d.item_id for d in drawn} == set(ids.values())
    return ids
