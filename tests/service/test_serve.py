"""End to end: ``radqc serve`` as a newcomer runs it, DCMTK's storescu as PACS, httpx as RIS and
dashboard, and a recording FHIR server on loopback as the hospital's.

Every chest X-ray in the shared data is sent; every one is stored and processed or clearly
refused; a report is PUT; the findings come back as Observations in radqc's FHIR API, in the REST
API, and are PUT to the hospital FHIR server exactly once each.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI, REPO
from tests.dicom_listener.conftest import option_for
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.support.servers import free_port

STORESCU = Path("/usr/bin/storescu")
READER = {"Authorization": "Bearer reader-token-0123456789"}
INGEST = {"Authorization": "Bearer ingest-token-0123456789"}
TOKENS = "reader:reader-token-0123456789,ingest:ingest-token-0123456789"


def _need_dcmtk() -> None:
    if not STORESCU.exists():
        message = "DCMTK's /usr/bin/storescu is missing (scripts/test installs Debian's dcmtk)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


class Service:
    def __init__(
        self, proc: subprocess.Popen[bytes], http: str, dicom_port: int, log: Path
    ) -> None:
        self.proc, self.http, self.dicom_port, self.log = proc, http, dicom_port, log


@pytest.fixture
def fhir_server() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
def service(
    tmp_path: Path, database_url: str, fhir_server: RecordingFHIRServer
) -> Iterator[Service]:
    http_port, dicom_port = free_port(), free_port()
    env = dict(os.environ)
    env.update(
        {
            "RADQC_DATA_DIR": str(tmp_path / "data"),
            "RADQC_DATABASE_URL": database_url,
            "RADQC_HTTP_PORT": str(http_port),
            "RADQC_DICOM_PORT": str(dicom_port),
            "RADQC_API_TOKENS": TOKENS,
            "RADQC_FHIR_WRITEBACK_URL": fhir_server.base_url,
            "RADQC_STUDY_STABLE_SECONDS": "1",
            "RADQC_WORKER_POLL_SECONDS": "0.1",
            "RADQC_JOB_BACKOFF_BASE_SECONDS": "0.2",
            "RADQC_JOB_BACKOFF_MAX_SECONDS": "1",
            "RADQC_WORKERS": "2",
        }
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("radqc serve did not start:\n" + log.read_text()[-4000:])
        time.sleep(0.2)
    service = Service(proc, base, dicom_port, log)
    yield service
    if proc.poll() is None:
        proc.terminate()  # stops its workers too
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()  # its workers notice and stop within a second
            proc.wait()


def _storescu(port: int, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(STORESCU),
            option_for(path),
            "-aec",
            "RADQC",
            "-to",
            "30",
            "127.0.0.1",
            str(port),
            str(path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _items(service: Service, **params: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    cursor: str | None = None
    while True:
        query = dict(params, limit="200", **({"cursor": cursor} if cursor else {}))
        page = httpx.get(
            f"{service.http}/api/v1/items", params=query, headers=READER, timeout=10
        ).json()
        found.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def _wait_all_done(service: Service, expected: int, timeout: float = 90) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        items = _items(service)
        if len(items) >= expected and all(i["status"] in ("done", "failed") for i in items):
            return items
        time.sleep(0.3)
    pytest.fail(f"items not processed in {timeout} s: {_items(service)}")


REPORT = {
    "resourceType": "DiagnosticReport",
    "id": "e2e-1",
    "status": "final",
    "code": {
        "coding": [{"system": "http://loinc.org", "code": "36643-5", "display": "XR Chest 2V"}]
    },
    "subject": {"reference": "Patient/p-e2e"},
    "presentedForm": [
        {
            "contentType": "text/plain",
            "data": "RklORElOR1M6IEhlYXJ0IHNpemUgaXMgbm9ybWFsLiBbKioqXQo=",
        }
    ],
}  # "FINDINGS: Heart size is normal. [***]" : no IMPRESSION, a placeholder left in


def test_serve_end_to_end(
    service: Service, fhir_server: RecordingFHIRServer, shared_data: Path
) -> None:
    _need_dcmtk()
    fhir_server.refuse_next(5)  # the hospital FHIR server is down at first
    cxr_files = sorted(p for p in (shared_data / "cxr").rglob("*.dcm"))
    refused: dict[str, str] = {}
    for path in cxr_files:
        result = _storescu(service.dicom_port, path)
        if result.returncode != 0:
            refused[path.name] = (result.stdout + result.stderr).strip()[-300:]
    # Only the legacy file without file meta cannot be sent by storescu as it is (DCMTK refuses
    # to read it); every other real chest X-ray is accepted.
    assert set(refused) <= {"fodicom_CR-MONO1-10-chest_nometa.dcm"}, refused
    sent = len(cxr_files) - len(refused)

    response = httpx.put(
        f"{service.http}/fhir/DiagnosticReport/e2e-1",
        json=REPORT,
        headers={**INGEST, "Content-Type": "application/fhir+json"},
        timeout=10,
    )
    assert response.status_code == 201, response.text

    items = _wait_all_done(service, sent + 1)
    assert all(i["status"] == "done" for i in items), [i for i in items if i["status"] != "done"]
    images = [i for i in items if i["kind"] == "image"]
    reports = [i for i in items if i["kind"] == "report"]
    assert len(images) == sent and len(reports) == 1
    report_codes = {f["code"] for f in reports[0]["findings"]}  # type: ignore[union-attr]
    assert {"report.omission", "report.terminology"} <= report_codes
    # udacity_nih_test5 claims Modality CT: its header check flags it.
    flagged_codes = {f["code"] for i in images for f in i["findings"]}  # type: ignore[attr-defined]
    assert "cxr.metadata" in flagged_codes
    assert all(i["flagged"] == bool(i["findings"]) for i in items)

    # radqc's own FHIR API has every finding and one summary per item as an Observation. Study
    # checks may still add findings after every item is done (the study is checked once it has
    # been quiet for RADQC_STUDY_STABLE_SECONDS): read items and Observations until they agree.
    deadline = time.monotonic() + 30
    while True:
        items = _items(service)
        n_findings = sum(len(i["findings"]) for i in items)  # type: ignore[arg-type]
        bundle = httpx.get(
            f"{service.http}/fhir/Observation",
            params={"_count": "500"},
            headers=READER,
            timeout=10,
        ).json()
        ids = [entry["resource"]["id"] for entry in bundle.get("entry", [])]
        if len(ids) == n_findings + len(items) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(ids) == len(set(ids)) == n_findings + len(items)
    summary = httpx.get(
        f"{service.http}/fhir/Observation",
        params={"code": "qc.summary", "derived-from": "DiagnosticReport/e2e-1"},
        headers=READER,
        timeout=10,
    ).json()
    assert len(summary["entry"]) == 1
    assert summary["entry"][0]["resource"]["valueCodeableConcept"]["coding"][0]["code"] == "fail"

    # ... and each was PUT to the hospital FHIR server: the latest version of every one arrives,
    # and no version is PUT twice (a version superseded before delivery may be skipped).
    served = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}

    def delivered() -> dict[str, dict[str, object]]:
        return {
            key.removeprefix("Observation/"): body for key, body in fhir_server.resources.items()
        }

    def current(resource: dict[str, object]) -> dict[str, object]:
        # The hospital copy refers to the patient and the report as the hospital knows them
        # (tests/fhir_adapter/test_references.py); everything else is what radqc serves.
        return {
            k: v
            for k, v in resource.items()
            if k not in ("meta", "subject", "derivedFrom", "focus")
        }

    # Study-level checks run once a study is stable, so more Observations may still appear.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        set(delivered()) != set(served)
        or any(current(delivered()[i]) != current(served[i]) for i in served)
    ):
        time.sleep(0.3)
        bundle = httpx.get(
            f"{service.http}/fhir/Observation", params={"_count": "500"}, headers=READER, timeout=10
        ).json()
        served = {e["resource"]["id"]: e["resource"] for e in bundle["entry"]}
    assert set(ids) <= set(served)
    ids = list(served)
    assert set(delivered()) == set(ids)
    for obs_id in ids:
        assert current(delivered()[obs_id]) == current(served[obs_id])
        puts = fhir_server.accepted_puts(obs_id)
        assert 1 <= len(puts) <= int(served[obs_id]["meta"]["versionId"])  # type: ignore[index]
        assert "_history" not in json.dumps(delivered()[obs_id].get("derivedFrom", []))
    report_copy = delivered()[summary["entry"][0]["resource"]["id"]]
    assert report_copy["subject"] == {"reference": "Patient/p-e2e", "type": "Patient"}
    assert report_copy["derivedFrom"][0]["reference"] == "DiagnosticReport/e2e-1"  # type: ignore[index]
    assert any(r.status == 503 for r in fhir_server.puts())

    # Clean shutdown on SIGTERM.
    service.proc.send_signal(signal.SIGTERM)
    assert service.proc.wait(60) == 0, service.log.read_text()[-4000:]
    assert "Traceback" not in service.log.read_text()


def test_serve_refuses_bad_settings_by_name(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        RADQC_HTTP_PORT="eighty",
        RADQC_DICOM_AE_TITLE="A" * 20,
        RADQC_API_TOKENS="superuser:abc",
        RADQC_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "serve"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    for name in ("RADQC_HTTP_PORT", "RADQC_DICOM_AE_TITLE", "RADQC_API_TOKENS"):
        assert name in result.stderr
    assert "Traceback" not in result.stderr
