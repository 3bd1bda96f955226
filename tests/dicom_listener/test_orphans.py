"""Issue 10: a store that fails or is killed after its file is written, before its row commits,
leaves a file no row references; the next listener start sweeps it (and nothing else). A real
commit failure (a database trigger) and a real SIGKILL of ``radqc listen``, on SQLite and
PostgreSQL."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from pynetdicom import AE
from sqlalchemy import text

from dicom_listener.handlers import OUT_OF_RESOURCES, SUCCESS
from service.config import Settings
from service.db import Database
from service.storage import ORPHAN_GRACE_SECONDS, FileStore
from tests.conftest import REPO
from tests.dicom_listener.conftest import (
    DbState,
    db_state,
    listening,
    part_ten,
    pynetdicom_store,
)
from tests.dicom_listener.samples import copy_with_new_uids
from tests.support.servers import free_port

GOOD = "cxr/txv_siim_1.2.276.0.7230010.3.1.4.8323329.6904.1517875201.850819.dcm"
_LISTENING = re.compile(r"Storage SCP .* listening")


def _stored(files: FileStore) -> set[Path]:
    return set(files.root.glob("??/??/*.dcm"))


def _backdate(path: Path) -> None:
    then = time.time() - ORPHAN_GRACE_SECONDS - 60
    os.utime(path, (then, then))


def _wait_for(condition: object, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


@contextmanager
def _failing_instance_inserts(db: Database) -> Iterator[None]:
    """Every INSERT into instances fails, as a real database error at commit time."""
    if db.dialect == "sqlite":
        create = [
            "CREATE TRIGGER radqc_test_fail BEFORE INSERT ON instances "
            "BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
        ]
        drop = ["DROP TRIGGER radqc_test_fail"]
    else:
        create = [
            "CREATE FUNCTION radqc_test_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'forced failure'; END $$",
            "CREATE TRIGGER radqc_test_fail BEFORE INSERT ON instances "
            "FOR EACH ROW EXECUTE FUNCTION radqc_test_fail()",
        ]
        drop = ["DROP TRIGGER radqc_test_fail ON instances", "DROP FUNCTION radqc_test_fail()"]
    with db.transaction() as session:
        for statement in create:
            session.execute(text(statement))
    try:
        yield
    finally:
        with db.transaction() as session:
            for statement in drop:
                session.execute(text(statement))


def test_a_failed_commit_leaves_a_file_that_the_next_start_sweeps(
    settings: Settings,
    db: Database,
    shared_data: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kept, lost, young = (
        copy_with_new_uids(shared_data / GOOD, tmp_path / f"{name}.dcm")
        for name in ("kept", "lost", "young")
    )
    with listening(settings, db) as running:
        files = running.files
        assert pynetdicom_store(running.port, [kept]) == [SUCCESS]
        (kept_file,) = _stored(files)
        with _failing_instance_inserts(db):
            assert pynetdicom_store(running.port, [lost]) == [OUT_OF_RESOURCES]
            (lost_file,) = _stored(files) - {kept_file}
            assert pynetdicom_store(running.port, [young]) == [OUT_OF_RESOURCES]
            (young_file,) = _stored(files) - {kept_file, lost_file}
    assert db_state(db) == DbState(1, 1, 1)  # the two failed stores left files, not rows
    _backdate(kept_file)
    _backdate(lost_file)  # young_file stays young: its row might be committing right now

    with listening(settings, db) as running:
        _wait_for(lambda: "removed 1 stored file(s)" in caplog.text, "the orphan sweep")
        assert _stored(files) == {kept_file, young_file}
        assert pynetdicom_store(running.port, [lost]) == [SUCCESS]  # the sender's retry
    assert db_state(db) == DbState(2, 2, 2)
    assert _stored(files) == {kept_file, young_file, lost_file}


@contextmanager
def _commits_blocked(database_url: str) -> Iterator[None]:
    """Hold a lock that makes the listener's ingest transaction wait."""
    if database_url.startswith("sqlite"):
        lock = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            lock.rollback()
            lock.close()
    else:
        with psycopg.connect(database_url.replace("+psycopg", "")) as pg:
            pg.execute("LOCK TABLE instances IN ACCESS EXCLUSIVE MODE")
            yield
            pg.rollback()


def _radqc_listen(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.pop("RADQC_SUPERVISOR_PID", None)
    env.update(
        RADQC_DATA_DIR=str(settings.data_dir),
        RADQC_DATABASE_URL=settings.effective_database_url,
        RADQC_DICOM_PORT=str(settings.dicom_port),
        RADQC_API_TOKENS="admin:admin-token-01234567890",
    )
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "service.cli", "listen"],
            env=env,
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_a_listener_killed_before_its_commit_leaves_a_file_that_the_next_start_sweeps(
    settings: Settings, db: Database, shared_data: Path, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"dicom_port": free_port()})
    files = FileStore(settings.dicom_dir)
    image = copy_with_new_uids(shared_data / GOOD, tmp_path / "image.dcm")
    log = tmp_path / "listen.log"
    proc = _radqc_listen(settings, log)
    try:
        _wait_for(lambda: _LISTENING.search(log.read_text(errors="replace")), "radqc listen", 60)
        statuses: list[list[int]] = []
        with _commits_blocked(settings.effective_database_url):
            sender = threading.Thread(
                target=lambda: statuses.append(_store_or_nothing(settings.dicom_port, image))
            )
            sender.start()
            _wait_for(lambda: _stored(files), "the file written before the commit")
            proc.send_signal(signal.SIGKILL)  # killed while its transaction waits for the lock
            proc.wait(timeout=10)
            sender.join(timeout=30)
        assert statuses == [[]], "the sender was told nothing"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (orphan,) = _stored(files)
    assert db_state(db) == DbState(0, 0, 0)
    _backdate(orphan)

    with listening(settings, db) as running:
        _wait_for(lambda: not orphan.exists(), "the orphan sweep")
        assert pynetdicom_store(running.port, [image]) == [SUCCESS]  # the sender's retry
    assert db_state(db) == DbState(1, 1, 1)
    assert _stored(files) == {orphan}


def _store_or_nothing(port: int, path: Path) -> list[int]:
    """The status received, if any: none when the listener died before answering."""
    split = part_ten(path)
    ae = AE(ae_title="PYSCU")
    ae.acse_timeout, ae.dimse_timeout, ae.network_timeout = 2, 30, 30
    ae.add_requested_context(split.sop_class_uid, [split.transfer_syntax])
    assoc = ae.associate("127.0.0.1", port, ae_title="RADQC")
    assert assoc.is_established
    status = assoc.send_c_store(path)
    if assoc.is_established:
        assoc.release()
    return [int(status.Status)] if "Status" in status else []
