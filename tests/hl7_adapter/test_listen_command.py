"""``radqc listen`` with RADQC_HL7_PORT set also runs the MLLP listener (a supervised process of
its own): a report sent to it is stored, and SIGTERM to ``radqc listen`` stops it too."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from hl7.client import MLLPClient

from service.db import Database
from tests.conftest import REPO
from tests.hl7_adapter.conftest import Running, ack_code, parse_ack
from tests.hl7_adapter.messages import Oru
from tests.support.servers import free_port

_HL7_UP = re.compile(r"\[(\d+) [^\]]*\] hl7_adapter\.listener: MLLP listener on")
_DICOM_UP = re.compile(r"dicom_listener\.server: Storage SCP .* listening")


def _wait_for(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


def test_listen_runs_the_mllp_listener_when_its_port_is_set(
    tmp_path: Path, database_url: str
) -> None:
    hl7_port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "RADQC_DATA_DIR": str(tmp_path / "data"),
            "RADQC_DATABASE_URL": database_url,
            "RADQC_DICOM_PORT": str(free_port()),
            "RADQC_HL7_PORT": str(hl7_port),
            "RADQC_API_TOKENS": "admin:admin-token-01234567890",
        }
    )
    env.pop("RADQC_SUPERVISOR_PID", None)
    log = tmp_path / "listen.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "listen"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        text = lambda: log.read_text(errors="replace")  # noqa: E731
        _wait_for(lambda: _HL7_UP.search(text()) and _DICOM_UP.search(text()), "both listeners")
        match = _HL7_UP.search(text())
        assert match is not None
        assert int(match.group(1)) != proc.pid  # a process of its own
        message = Oru(["FINDINGS: Clear lungs.", "IMPRESSION: Normal."]).text()
        with MLLPClient("127.0.0.1", hl7_port) as client:
            assert ack_code(parse_ack(client.send_message(message))) == "AA"
        db = Database(database_url)
        try:
            assert Running(None, db, None).counts() == (1, 1, 1, 1)  # type: ignore[arg-type]
        finally:
            db.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
    _wait_for(lambda: _refused(hl7_port), "the MLLP listener to stop", timeout=15)
