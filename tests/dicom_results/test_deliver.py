"""The pacs_results job end to end: a real film through the real rules engine, the study's SR and
KOS C-STOREd to DCMTK's storescp as the PACS, exactly once; new results as a new instance in the
same series; a refusing PACS (pynetdicom answering 0xA900) recorded as refused after the allowed
attempts and never retried for ever; a PACS that is away waited for, then delivered to. SQLite
and PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    Comprehensive3DSRStorage,
    KeyObjectSelectionDocumentStorage,
)
from pynetdicom.transport import ThreadedAssociationServer
from sqlalchemy import select, update

from dicom_results.deliver import PacsResultsSender
from dicom_results.scu import PacsTarget
from service import queue
from service.components import Components
from service.config import Settings
from service.db import Database
from service.engines.rules import RulesEngine
from service.models import FindingRow, Item, Job
from service.pacs.models import PacsDelivery
from service.pacs.results import JOB_KIND, PacsPublisher, series_uid
from service.pipeline import Pipeline
from service.storage import FileStore
from service.worker import Worker, WorkerConfig
from tests.dicom_results.conftest import PACS_AE, Pacs, dciodvfy, dsrdump, start_pacs
from tests.service.api.support import add_image
from tests.support.servers import free_port

FILM = "cxr/pydicom-data_RG1_UNCR_CR_chest_PA.dcm"


@pytest.fixture
def film(shared_data: Path) -> tuple[str, str]:
    """The film's own SOP Instance and Study Instance UIDs (received as they are)."""
    header = pydicom.dcmread(shared_data / FILM, stop_before_pixels=True)
    return str(header.SOPInstanceUID), str(header.StudyInstanceUID)


@pytest.fixture
def comps(settings: Settings, db: Database) -> Components:
    files = FileStore(settings.dicom_dir)
    pipeline = Pipeline(db, files, [RulesEngine()], [], PacsPublisher(delay_seconds=0))
    return Components(settings, db, files, pipeline)


def _worker(comps: Components, port: int, max_refusals: int = 3) -> Worker:
    target = PacsTarget("127.0.0.1", port, PACS_AE, "RADQC", timeout_seconds=5)
    sender = PacsResultsSender(comps.db, comps.files, target, max_refusals)

    def run_qc(job: queue.ClaimedJob) -> None:
        assert job.item_id is not None
        comps.pipeline.process_item(job.item_id)

    config = WorkerConfig(lease_seconds=10, poll_seconds=0.01, retry=queue.RetryPolicy(0.01, 0.01))
    return Worker(comps.db, {queue.QC: run_qc, JOB_KIND: sender.deliver}, config)


def _drain(worker: Worker, until: Callable[[], bool] = lambda: False, seconds: float = 20) -> None:
    """Run jobs until none is due (or ``until`` holds); retried jobs are due again soon."""
    deadline = time.monotonic() + seconds
    idle = 0
    while time.monotonic() < deadline and not until():
        if worker.run_once():
            idle = 0
            continue
        idle += 1
        if idle > 20:
            return
        time.sleep(0.02)


def _deliveries(db: Database) -> list[tuple[str, str, str, int | None]]:
    with db.reader() as session:
        rows = session.scalars(select(PacsDelivery).order_by(PacsDelivery.id)).all()
        return [(r.document, r.sop_instance_uid, r.status, r.dimse_status) for r in rows]


def _maybe_job(db: Database) -> Job | None:
    with db.reader() as session:
        job = session.scalar(select(Job).where(Job.kind == JOB_KIND))
        if job is not None:
            session.expunge(job)
        return job


def _pacs_job(db: Database) -> Job:
    job = _maybe_job(db)
    assert job is not None
    return job


def _attempts(db: Database) -> int:
    job = _maybe_job(db)
    return job.attempts if job is not None else 0


def _republish(comps: Components, item_id: int) -> None:
    with comps.db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        PacsPublisher(0).publish(session, item)


def test_results_reach_the_pacs_once_and_validate(
    comps: Components, shared_data: Path, film: tuple[str, str], pacs: Pacs
) -> None:
    sop, study = film
    item_id = add_image(comps, shared_data, sop, study, "ACC-PACS-1", file=FILM)
    worker = _worker(comps, pacs.port)
    _drain(worker)
    with comps.db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None and item.status == "done"
        flagged = item.flagged
        codes = set(session.scalars(select(FindingRow.code).where(FindingRow.item_id == item_id)))
    received = pacs.received()
    assert len(received) == (2 if flagged else 1)
    for path in received:
        assert dciodvfy(path) == [], path.name
    sr_path = next(p for p in received if pydicom.dcmread(p).Modality == "SR")
    sr = pydicom.dcmread(sr_path)
    assert sr.StudyInstanceUID == study and sr.SeriesInstanceUID == series_uid(study, "sr")
    dump = dsrdump(sr_path)
    assert all(f"({code},99RADQC," in dump for code in codes)
    assert ("(fail,99RADQC," if flagged else "(pass,99RADQC,") in dump
    delivered = _deliveries(comps.db)
    assert {(d, s) for d, _, s, _ in delivered} == (
        {("sr", "delivered"), ("kos", "delivered")} if flagged else {("sr", "delivered")}
    )
    assert {uid for _, uid, _, _ in delivered} == {
        pydicom.dcmread(p).SOPInstanceUID for p in received
    }

    # the same results published again: nothing new reaches the PACS
    _republish(comps, item_id)
    _drain(worker)
    assert len(pacs.received()) == len(received)
    assert _pacs_job(comps.db).status == "done"

    # changed results: a new SR instance in the same series, numbered 2
    with comps.db.transaction() as session:
        session.execute(
            update(FindingRow)
            .where(FindingRow.item_id == item_id)
            .values(message="changed by audit")
        )
        session.execute(update(Item).where(Item.id == item_id).values(flagged=True))
    _republish(comps, item_id)
    _drain(worker)
    new = [p for p in pacs.received() if p not in received]
    new_sr = [pydicom.dcmread(p) for p in new if pydicom.dcmread(p).Modality == "SR"]
    assert len(new_sr) == 1
    assert new_sr[0].SeriesInstanceUID == sr.SeriesInstanceUID
    assert new_sr[0].SOPInstanceUID != sr.SOPInstanceUID and new_sr[0].InstanceNumber == 2


