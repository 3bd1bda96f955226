"""The PACS for the results tests: DCMTK's storescp, a real DICOM peer, storing what it receives
in a folder; and the validators (dciodvfy from dicom3tools, dsrdump from DCMTK)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.servers import free_port
from tests.support.tools import debian_tool

PACS_AE = "TESTPACS"


@dataclass(frozen=True)
class Pacs:
    port: int
    folder: Path

    def received(self) -> list[Path]:
        return sorted(path for path in self.folder.iterdir() if path.is_file())


def start_pacs(folder: Path, port: int) -> subprocess.Popen[bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, TCP_NODELAY="1")  # ../shared/NOTES.md: DCMTK receivers stall without
    process = subprocess.Popen(
        [debian_tool("storescp", "dcmtk"), "-aet", PACS_AE, "-od", str(folder), str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    echo = [debian_tool("echoscu", "dcmtk"), "-aec", PACS_AE, "127.0.0.1", str(port)]
    deadline = time.monotonic() + 10
    while subprocess.run(echo, capture_output=True, check=False).returncode != 0:
        assert process.poll() is None, "storescp did not start"
        assert time.monotonic() < deadline, "storescp did not answer"
        time.sleep(0.1)
    return process


@pytest.fixture
def pacs(tmp_path: Path) -> Iterator[Pacs]:
    port = free_port()
    process = start_pacs(tmp_path / "pacs", port)
    try:
        yield Pacs(port, tmp_path / "pacs")
    finally:
        process.terminate()
        process.wait(timeout=10)


def dciodvfy(path: Path) -> list[str]:
    """dicom3tools' IOD check of ``path``: its error lines (warnings are not errors)."""
    done = subprocess.run(
        [debian_tool("dciodvfy", "dicom3tools"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    lines = (done.stdout + done.stderr).splitlines()
    return [line for line in lines if line.startswith("Error")]


def dsrdump(path: Path) -> str:
    done = subprocess.run(
        [debian_tool("dsrdump", "dcmtk"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout
