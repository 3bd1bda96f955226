"""Station and site of image items: recorded from the stored DICOM header when the QC job
completes (a real worker with the loop's hook), and used as evaluation slices."""

from __future__ import annotations

import io
from pathlib import Path

import pydicom
from sqlalchemy import select

from fhir_adapter.publisher import ObservationPublisher
from service import queue
from service.components import Components
from service.config import Settings
from service.ingest import ReceivedInstance, ingest, store_instance
from service.loop.audit import AuditRequest, AuditService, MissedIn
from service.loop.evaluation import EvaluationRequest, EvaluationService
from service.loop.jobs import loop_jobs
from service.loop.models import ItemSite
from service.pipeline import Pipeline
from service.worker import Worker, WorkerConfig
from tests.service.api.support import IMAGE_FILE, OPTIONS, ScriptedEngine, add_report


def _image(comps: Components, shared_data: Path, uid: str, station: str | None) -> int:
    dataset = pydicom.dcmread(shared_data / IMAGE_FILE)
    if station is not None:
        dataset.StationName = station
        dataset.InstitutionName = "St Elsewhere"
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    stored = comps.files.put([buffer.getvalue()])
    received = ReceivedInstance(
        sop_instance_uid=uid,
        sop_class_uid=str(dataset.SOPClassUID),
        study_instance_uid=f"{uid}.9",
        series_instance_uid=f"{uid}.9.1",
        modality="CR",
        accession=None,
        patient_id=None,
        transfer_syntax_uid=str(dataset.file_meta.TransferSyntaxUID),
        path=stored.relpath,
        sha256=stored.sha256,
        size_bytes=stored.size,
        calling_ae="TESTSCU",
    )
    return ingest(comps.db, store_instance, received, OPTIONS).item_id


def test_station_and_site_are_recorded_and_sliced(
    comps: Components, settings: Settings, shared_data: Path
) -> None:
    room = _image(comps, shared_data, "1.2.840.77.1", "DX-ROOM-1")
    bare = _image(comps, shared_data, "1.2.840.77.2", None)
    report = add_report(comps, "site-r")
    pipeline = Pipeline(
        comps.db, comps.files, [ScriptedEngine()], [], ObservationPublisher(writeback_enabled=False)
    )
    loop = loop_jobs(settings, comps.db, pipeline)

    def run_qc(job: queue.ClaimedJob) -> None:
        assert job.item_id is not None
        pipeline.process_item(job.item_id)

    worker = Worker(
        comps.db, {queue.QC: run_qc}, WorkerConfig(lease_seconds=5), on_done=loop.on_done
    )
    while worker.run_once():
        pass
    with comps.db.reader() as session:
        sites = {r.item_id: (r.station, r.institution) for r in session.scalars(select(ItemSite))}
    assert sites == {room: ("DX-ROOM-1", "St Elsewhere"), bare: (None, None)}

    audits = AuditService(comps.db)
    for item_id, code in ((room, "cxr.exposure"), (bare, "cxr.exposure"), (report, "report.typo")):
        audits.submit(item_id, "auditor:t", AuditRequest((), (MissedIn(code),)))
    run = EvaluationService(comps.db).run(EvaluationRequest(), "t")
    assert {k: v["n_items"] for k, v in run.metrics["slices"]["station"].items()} == {
        "DX-ROOM-1": 1,
        "unknown": 1,
        "report": 1,
    }
    assert set(run.metrics["slices"]["site"]) == {"St Elsewhere", "unknown", "report"}
