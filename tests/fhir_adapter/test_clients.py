"""FHIR clients nobody here wrote, reading radqc over real HTTP (issue 11, part 6): SMART's
``fhirclient`` 4.4 and ``fhirpy`` 2.3 (its sync client).

radqc runs as it is assembled (:func:`service.app.build_api`, :func:`service.app.build_worker`:
the rules engine, the publisher, write-back to a recording FHIR server) under uvicorn on
loopback, on SQLite and PostgreSQL. The RIS sends real DiagnosticReports over HTTP; the
clients search by code, patient and date, page through several pages, count, sort, read and
vread; then a corrected report arrives and both clients see the first version's summary
cancelled and the correction's current, and the hospital server received each change once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fhirclient import client as smart
from fhirclient.models.bundle import Bundle as SmartBundle
from fhirclient.models.observation import Observation as SmartObservation
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import ResourceNotFound
from sqlalchemy import func, select

from fhir_adapter.observations import summary_observation_id
from service.app import build_api, build_components, build_worker
from service.config import Settings
from service.db import Database
from service.models import Item, ItemStatus
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.fhir_adapter.support import validate
from tests.fhir_adapter.writeback_support import all_delivered, as_sent, stored, wait_until
from tests.support.servers import serve_app

INGEST = {"Authorization": "Bearer ingest-token-0123456789"}
READER = "Bearer reader-token-0123456789"
CLEAN = (
    "FINDINGS: The lungs are clear. No pleural effusion or pneumothorax. The heart size is "
    "normal.\nIMPRESSION: No acute cardiopulmonary abnormality."
)
PLACEHOLDER = CLEAN.replace("No acute cardiopulmonary abnormality.", "[***]")
REPORTS = {  # id: (patient, effectiveDateTime, text), sent in this order, not in time order
    "r1": ("p1", "2024-01-09T08:00:00+01:00", PLACEHOLDER),
    "r2": ("p2", "2024-04-10T09:30:00Z", CLEAN),
    "r3": ("p1", "2024-03-01T12:00:00Z", CLEAN),
    "r4": ("p3", "2024-02-01T07:15:00Z", CLEAN),
    "r5": ("p1", "2024-05-02T16:45:00Z", CLEAN),
}
NEWEST_FIRST = ("r5", "r2", "r3", "r4", "r1")


def _report(report_id: str, patient: str, effective: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "DiagnosticReport",
        "id": report_id,
        "status": "final",
        "code": {"text": "XR CHEST 2 VIEWS"},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": effective,
        "issued": "2024-06-01T00:00:00Z",
        "conclusion": text,
    }


@dataclass
class Radqc:
    base: str
    db: Database
    http: httpx.Client
    hospital: RecordingFHIRServer

    @property
    def fhir(self) -> str:
        return f"{self.base}/fhir"

    def send(self, report_id: str, patient: str, effective: str, text: str) -> None:
        body = _report(report_id, patient, effective, text)
        response = self.http.put(f"/fhir/DiagnosticReport/{report_id}", json=body, headers=INGEST)
        assert response.status_code in (200, 201), response.text

    def wait_done(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            with self.db.reader() as session:
                done = session.scalar(
                    select(func.count()).select_from(Item).where(Item.status == ItemStatus.DONE)
                )
            if done == count:
                return
            assert time.monotonic() < deadline, f"{done} of {count} items done"
            time.sleep(0.05)


@contextmanager
def running_radqc(settings: Settings, db: Database) -> Iterator[Radqc]:
    """radqc's API and one worker, writing back to a recording FHIR server, all on loopback."""
    with running_fhir_server() as hospital:
        settings = settings.model_copy(update={"fhir_writeback_url": hospital.base_url})
        components = build_components(settings)
        bundle = build_worker(components)
        thread = threading.Thread(target=bundle.worker.run, daemon=True)
        thread.start()
        try:
            with (
                serve_app(build_api(components)) as base,
                httpx.Client(base_url=base, timeout=10) as http,
            ):
                yield Radqc(base, db, http, hospital)
        finally:
            bundle.worker.stop()
            thread.join(timeout=10)
            bundle.close()
            components.db.dispose()


@pytest.fixture
def radqc(settings: Settings, db: Database) -> Iterator[Radqc]:
    with running_radqc(settings, db) as running:
        for report_id, (patient, effective, text) in REPORTS.items():
            running.send(report_id, patient, effective, text)
        running.wait_done(len(REPORTS))
        yield running


