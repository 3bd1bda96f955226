"""The benchmarks run on PostgreSQL when the server is there (always in CI), else on SQLite."""

from __future__ import annotations

import pytest

from bench.load.stack import postgres_reachable
from tests.conftest import IN_CI, PG_ADMIN_URL


@pytest.fixture(scope="session")
def bench_database() -> str:
    """``postgres`` or ``sqlite``: the backend the benchmark is run on here."""
    if postgres_reachable(PG_ADMIN_URL):
        return "postgres"
    if IN_CI:
        pytest.fail(f"PostgreSQL not reachable at {PG_ADMIN_URL} (CI must test PostgreSQL)")
    return "sqlite"
