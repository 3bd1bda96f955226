"""Schemathesis against radqc's HTTP API for longer than the test suite does (issue 10).

The real app under uvicorn on loopback, on a fresh SQLite file and a fresh PostgreSQL database
(``RADQC_TEST_POSTGRES_URL``, default 127.0.0.1:5432/test; dropped afterwards), seeded with
items in every state. For each database and each role (no token, ingest, reader, auditor,
admin) schemathesis' engine runs its explicit examples, boundary/negative coverage cases,
fuzzing and stateful sequences for the given time. Printed: cases, responses by status class,
server errors (must be 0), schema/content-type check failures, time. Exit status 1 if any 5xx
was seen.

    .venv/bin/python bench/fuzz/rest_api.py [--seconds 60] [--database both|sqlite|postgresql]
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path[0] = str(REPO)  # runnable as a script: the repository, not this folder, comes first

import argparse  # noqa: E402
import logging  # noqa: E402
import tempfile  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from contextlib import contextmanager  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

from service.config import Settings  # noqa: E402
from service.db import Database  # noqa: E402
from service.migrate import upgrade  # noqa: E402
from tests.conftest import DATA, PG_ADMIN_URL  # noqa: E402
from tests.service.api.conftest import make_app, make_components  # noqa: E402
from tests.service.api.fuzz_support import (  # noqa: E402
    ALL_PHASES,
    ROLE_TOKENS,
    FuzzReport,
    fuzz_api,
)
from tests.service.api.support import seed_scenario  # noqa: E402
from tests.support.servers import serve_app  # noqa: E402


@contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database migrated to head: an SQLite file, or a PostgreSQL database dropped
    afterwards."""
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'radqc.sqlite3'}"
        upgrade(url)
        yield url
        return
    name = f"radqc_fuzz_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def run(kind: str, seconds: int, roles: list[str]) -> FuzzReport:
    total = FuzzReport()
    with tempfile.TemporaryDirectory() as tmp, database(kind, Path(tmp)) as url:
        tokens = {token: role for role, token in ROLE_TOKENS.items() if token}
        settings = Settings(data_dir=Path(tmp), database_url=url, api_tokens=tokens)
        db = Database(url)
        comps = make_components(settings, db)
        logging.disable(logging.ERROR)  # the scenario's scripted engine failure logs a traceback
        seed_scenario(comps, DATA)
        logging.disable(logging.NOTSET)
        with serve_app(make_app(comps)) as base:
            for role in roles:
                report = fuzz_api(
                    f"{base}/openapi.json",
                    ROLE_TOKENS[role],
                    max_examples=50,
                    max_time=seconds,
                    phases=(*ALL_PHASES, "stateful"),  # stateful: chains linked operations
                )
                print(f"{kind:10} {role:8} {report.summary()}", flush=True)
                for line in report.server_errors[:10]:
                    print(f"    server error: {line}")
                for name, count in report.failures.most_common(10):
                    print(f"    check failed {count}x: {name}")
                total.add(report)
        db.dispose()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="per role and database")
    parser.add_argument("--database", choices=("both", "sqlite", "postgresql"), default="both")
    parser.add_argument("--roles", default=",".join(ROLE_TOKENS), help="comma-separated")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    roles = [role.strip() for role in args.roles.split(",") if role.strip()]
    total = FuzzReport()
    for kind in kinds:
        total.add(run(kind, args.seconds, roles))
    print(f"total      {total.summary()}")
    print(f"server errors = {len(total.server_errors)}")
    return 1 if total.server_errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