def _summary_id(report_id: str, version: int = 1) -> str:
    return summary_observation_id(f"report:{report_id}:v{version}")


# -- fhirpy ----------------------------------------------------------------------------------
def test_fhirpy_searches_pages_counts_sorts_and_reads(radqc: Radqc) -> None:
    client = SyncFHIRClient(radqc.fhir, authorization=READER)
    observations = client.resources("Observation")

    summaries = observations.search(code="qc.summary").fetch_all()
    assert {s["id"] for s in summaries} == {_summary_id(r) for r in REPORTS}
    results = {s["id"]: s["valueCodeableConcept"]["coding"][0]["code"] for s in summaries}
    assert results[_summary_id("r1")] == "fail"  # the placeholder
    assert results[_summary_id("r2")] == "pass"
    assert observations.search(code="qc.summary").count() == len(REPORTS)

    # a patient's results, two to a page: fetch_all follows every next link
    mine = observations.search(patient="p1").limit(2)
    every = mine.fetch_all()
    assert len(every) == observations.search(patient="p1").count() >= 4
    assert len({o["id"] for o in every}) == len(every)
    assert len(mine.fetch()) == 2  # one page
    assert {o["subject"]["reference"] for o in every} == {"Patient/p1"}
    assert {s["id"] for s in every if s["code"]["coding"][0]["code"] == "qc.summary"} == {
        _summary_id(r) for r in ("r1", "r3", "r5")
    }

    # by date: the report's time, not the time radqc checked it
    march_on = observations.search(code="qc.summary", date__ge="2024-03-01").fetch_all()
    assert {s["id"] for s in march_on} == {_summary_id(r) for r in ("r2", "r3", "r5")}
    january = observations.search(code="qc.summary", date="2024-01-09").fetch_all()
    assert [s["effectiveDateTime"] for s in january] == ["2024-01-09T07:00:00.000Z"]

    # sorted by date, newest first, across pages
    newest = observations.search(code="qc.summary").sort("-date").limit(2).fetch_all()
    assert [s["id"] for s in newest] == [_summary_id(r) for r in NEWEST_FIRST]
    oldest = observations.search(code="qc.summary").sort("date").first()
    assert oldest is not None and oldest["id"] == _summary_id("r1")

    # read and vread
    read = client.reference("Observation", _summary_id("r2")).to_resource()
    assert read["status"] == "preliminary"
    assert read["meta"]["versionId"] == "1"
    validate(read.serialize())
    vread = client.execute(f"Observation/{_summary_id('r2')}/_history/1", method="get")
    assert vread == read.serialize()
    with pytest.raises(ResourceNotFound):
        client.execute(f"Observation/{_summary_id('r2')}/_history/7", method="get")
    with pytest.raises(ResourceNotFound):
        client.reference("Observation", "rqc-no-such-observation").to_resource()


# -- fhirclient ------------------------------------------------------------------------------
def _smart(radqc: Radqc) -> smart.FHIRClient:
    client = smart.FHIRClient(settings={"app_id": "radqc-tests", "api_base": radqc.fhir})
    client.server.session.headers["Authorization"] = READER  # a static reader token
    client.prepare()  # reads radqc's CapabilityStatement into fhirclient's R4 models
    return client


def _search(client: smart.FHIRClient, struct: dict[str, Any]) -> list[SmartObservation]:
    found = SmartObservation.where(struct=struct).perform_resources_iter(client.server)
    return [resource for resource in found if isinstance(resource, SmartObservation)]


