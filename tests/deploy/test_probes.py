"""The exec probes of the manifests, run as the kubelet runs them against the real processes: the
listener's C-ECHO liveness probe and the worker's database readiness probe pass when they
should, and fail within their timeout when they should."""

from __future__ import annotations

import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.manifests import Resource
from tests.deploy.pods import (
    container,
    pod_environment,
    run_exec_probe,
    start,
    stop,
    wait_for_log,
)
from tests.support.servers import free_port

LISTENING = r"Storage SCP \S+ listening on"


def _listener_env(
    configured: list[Resource], tmp_path: Path, sqlite_template: Path, **extra: str
) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(sqlite_template, data / "radqc.sqlite3")
    overrides = {
        "RADQC_DATA_DIR": str(data),
        "RADQC_DATABASE_URL": f"sqlite:///{data / 'radqc.sqlite3'}",
        "RADQC_DICOM_HOST": "127.0.0.1",  # the pod listens on every interface; a test need not
        "RADQC_DICOM_PORT": str(free_port()),
        **extra,
    }
    return pod_environment(configured, container(configured, "radqc-listener"), overrides)


@pytest.fixture
def listener(
    configured: list[Resource],
    tmp_path: Path,
    sqlite_template: Path,
    request: pytest.FixtureRequest,
) -> Iterator[tuple[subprocess.Popen[bytes], dict[str, str], Path]]:
    """`radqc listen` as the pod runs it; ``request.param``: extra settings."""
    extra: dict[str, str] = getattr(request, "param", {})
    env = _listener_env(configured, tmp_path, sqlite_template, **extra)
    log = tmp_path / "listen.log"
    proc = start(container(configured, "radqc-listener"), env, log)
    try:
        wait_for_log(proc, log, LISTENING)
        yield proc, env, log
    finally:
        stop(proc)


def _liveness(configured: list[Resource]) -> Resource:
    probe: Resource = container(configured, "radqc-listener")["livenessProbe"]
    return probe


def test_listener_liveness_probe_echoes(
    configured: list[Resource], listener: tuple[subprocess.Popen[bytes], dict[str, str], Path]
) -> None:
    _proc, env, log = listener
    result = run_exec_probe(_liveness(configured), env, log.parent)
    assert result.succeeded, result.output
    wait_for_log(_proc, log, r"association released from RADQC-PROBE@127\.0\.0\.1")


@pytest.mark.parametrize("listener", [{"RADQC_DICOM_ALLOWED_AE_TITLES": "PACS1"}], indirect=True)
def test_listener_liveness_probe_counts_a_rejection_as_alive(
    configured: list[Resource], listener: tuple[subprocess.Popen[bytes], dict[str, str], Path]
) -> None:
    """A calling AE title outside the allow-list is rejected: the listener answered, so it lives
    (the warning it logs is why the allow-list should name RADQC-PROBE)."""
    proc, env, log = listener
    result = run_exec_probe(_liveness(configured), env, log.parent)
    assert result.succeeded, result.output
    wait_for_log(proc, log, r"association rejected from RADQC-PROBE@")


def test_listener_liveness_probe_fails_without_a_listener(
    configured: list[Resource], tmp_path: Path, sqlite_template: Path
) -> None:
    env = _listener_env(configured, tmp_path, sqlite_template)
    probe = _liveness(configured)
    result = run_exec_probe(probe, env, tmp_path)
    assert not result.succeeded
    assert result.returncode is not None, "it fails by itself, before the kubelet's timeout"
    assert "no answer" in result.output


def test_listener_liveness_probe_fails_on_a_port_that_only_the_kernel_answers(
    configured: list[Resource], tmp_path: Path, sqlite_template: Path
) -> None:
    """A listening socket nobody accepts on: a tcpSocket probe would pass (the kernel completes
    the handshake); the C-ECHO probe does not, and within its timeout."""
    with socket.socket() as wedged:
        wedged.bind(("127.0.0.1", 0))
        wedged.listen(8)
        env = _listener_env(
            configured,
            tmp_path,
            sqlite_template,
            RADQC_DICOM_PORT=str(wedged.getsockname()[1]),
        )
        with socket.create_connection(wedged.getsockname(), timeout=2):
            pass  # what a tcpSocket probe checks: it passes
        probe = _liveness(configured)
        result = run_exec_probe(probe, env, tmp_path)
    assert not result.succeeded
    assert result.seconds < probe["timeoutSeconds"]


# -- the worker's readiness ---------------------------------------------------------------------


def _worker_readiness(
    configured: list[Resource], database_url: str, tmp_path: Path
) -> tuple[Resource, dict[str, str]]:
    worker = container(configured, "radqc-worker")
    env = pod_environment(
        configured,
        worker,
        {"RADQC_DATA_DIR": str(tmp_path / "data"), "RADQC_DATABASE_URL": database_url},
    )
    probe: Resource = worker["readinessProbe"]
    return probe, env


def test_worker_is_ready_when_the_database_has_the_schema(
    configured: list[Resource], database_url: str, tmp_path: Path
) -> None:
    probe, env = _worker_readiness(configured, database_url, tmp_path)
    result = run_exec_probe(probe, env, tmp_path)
    assert result.succeeded, result.output


def test_worker_is_not_ready_before_the_migrations(
    configured: list[Resource], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.sqlite3"
    probe, env = _worker_readiness(configured, f"sqlite:///{empty}", tmp_path)
    result = run_exec_probe(probe, env, tmp_path)
    assert result.returncode == 1
    assert "database not ready: OperationalError" in result.output


def test_worker_is_not_ready_without_the_database(
    configured: list[Resource], tmp_path: Path
) -> None:
    url = f"postgresql+psycopg://radqc:wrong@127.0.0.1:{free_port()}/radqc"
    probe, env = _worker_readiness(configured, url, tmp_path)
    result = run_exec_probe(probe, env, tmp_path)
    assert result.returncode == 1
    assert "database not ready" in result.output
    assert "wrong" not in result.output, "no credentials in the kubelet's events"
