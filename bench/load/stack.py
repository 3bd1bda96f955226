"""radqc as deployed for scale-out, on this machine: ``radqc listen`` (several listener
processes on one port), ``radqc api`` and N ``radqc worker`` processes, each a separate process
started with the same settings (environment variables only, in a folder of its own), on a
scratch database that is dropped afterwards.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from sqlalchemy import Engine, create_engine, text

from bench.load.procstats import Monitor

PG_ADMIN_URL = os.environ.get(
    "RADQC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


DRIVER_APP = "radqc-load-driver"  # application_name of the driver's own connections


def driver_engine(url: str) -> Engine:
    """An engine for the driver's own queries, told apart from radqc's on PostgreSQL."""
    if url.startswith("postgresql"):
        return create_engine(url, connect_args={"application_name": DRIVER_APP})
    return create_engine(url)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_reachable(admin_url: str = PG_ADMIN_URL) -> bool:
    engine = create_engine(admin_url, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:
        return False
    finally:
        engine.dispose()
    return True


@contextmanager
def scratch_database(backend: str, folder: Path, admin_url: str = PG_ADMIN_URL) -> Iterator[str]:
    """A new, empty database for one stack: a PostgreSQL database ``radqc_load_<random>``
    (dropped afterwards) or an SQLite file in ``folder``."""
    if backend == "sqlite":
        folder.mkdir(parents=True, exist_ok=True)
        yield f"sqlite:///{(folder / 'radqc.sqlite3').resolve()}"
        return
    name = f"radqc_load_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@dataclass
class Stack:
    """The service's processes; every one of them is watched by ``monitor``."""

    database_url: str
    folder: Path
    listener_processes: int = 2
    monitor: Monitor = field(default_factory=Monitor)
    http_port: int = field(default_factory=free_port)
    dicom_port: int = field(default_factory=free_port)
    ingest_token: str = field(default_factory=lambda: "ingest-" + secrets.token_hex(12))
    reader_token: str = field(default_factory=lambda: "reader-" + secrets.token_hex(12))
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _logs: list[IO[bytes]] = field(default_factory=list)
    _engine: Engine | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RADQC_")}
        env.update(
            RADQC_DATA_DIR=str(self.folder / "data"),
            RADQC_DATABASE_URL=self.database_url,
            RADQC_HTTP_PORT=str(self.http_port),
            RADQC_DICOM_PORT=str(self.dicom_port),
            RADQC_DICOM_LISTENER_PROCESSES=str(self.listener_processes),
            RADQC_API_TOKENS=f"ingest:{self.ingest_token},reader:{self.reader_token}",
        )
        return env

    def _command(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "service.cli", *args]

    def migrate(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            self._command("migrate"), env=self.env(), cwd=self.folder, check=True,
            capture_output=True,
        )  # fmt: skip

    def spawn(self, name: str, role: str, *args: str) -> None:
        log = (self.folder / f"{name}.log").open("ab")
        self._logs.append(log)
        proc = subprocess.Popen(
            self._command(*args), env=self.env(), cwd=self.folder, stdout=log, stderr=log
        )
        self.procs[name] = proc
        self.monitor.watch(proc.pid, role, name)

    def start(self, timeout: float = 60.0, *, listener: bool = True) -> None:
        """Migrate, start the listener (unless told not to) and the API, and wait until they
        answer."""
        self.migrate()
        self.monitor.start()
        if listener:
            self.spawn("listen", "listener", "listen")
        self.spawn("api", "api", "api")
        self._wait_ready(timeout)

    def start_workers(self, count: int) -> None:
        for index in range(count):
            self.spawn(f"worker{index + 1}", "worker", "worker")

    def watch_database(self) -> None:
        """Count the PostgreSQL server processes serving this stack (not the driver's own
        connections) as the role ``postgres``: the database's CPU is part of the cost."""
        if not self.database_url.startswith("postgresql"):
            return
        if self._engine is None:
            self._engine = driver_engine(self.database_url)
        query = text(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name <> :me"
        )
        with self._engine.connect() as conn:
            pids = conn.execute(query, {"me": DRIVER_APP}).scalars().all()
        for pid in pids:
            self.monitor.watch(pid, "postgres", f"pg{pid}", with_children=False)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(f"radqc {name} exited with {proc.returncode}: see its log")
            if self._api_ready() and self._listeners_ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"radqc did not start within {timeout:.0f} s")

    def _api_ready(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def _listeners_ready(self) -> bool:
        """Every listener process has logged that it listens (or none was started)."""
        if "listen" not in self.procs:
            return True
        log = (self.folder / "listen.log").read_text(errors="replace")
        return log.count("DICOM listener ") >= self.listener_processes

    def stop(self, names: list[str] | None = None, timeout: float = 60.0) -> None:
        """SIGTERM the named processes (all by default) and wait; kill what does not stop."""
        chosen = {n: p for n, p in self.procs.items() if names is None or n in names}
        self.monitor.sample_now()  # their CPU time, before they exit
        for proc in chosen.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in chosen.values():
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for name in chosen:
            del self.procs[name]

    def close(self) -> None:
        self.stop()
        self.monitor.stop()
        if self._engine is not None:
            self._engine.dispose()
        for log in self._logs:
            log.close()

    def log_problems(self) -> dict[str, int]:
        """ERROR lines and tracebacks in each process's log."""
        counts = {}
        for path in sorted(self.folder.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            bad = sum(1 for x in lines if " ERROR " in x or " CRITICAL " in x or "Traceback" in x)
            if bad:
                counts[path.stem] = bad
        return counts
