"""Shared fixtures: real SQLite and real PostgreSQL databases, settings, the shared test data.

Every test that takes ``database_url`` (or ``db``/``settings``) runs twice: on SQLite and on the
PostgreSQL server at ``RADQC_TEST_POSTGRES_URL`` (default 127.0.0.1:5432, database ``test``).
Outside CI a missing server skips the PostgreSQL half with a message; in CI (``CI=true``) it fails.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from service.config import Settings
from service.db import Database
from service.migrate import upgrade
from service.tables import metadata
from tests.support import log_canaries

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("RADQC_SHARED_DIR", REPO.parent / "shared"))
DATA = SHARED / "data"
PG_ADMIN_URL = os.environ.get(
    "RADQC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_reachable() -> str | None:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        return str(exc.orig).strip().splitlines()[0]
    finally:
        engine.dispose()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated to head, dropped afterwards."""
    problem = _pg_reachable()
    if problem is not None:
        message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {problem}"
        if IN_CI:
            pytest.fail(message + " (CI must test PostgreSQL)")
        pytest.skip(message + " (set RADQC_TEST_POSTGRES_URL or start the server)")
    name = f"radqc_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    yield url
    with admin.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file migrated to head once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "radqc.sqlite3"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate(url: str) -> None:
    engine = create_engine(url)
    tables = ", ".join(t.name for t in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        data_dir = tmp_path / "data"
        data_dir.mkdir(exist_ok=True)
        target = data_dir / "radqc.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        api_tokens={
            "ingest-token-0123456789": "ingest",
            "reader-token-0123456789": "reader",
            "auditor-token-0123456789": "auditor",
            "admin-token-01234567890": "admin",
        },
        study_stable_seconds=0.5,
        job_lease_seconds=5,
        job_backoff_base_seconds=0.05,
        job_backoff_max_seconds=0.5,
        worker_poll_seconds=0.05,
    )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.fail(f"the shared test data is missing: {DATA} (set RADQC_SHARED_DIR)")
    return DATA


# -- patient data in logs (issue 10) -------------------------------------------------------------
_LEAKS: log_canaries.LeakHandler | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _LEAKS
    _LEAKS = log_canaries.install()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any log record of any test held a patient-data canary."""
    if _LEAKS is not None and _LEAKS.leaks:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n  ".join(sorted(set(_LEAKS.leaks)))
        message = f"patient-data canaries found in log records:\n  {lines}"
        if reporter is not None:
            reporter.write_line(message, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def log_leaks() -> log_canaries.LeakHandler:
    """The session's leak handler (its ``leaks`` so far)."""
    assert _LEAKS is not None
    return _LEAKS
