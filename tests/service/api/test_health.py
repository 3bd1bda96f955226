"""/healthz, /readyz and /metrics over real HTTP: a live database, a dead one, a hanging one."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from service.api import health
from service.components import Components
from service.config import Settings
from service.db import Database
from service.models import Observation, OutboxEntry
from tests.service.api.conftest import make_app, make_components
from tests.service.api.support import add_report, seed_scenario
from tests.support.servers import serve_app

REPO = Path(__file__).resolve().parents[3]


def _samples(text: str) -> dict[str, list[Sample]]:
    """Samples by sample name (a counter's family ``x`` has samples ``x_total``)."""
    by_name: dict[str, list[Sample]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            by_name.setdefault(sample.name, []).append(sample)
    return by_name


def _value(samples: dict[str, list[Sample]], name: str, **labels: str) -> float:
    matches = [s.value for s in samples[name] if s.labels == labels]
    assert len(matches) == 1, (name, labels, samples.get(name))
    return matches[0]


def test_healthz_is_open(base_url: str) -> None:
    response = httpx.get(f"{base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_the_queue_depth(base_url: str, comps: Components) -> None:
    assert httpx.get(f"{base_url}/readyz").json() == {
        "status": "ready",
        "database": "ok",
        "queue_depth": 0,
    }
    for n in range(3):
        add_report(comps, f"rep-{n}")
    response = httpx.get(f"{base_url}/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "queue_depth": 3}


def test_metrics_count_what_the_database_holds(
    base_url: str, comps: Components, shared_data: Path
) -> None:
    ids = seed_scenario(comps, shared_data)
    with comps.db.transaction() as session:
        session.add(
            Observation(
                id="obs-1",
                item_id=ids["r_flagged"],
                code="report.typo",
                status="preliminary",
                resource_json="{}",
                content_hash="0" * 64,
            )
        )
        session.flush()
        session.add(OutboxEntry(observation_id="obs-1", observation_version=1))
        session.add(OutboxEntry(observation_id="obs-1", observation_version=2, status="delivered"))
        session.add(OutboxEntry(observation_id="obs-1", observation_version=3, status="refused"))
        session.add(OutboxEntry(observation_id="obs-1", observation_version=4, status="refused"))
    response = httpx.get(f"{base_url}/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = _samples(response.text)
    for name in (
        "radqc_items",
        "radqc_items_flagged",
        "radqc_queue_depth",
        "radqc_jobs",
        "radqc_jobs_dead_lettered",
        "radqc_outbox_pending",
        "radqc_outbox",
        "radqc_queue_due",
        "radqc_findings",
    ):
        assert families[name].type == "gauge", name
    assert _value(samples, "radqc_database_up") == 1
    assert _value(samples, "radqc_items", kind="report", status="done") == 2
    assert _value(samples, "radqc_items", kind="report", status="failed") == 1
    assert _value(samples, "radqc_items", kind="report", status="queued") == 1
    assert _value(samples, "radqc_items", kind="image", status="done") == 2
    assert _value(samples, "radqc_items", kind="image", status="queued") == 1
    assert _value(samples, "radqc_items", kind="image", status="processing") == 0
    assert _value(samples, "radqc_items_flagged", kind="image") == 2
    assert _value(samples, "radqc_items_flagged", kind="report") == 1
    # two queued QC jobs, and the study jobs of three studies that are not due yet
    assert _value(samples, "radqc_jobs", kind="qc", status="queued") == 2
    assert _value(samples, "radqc_jobs", kind="qc", status="done") == 4
    assert _value(samples, "radqc_jobs", kind="qc", status="failed") == 1
    assert _value(samples, "radqc_jobs", kind="study", status="queued") == 3
    assert _value(samples, "radqc_jobs", kind="writeback", status="queued") == 0
    assert _value(samples, "radqc_queue_depth") == 5
    assert _value(samples, "radqc_jobs_dead_lettered") == 1
    assert _value(samples, "radqc_outbox_pending") == 1
    # due now: the two queued QC jobs; the study jobs wait for their studies to settle
    assert _value(samples, "radqc_queue_due", kind="qc") == 2
    assert _value(samples, "radqc_queue_due", kind="study") == 0
    assert _value(samples, "radqc_queue_due", kind="writeback") == 0
    outbox = {s.labels["status"]: s.value for s in samples["radqc_outbox"]}
    assert outbox == {
        "pending": 1,
        "delivered": 1,
        "refused": 2,
        "discarded": 0,
        "superseded": 0,
    }
    assert _value(samples, "radqc_findings", code="cxr.exposure") == 2
    assert _value(samples, "radqc_findings", code="report.typo") == 1
    assert _value(samples, "radqc_findings", code="cxr.rotation") == 0
    # the in-process metrics of service.metrics are there too, as is the worker's count
    assert _value(samples, "radqc_jobs_processed_total", kind="qc") >= 4
    assert "radqc_writeback" in families
    assert "radqc_store_seconds" in families


@pytest.fixture
def offline_settings(tmp_path: Path) -> Settings:
    """Settings for the tests that bring their own (broken) database: run once, not per backend."""
    return Settings(data_dir=tmp_path / "data", api_tokens={"reader-token-0123456789": "reader"})


@pytest.fixture
def down_db() -> Iterator[Database]:
    """A PostgreSQL URL where nothing listens: every connection is refused at once."""
    database = Database("postgresql+psycopg://x@127.0.0.1:1/x")
    yield database
    database.dispose()


def test_unreachable_database(offline_settings: Settings, down_db: Database) -> None:
    with serve_app(make_app(make_components(offline_settings, down_db))) as url:
        started = time.monotonic()
        response = httpx.get(f"{url}/readyz", timeout=10)
        assert time.monotonic() - started < health.CHECK_TIMEOUT_SECONDS
        assert response.status_code == 503
        assert response.json() == {
            "status": "unavailable",
            "database": "not reachable (OperationalError)",
        }
        assert httpx.get(f"{url}/healthz").status_code == 200
        metrics = httpx.get(f"{url}/metrics", timeout=10)
        assert metrics.status_code == 200
        samples = _samples(metrics.text)
        assert _value(samples, "radqc_database_up") == 0
        assert "radqc_items" not in samples
        # the in-process metrics still answer
        assert "radqc_jobs_processed" in {
            f.name for f in text_string_to_metric_families(metrics.text)
        }


def test_hanging_database_does_not_hang_the_probe(offline_settings: Settings) -> None:
    """A server that accepts the TCP connection and never speaks: the probe gives up in time."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        database = Database(f"postgresql+psycopg://x@127.0.0.1:{port}/x")
        try:
            with serve_app(make_app(make_components(offline_settings, database))) as url:
                started = time.monotonic()
                response = httpx.get(f"{url}/readyz", timeout=10)
                elapsed = time.monotonic() - started
                assert response.status_code == 503
                assert response.json()["database"] == (
                    f"no answer within {health.CHECK_TIMEOUT_SECONDS:g} s"
                )
                assert health.CHECK_TIMEOUT_SECONDS <= elapsed < health.CHECK_TIMEOUT_SECONDS + 1
                metrics = httpx.get(f"{url}/metrics", timeout=10)
                assert _value(_samples(metrics.text), "radqc_database_up") == 0
        finally:
            silent.close()  # the stuck connection attempts fail now and free their threads
            database.dispose()


def test_metrics_aggregate_worker_processes(
    base_url: str, comps: Components, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With PROMETHEUS_MULTIPROC_DIR, counts written by other processes are exported."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder), "PYTHONPATH": str(REPO)}
    script = "from service import metrics; metrics.JOBS_DONE.labels('study').inc(3)"
    for _ in range(2):  # two worker processes
        subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    add_report(comps, "rep-1")
    samples = _samples(httpx.get(f"{base_url}/metrics").text)
    assert _value(samples, "radqc_jobs_processed_total", kind="study") == 6
    assert _value(samples, "radqc_database_up") == 1
    assert _value(samples, "radqc_items", kind="report", status="queued") == 1
