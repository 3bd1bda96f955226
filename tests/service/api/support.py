"""Seeding items through the real core: ingest, the job queue, a worker and the pipeline."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
from sqlalchemy import select, update

from fhir_adapter.publisher import ObservationPublisher
from service import queue
from service.components import Components
from service.engines.base import Finding, QCInput
from service.ingest import (
    QueueOptions,
    ReceivedInstance,
    ReceivedReport,
    ingest,
    store_instance,
    store_report,
)
from service.models import Instance, Item, utcnow
from service.pipeline import Pipeline, Publisher
from service.taxonomy import Kind, Severity
from service.worker import Worker, WorkerConfig

BASE_TIME = dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
IMAGE_FILE = "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
# max_attempts=1: a failing job is dead-lettered at once; study checks are never due in a test
OPTIONS = QueueOptions(max_attempts=1, study_stable_seconds=3600)

Plan = list[tuple[str, Severity]] | Exception


@dataclass
class ScriptedEngine:
    """A QC engine whose findings are set per item id; an exception makes it fail."""

    name: str = "rules"
    version: str = "scripted-1"
    kinds: frozenset[Kind] = frozenset({"image", "report"})
    script: dict[int, Plan] = field(default_factory=dict)

    def review(self, item: QCInput) -> list[Finding]:
        plan = self.script.get(item.item_id, [])
        if isinstance(plan, Exception):
            raise plan
        return [
            Finding(
                code=code,
                severity=severity,
                message=f"{code} found by the test engine",
                evidence=[{"section": "IMPRESSION", "start": 0, "end": 4, "text": "test"}],
                confidence=0.8,
                engine=self.name,
                engine_version=self.version,
            )
            for code, severity in plan
        ]


def add_report(
    comps: Components,
    report_id: str,
    *,
    accession: str | None = None,
    study_uid: str | None = None,
    text: str = "FINDINGS: clear.\nIMPRESSION: normal.",
) -> int:
    received = ReceivedReport(
        report_id=report_id,
        content_hash=hashlib.sha256(f"{report_id}|{text}".encode()).hexdigest(),
        resource_json='{"resourceType": "DiagnosticReport"}',
        text=text,
        sections={"FINDINGS": "clear.", "IMPRESSION": "normal."},
        status="final",
        patient_sex=None,
        subject_reference=None,
        exam_code=None,
        exam_display=None,
        accession=accession,
        study_instance_uid=study_uid,
    )
    return ingest(comps.db, store_report, received, OPTIONS).item_id


def add_image(
    comps: Components,
    shared_data: Path,
    sop_uid: str,
    study_uid: str,
    accession: str | None,
    file: str = IMAGE_FILE,
) -> int:
    """A real DICOM file, stored durably, received under made-up UIDs."""
    path = shared_data / file
    header = pydicom.dcmread(path, stop_before_pixels=True)
    stored = comps.files.put([path.read_bytes()])
    received = ReceivedInstance(
        sop_instance_uid=sop_uid,
        sop_class_uid=str(header.SOPClassUID),
        study_instance_uid=study_uid,
        series_instance_uid=f"{study_uid}.1",
        modality=str(header.get("Modality", "")) or None,
        accession=accession,
        patient_id=None,
        transfer_syntax_uid=str(header.file_meta.TransferSyntaxUID),
        path=stored.relpath,
        sha256=stored.sha256,
        size_bytes=stored.size,
        calling_ae="TESTSCU",
    )
    return ingest(comps.db, store_instance, received, OPTIONS).item_id


def drain(comps: Components, engine: ScriptedEngine, publisher: Publisher) -> int:
    """Run a real worker over every due QC job; returns how many jobs it ran."""
    pipeline = Pipeline(comps.db, comps.files, [engine], [], publisher)

    def run_qc(job: queue.ClaimedJob) -> None:
        assert job.item_id is not None
        pipeline.process_item(job.item_id)

    def dead(job: queue.ClaimedJob, error: str) -> None:
        assert job.item_id is not None
        pipeline.mark_failed(job.item_id, error)

    config = WorkerConfig(
        lease_seconds=5,
        poll_seconds=0.05,
        retry=queue.RetryPolicy(base_seconds=0.01, max_seconds=0.01),
    )
    worker = Worker(comps.db, {queue.QC: run_qc}, config, on_dead_letter=dead)
    ran = 0
    while worker.run_once():
        ran += 1
    return ran


def remove_file(comps: Components, item_id: int) -> None:
    """What ``radqc retention`` does to one image: unlink its stored file, mark its instance
    (``file_removed_at``); the item, its findings and Observations stay."""
    with comps.db.transaction() as session:
        instance = session.scalars(
            select(Instance).join(Item, Item.instance_id == Instance.id).where(Item.id == item_id)
        ).one()
        comps.files.path(instance.path).unlink()
        instance.file_removed_at = utcnow()


def set_received_at(comps: Components, times: dict[int, dt.datetime]) -> None:
    with comps.db.transaction() as session:
        for item_id, when in times.items():
            session.execute(update(Item).where(Item.id == item_id).values(received_at=when))


# The items of the scenario, oldest first; each is received one hour after the previous one.
ORDER = ("r_flagged", "r_clean", "r_failed", "i_flagged", "i_minor", "r_queued", "i_queued")


def seed_scenario(comps: Components, shared_data: Path) -> dict[str, int]:
    """Seven items in every state the dashboard shows; returns their ids by name."""
    ids = {
        "r_flagged": add_report(comps, "rep-1", accession="ACC-1", study_uid="1.2.3.1"),
        "r_clean": add_report(comps, "rep-2", accession="ACC-2", study_uid="1.2.3.2"),
        "r_failed": add_report(comps, "rep-3", accession="ACC-3"),
        "i_flagged": add_image(comps, shared_data, "1.2.840.9.1", "1.2.3.1", "ACC-1"),
        "i_minor": add_image(comps, shared_data, "1.2.840.9.2", "1.2.3.2", "ACC-2"),
    }
    engine = ScriptedEngine(
        script={
            ids["r_flagged"]: [
                ("report.laterality", Severity.MAJOR),
                ("report.typo", Severity.MINOR),
            ],
            ids["r_failed"]: RuntimeError("boom: the engine fell over"),
            ids["i_flagged"]: [("cxr.exposure", Severity.CRITICAL)],
            ids["i_minor"]: [("cxr.exposure", Severity.MINOR)],
        }
    )
    # the real publisher stores Observations; write-back is off, so no outbox entries
    assert drain(comps, engine, ObservationPublisher(writeback_enabled=False)) == 5
    ids["r_queued"] = add_report(comps, "rep-4", accession="ACC-4")
    ids["i_queued"] = add_image(comps, shared_data, "1.2.840.9.3", "1.2.3.3", None)
    set_received_at(
        comps, {ids[name]: BASE_TIME + dt.timedelta(hours=hour) for hour, name in enumerate(ORDER)}
    )
    return ids