def _refusing_scp(port: int, seen: list[str]) -> ThreadedAssociationServer:
    """A pynetdicom SCP that answers every C-STORE 0xA900 (data set does not match SOP class)."""

    def refuse(event: evt.Event) -> Dataset:
        seen.append(str(event.request.AffectedSOPInstanceUID))
        status = Dataset()
        status.Status = 0xA900
        status.ErrorComment = "test PACS refuses everything"
        return status

    ae = AE(ae_title=PACS_AE)
    for sop_class in (Comprehensive3DSRStorage, KeyObjectSelectionDocumentStorage):
        ae.add_supported_context(sop_class)
    return ae.start_server(
        ("127.0.0.1", port), block=False, evt_handlers=[(evt.EVT_C_STORE, refuse)]
    )


@pytest.fixture
def refusing_pacs() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []
    port = free_port()
    server = _refusing_scp(port, seen)
    try:
        yield port, seen
    finally:
        server.shutdown()


def test_a_refusing_pacs_is_recorded_and_not_retried_for_ever(
    comps: Components,
    shared_data: Path,
    film: tuple[str, str],
    refusing_pacs: tuple[int, list[str]],
) -> None:
    port, seen = refusing_pacs
    add_image(comps, shared_data, *film, "ACC-PACS-2", file=FILM)
    worker = _worker(comps, port, max_refusals=2)
    _drain(worker)
    job = _pacs_job(comps.db)
    assert job.status == "done" and job.attempts == 2  # tried twice, then given up
    refused = _deliveries(comps.db)
    assert refused and all(s == "refused" and code == 0xA900 for _, _, s, code in refused)
    attempts = len(seen)
    _drain(worker)
    assert len(seen) == attempts  # not sent again


def test_a_pacs_that_is_away_is_waited_for(
    comps: Components, shared_data: Path, film: tuple[str, str], tmp_path: Path
) -> None:
    port = free_port()  # nobody listens yet
    add_image(comps, shared_data, *film, "ACC-PACS-3", file=FILM)
    worker = _worker(comps, port, max_refusals=1)
    _drain(worker, until=lambda: _attempts(comps.db) >= 3, seconds=30)
    job = _pacs_job(comps.db)
    assert (
        job.status == "queued" and job.attempts >= 3 and "no association" in (job.last_error or "")
    )
    assert _deliveries(comps.db) == []
    process = start_pacs(tmp_path / "late-pacs", port)
    try:
        _drain(worker, until=lambda: _pacs_job(comps.db).status == "done", seconds=30)
        assert _pacs_job(comps.db).status == "done"
        assert {s for _, _, s, _ in _deliveries(comps.db)} == {"delivered"}
        assert list((tmp_path / "late-pacs").iterdir())
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_refusals_are_counted_per_document_not_per_job_attempt(
    comps: Components, shared_data: Path, film: tuple[str, str]
) -> None:
    """A PACS that was away for three attempts and then refuses: each document is still sent
    RADQC_PACS_MAX_REFUSALS times before it is recorded refused (the outage's attempts are not
    refusals)."""
    port = free_port()  # nobody listens yet
    add_image(comps, shared_data, *film, "ACC-PACS-4", file=FILM)
    worker = _worker(comps, port, max_refusals=2)
    _drain(worker, until=lambda: _attempts(comps.db) >= 3, seconds=30)
    assert _deliveries(comps.db) == []
    seen: list[str] = []
    server = _refusing_scp(port, seen)
    try:
        _drain(worker, until=lambda: _pacs_job(comps.db).status == "done", seconds=30)
    finally:
        server.shutdown()
    assert _pacs_job(comps.db).status == "done"
    rows = _deliveries(comps.db)
    assert rows and {s for _, _, s, _ in rows} == {"refused"}
    assert sorted(Counter(seen).values()) == [2] * len(rows)  # each document refused twice
    with comps.db.reader() as session:
        assert set(session.scalars(select(PacsDelivery.attempts))) == {2}
