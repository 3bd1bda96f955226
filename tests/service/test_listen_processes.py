"""``radqc listen`` with RADQC_DICOM_LISTENER_PROCESSES=2: two processes accept on one port
(SO_REUSEPORT), associations land in both, every file is stored once, and SIGTERM to the parent
stops the other process too."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from service.db import Database
from service.models import Instance, Job
from tests.conftest import REPO
from tests.dicom_listener.conftest import pynetdicom_store
from tests.dicom_listener.samples import copy_with_new_uids
from tests.support.servers import free_port

SOURCE = "txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
ASSOCIATIONS = 16  # all landing in one of two processes by chance: 2 in 65536
_LISTENING = re.compile(r"\[(\d+) [^\]]*\] dicom_listener\.server: Storage SCP .* listening")
_ACCEPTED = re.compile(r"\[(\d+) [^\]]*\] dicom_listener\.handlers: association accepted")


def _pids(pattern: re.Pattern[str], log: Path) -> set[int]:
    return {int(match) for match in pattern.findall(log.read_text(errors="replace"))}


def _wait_for(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_two_listener_processes_share_the_port_and_stop_together(
    tmp_path: Path, database_url: str, shared_data: Path
) -> None:
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "RADQC_DATA_DIR": str(tmp_path / "data"),
            "RADQC_DATABASE_URL": database_url,
            "RADQC_DICOM_PORT": str(port),
            "RADQC_DICOM_LISTENER_PROCESSES": "2",
            "RADQC_API_TOKENS": "admin:admin-token-01234567890",
        }
    )
    env.pop("RADQC_SUPERVISOR_PID", None)
    files = [
        copy_with_new_uids(shared_data / "cxr" / SOURCE, tmp_path / f"{index}.dcm")
        for index in range(ASSOCIATIONS)
    ]
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
        _wait_for(lambda: len(_pids(_LISTENING, log)) == 2, "two listening processes")
        listeners = _pids(_LISTENING, log)
        assert proc.pid in listeners

        with ThreadPoolExecutor(max_workers=4) as pool:  # one file per association
            statuses = list(pool.map(lambda path: pynetdicom_store(port, [path]), files))

        assert statuses == [[0x0000]] * ASSOCIATIONS
        assert _pids(_ACCEPTED, log) == listeners, "both processes served associations"
        db = Database(database_url)
        try:
            with db.reader() as session:
                assert session.scalar(select(func.count(Instance.id))) == ASSOCIATIONS
                assert session.scalar(select(func.count(Job.id)).where(Job.kind == "qc")) == (
                    ASSOCIATIONS
                )
        finally:
            db.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, log.read_text(errors="replace")[-3000:]
    (child,) = listeners - {proc.pid}
    _wait_for(lambda: not _alive(child), "the second listener process to stop", timeout=15)
