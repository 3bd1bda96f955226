"""Issue 10's probe, as a hospital sends it: a chest X-ray whose header names the patient
(MRN, accession, referring physician, institution) by a real DICOM association, and a report
whose indication repeats the name, MRN, phone and accession by FHIR over real HTTP, with the LLM
reviewer on for both. Nothing identifying reaches the loopback LLM server, and no log record of
the whole run holds a canary."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import httpx
import pytest
from pydicom import dcmread
from pydicom.uid import generate_uid
from pynetdicom import AE
from sqlalchemy import select

from service.app import build_api, build_components, build_listener, build_worker
from service.config import Settings
from service.models import Item, ItemStatus
from tests.service.api.conftest import INGEST
from tests.support.llm_server import llm_server
from tests.support.servers import serve_app

# Canaries: distinctive, so that any occurrence anywhere is a leak.
DICOM_UID = re.compile(r"\b\d+(?:\.\d+){4,}\b")
# Random tokens the LLM client logs at DEBUG: its retry idempotency keys (UUIDs) and the image
# sent as a base64 data URL. Their random characters may spell a numeric canary ("...be0042ca...").
RANDOM_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
DATA_URL = re.compile(r"data:image/[a-z]+;base64,[a-z0-9+/=]+")
CANARIES = ("zyxwvut", "quillfeather", "0042", "7731", "0142", "77123", "okonkwo", "marlow")
TEXT = (
    "INDICATION: Patient Zyxwvut Quillfeather, MRN MRN-0042-7731, call 555-0142, accession "
    "ACC-2024-77123. Cough. Discussed with Dr Okonkwo.\n"
    "FINDINGS: The lungs are clear. No pleural effusion. Heart size normal.\n"
    "IMPRESSION: No acute cardiopulmonary abnormality."
)


def _report() -> dict[str, object]:
    return {
        "resourceType": "DiagnosticReport",
        "id": "canary1",
        "status": "final",
        "identifier": [
            {
                "type": {"coding": [{"code": "ACSN"}]},
                "system": "urn:radqc-test:acc",
                "value": "ACC-2024-77123",
            }
        ],
        "code": {"text": "XR CHEST PA"},
        "subject": {"reference": "Patient/MRN-0042-7731", "display": "Zyxwvut Quillfeather"},
        "conclusion": TEXT,
    }


def _send_image(path: Path, port: int) -> None:
    ds = dcmread(path)
    ds.PatientName = "Quillfeather^Zyxwvut"
    ds.PatientID = "MRN-0042-7731"
    ds.AccessionNumber = "ACC-2024-77123"
    ds.ReferringPhysicianName = "Okonkwo^Chidi"
    ds.InstitutionName = "Marlow General Infirmary"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ae = AE(ae_title="PACS")
    ae.add_requested_context(ds.SOPClassUID, ds.file_meta.TransferSyntaxUID)
    assoc = ae.associate("127.0.0.1", port, ae_title="RADQC")
    assert assoc.is_established
    try:
        status = assoc.send_c_store(ds)
    finally:
        assoc.release()
    assert status.Status == 0x0000


def _drain(worker_run_once: object, done: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not worker_run_once() and done():  # type: ignore[operator]
            return
        time.sleep(0.05)
    pytest.fail("the items were not done in time")


def test_no_identifier_reaches_the_llm_or_the_logs(
    settings: Settings, shared_data: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with llm_server() as (srv, url):
        cfg = settings.model_copy(
            update={
                "dicom_port": 0,
                "llm_base_url": url,
                "llm_model": "canary-model",
                "llm_image_mode": "both",
                "llm_image_max_side": 256,
                "study_stable_seconds": 0.0,
            }
        )
        comps = build_components(cfg)
        listener = build_listener(comps)
        listener.start()
        try:
            _send_image(shared_data / "cxr/udacity_nih_test1.dcm", listener.port)
            with serve_app(build_api(comps)) as base:
                response = httpx.put(
                    f"{base}/fhir/DiagnosticReport/canary1",
                    json=_report(),
                    headers={"Authorization": f"Bearer {INGEST}"},
                    timeout=10,
                )
                assert response.status_code in (200, 201), response.text
            bundle = build_worker(comps)

            def done() -> bool:
                with comps.db.reader() as session:
                    statuses = session.scalars(select(Item.status)).all()
                return len(statuses) == 2 and all(s == ItemStatus.DONE for s in statuses)

            _drain(bundle.worker.run_once, done)
            bundle.close()
        finally:
            listener.stop()
    kinds = {
        "image" if isinstance(r["messages"][1]["content"], list) else "report" for r in srv.requests
    }
    assert kinds == {"image", "report"}  # both LLM parts ran
    sent = srv.all_sent_text().lower()
    assert "lungs are clear" in sent  # the clinical text went
    leaked = [c for c in CANARIES if c in sent]
    assert leaked == []
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records).lower()
    # The logs name objects by their generated DICOM UIDs (not patient data), whose random digits
    # may hold a numeric canary ("...2277731338..."): those are taken out before the check.
    logged = DICOM_UID.sub("<uid>", logged)
    logged = DATA_URL.sub("<image>", RANDOM_UUID.sub("<uuid>", logged))
    assert [c for c in CANARIES if c in logged] == []