def test_fhirclient_searches_pages_counts_sorts_and_reads(radqc: Radqc) -> None:
    client = _smart(radqc)
    capability = client.server.capabilityStatement
    assert capability.fhirVersion == "4.0.1"
    (resource,) = [r for r in capability.rest[0].resource if r.type == "Observation"]
    assert {i.code for i in resource.interaction} == {"read", "vread", "search-type"}

    summaries = _search(client, {"code": "qc.summary"})
    assert {s.id for s in summaries} == {_summary_id(r) for r in REPORTS}
    counted = SmartBundle.read_from("Observation?code=qc.summary&_summary=count", client.server)
    assert counted.total == len(REPORTS)

    pages = list(
        SmartObservation.where(struct={"patient": "Patient/p1", "_count": "2"}).perform_iter(
            client.server
        )
    )
    assert len(pages) >= 2
    assert all(len(page.entry or []) <= 2 for page in pages)
    ids = [entry.resource.id for page in pages for entry in page.entry or []]
    assert len(ids) == len(set(ids)) == pages[0].total

    # fhirclient writes $gte as ">=" (the DSTU form) and $desc as "_sort:desc"
    march_on = _search(client, {"code": "qc.summary", "date": {"$gte": "2024-03-01"}})
    assert {s.id for s in march_on} == {_summary_id(r) for r in ("r2", "r3", "r5")}
    before_march = _search(client, {"code": "qc.summary", "date": {"$lt": "2024-03-01"}})
    assert {s.id for s in before_march} == {_summary_id(r) for r in ("r1", "r4")}
    newest = _search(client, {"code": "qc.summary", "_sort": {"$desc": "date"}, "_count": "2"})
    assert [s.id for s in newest] == [_summary_id(r) for r in NEWEST_FIRST]

    read = SmartObservation.read(_summary_id("r1"), client.server)
    assert read.status == "preliminary"
    assert read.valueCodeableConcept.coding[0].code == "fail"
    assert read.interpretation[0].coding[0].code == "A"
    assert read.focus[0].reference == "DiagnosticReport/r1/_history/1"
    assert read.effectiveDateTime.as_json() == "2024-01-09T07:00:00.000Z"
    assert read.meta.versionId == "1"
    path = f"Observation/{_summary_id('r1')}/_history/1"
    vread = SmartObservation.read_from(path, client.server)
    assert vread.as_json() == read.as_json()


# -- the lifecycle, as the clients see it ------------------------------------------------------
def test_a_corrected_report_as_both_clients_see_it(radqc: Radqc) -> None:
    first, corrected = _summary_id("r1", 1), _summary_id("r1", 2)
    wait_until(lambda: all_delivered(radqc.db))  # the hospital has version 1's results
    assert [put.json()["status"] for put in radqc.hospital.accepted_puts(first)] == ["preliminary"]
    patient, effective, _ = REPORTS["r1"]
    radqc.send("r1", patient, effective, CLEAN)  # version 2: the placeholder is filled in
    radqc.wait_done(len(REPORTS) + 1)

    fhirpy = SyncFHIRClient(radqc.fhir, authorization=READER).resources("Observation")
    current = fhirpy.search(
        derived_from="DiagnosticReport/r1", code="qc.summary", status="preliminary,final"
    ).fetch_all()
    assert [s["id"] for s in current] == [corrected]
    assert current[0]["valueCodeableConcept"]["coding"][0]["code"] == "pass"
    assert current[0]["derivedFrom"][0]["reference"] == "DiagnosticReport/r1/_history/2"
    not_cancelled = fhirpy.search(
        derived_from="DiagnosticReport/r1", status__not=["cancelled", "entered-in-error"]
    ).fetch_all()
    assert [o["id"] for o in not_cancelled] == [corrected]
    everything = fhirpy.search(derived_from="DiagnosticReport/r1").fetch_all()
    assert {o["status"] for o in everything if o["id"] != corrected} == {"cancelled"}

    client = _smart(radqc)
    old = SmartObservation.read(first, client.server)
    assert old.status == "cancelled"
    assert old.meta.versionId == "2"
    assert old.note[-1].text.startswith("Superseded: version 2 of this report replaces version 1")
    assert old.valueCodeableConcept.coding[0].code == "fail"  # what it said, kept
    new = _search(client, {"derived-from": "DiagnosticReport/r1", "status": "preliminary,final"})
    assert [o.id for o in new] == [corrected]

    # the hospital server received the first summary twice (as published, then cancelled),
    # the correction's once, and every other Observation once per version
    wait_until(lambda: all_delivered(radqc.db))
    statuses = [put.json()["status"] for put in radqc.hospital.accepted_puts(first)]
    assert statuses == ["preliminary", "cancelled"]
    assert [put.json()["status"] for put in radqc.hospital.accepted_puts(corrected)] == [
        "preliminary"
    ]
    for obs_id, row in stored(radqc.db).items():
        accepted = radqc.hospital.accepted_puts(obs_id)
        assert len(accepted) == row.version, obs_id
        assert accepted[-1].json() == as_sent(radqc.db, row)
        assert "_history" not in accepted[-1].body.decode()
        validate(accepted[-1].json())
