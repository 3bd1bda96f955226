"""Medplum's FHIR engine as the hospital FHIR server: ``@medplum/fhir-router`` (FhirRouter over
a MemoryRepository) with ``@medplum/core``'s validator, behind ``server.cjs`` on loopback.

The npm packages are installed once, at pinned versions (:data:`MEDPLUM_FOR_NODE`), into a
cache folder ignored by git (``test-artifacts/node/``), the way the accessibility tests install
axe-core; Debian's ``npm`` package brings npm and node. Outside CI a missing npm or node skips
these tests with a message; in CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.fhir_adapter.medplum.peer import MedplumPeer
from tests.support.npm import npm_install

# Pinned, by the Node that runs them: Medplum 4.5.2 needs Node 20.19 or newer (5.x needs 22);
# 3.2.24 is the last release for Node 18 (Debian 12's own nodejs). RADQC_TEST_MEDPLUM_VERSION
# picks another release.
MEDPLUM_FOR_NODE = (((20, 19), "4.5.2"), ((18, 0), "3.2.24"))
PACKAGES = ("core", "definitions", "fhir-router")
SERVER_SCRIPT = Path(__file__).with_name("server.cjs")
START_SECONDS = 60.0


def _node() -> tuple[str, tuple[int, int]]:
    """The ``node`` executable and its (major, minor) version."""
    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError("node not found (apt-get install npm brings it)")
    found = subprocess.run([node, "--version"], check=True, capture_output=True, timeout=30)
    major, minor, *_ = found.stdout.decode().strip().lstrip("v").split(".")
    return node, (int(major), int(minor))


def medplum_version(node_version: tuple[int, int]) -> str:
    pinned = os.environ.get("RADQC_TEST_MEDPLUM_VERSION")
    if pinned:
        return pinned
    for oldest, version in MEDPLUM_FOR_NODE:
        if node_version >= oldest:
            return version
    raise FileNotFoundError(f"Node {node_version[0]}.{node_version[1]} is too old for Medplum")


def _install_medplum(version: str) -> Path:
    """The ``node_modules`` folder holding the pinned Medplum packages, installed with npm on
    first use into ``test-artifacts/node/medplum-<version>``."""
    return npm_install("medplum", version, [f"@medplum/{name}" for name in PACKAGES])


def _start(node: str, modules: Path) -> tuple[subprocess.Popen[bytes], int]:
    process = subprocess.Popen(
        [node, str(SERVER_SCRIPT)],
        env={**os.environ, "NODE_PATH": str(modules), "PORT": "0"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], START_SECONDS)
    line = process.stdout.readline() if ready else b""
    if not line:
        process.kill()
        _, err = process.communicate(timeout=10)
        raise RuntimeError(f"the Medplum server did not start: {err.decode(errors='replace')}")
    return process, int(json.loads(line)["port"])


@pytest.fixture(scope="session")
def medplum_server() -> Iterator[MedplumPeer]:
    try:
        node, node_version = _node()
        modules = _install_medplum(medplum_version(node_version))
        process, port = _start(node, modules)
    except (OSError, subprocess.SubprocessError, RuntimeError) as exc:
        problem = f"Medplum's FHIR engine could not be installed or started: {exc}"
        if IN_CI:
            pytest.fail(problem + " (CI must test write-back against Medplum)")
        pytest.skip(problem)
    peer = MedplumPeer(f"http://127.0.0.1:{port}")
    try:
        yield peer
    finally:
        peer.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def medplum(medplum_server: MedplumPeer) -> MedplumPeer:
    """The Medplum server, emptied, accepting unresolvable references (a test may switch)."""
    medplum_server.reset(references="accept")
    return medplum_server
