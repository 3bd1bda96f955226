"""Database access: one engine per process, one transaction per unit of work.

SQLite (the embedded default) runs in WAL mode with ``synchronous=FULL`` so that a commit is on
disk before radqc acknowledges anything, and every transaction starts with ``BEGIN IMMEDIATE`` so
that concurrent writers (listener threads, API, worker processes) queue on the busy timeout
instead of failing on a lock upgrade. PostgreSQL is used as it is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.errors import RadqcError

SQLITE_BUSY_TIMEOUT_MS = 30_000
_READ_ONLY = "radqc_read_only"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


class Database:
    """The process's database engine and session factory, created once at start-up."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        # hide_parameters: a failed statement's error message, and the SQL echo, show where the
        # values were but not the values (patient data must not reach a log).
        kwargs: dict[str, Any] = {"echo": echo, "future": True, "hide_parameters": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs.update(
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
                connect_args={"connect_timeout": 5},
            )
        self.engine = create_engine(url, **kwargs)
        if self.dialect == "sqlite":
            _configure_sqlite(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed when the block ends, rolled back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads only; on SQLite it does not take the write lock."""
        with self._sessions() as session:
            session.connection(execution_options={_READ_ONLY: True})
            yield session  # closing ends the read transaction; loaded objects stay usable

    def ping(self) -> bool:
        try:
            with self._sessions() as session:
                session.execute(text("SELECT 1"))
                session.rollback()
        except OperationalError:
            return False
        return True

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        """Wait for the database to answer (a container may start before PostgreSQL)."""
        deadline = time.monotonic() + timeout
        while not self.ping():
            if time.monotonic() > deadline:
                raise RadqcError(f"database not reachable after {timeout:.0f} s")
            time.sleep(0.5)

    def dispose(self) -> None:
        self.engine.dispose()
