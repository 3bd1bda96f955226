"""What one claim costs as the jobs table grows: ``--queued`` due jobs and ``--done`` finished
ones, one process, no contention; each claim as a worker makes it (``dead_letter_abandoned``
and ``claim`` in one transaction, then ``complete`` in another), timed over ``--claims`` claims,
plus ``EXPLAIN (ANALYZE, BUFFERS)`` of the claim statement.

Usage: ``.venv/bin/python -m bench.queue.claim_cost --queued 1000,20000,100000 --done 1000000``.
To time the code before a change, put that code first on the path (``PYTHONPATH=<old tree>``):
the scratch database is migrated by the ``service`` package that is imported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bench.load.procstats import loadavg
from bench.load.stack import postgres_reachable, scratch_database
from service import queue
from service.db import Database
from service.migrate import upgrade


def seed(db: Database, queued: int, done: int) -> None:
    with db.transaction() as session:
        session.execute(text("DELETE FROM jobs"))
        session.execute(
            text(
                "INSERT INTO jobs (kind, key, status, attempts, rerun, run_at, created_at,"
                " updated_at) SELECT 'qc', 'k' || g, CASE WHEN g <= :done THEN 'done'"
                " ELSE 'queued' END, 0, false, now() - g * interval '1 millisecond', now(), now()"
                " FROM generate_series(1, :n) g"
            ),
            {"done": done, "n": done + queued},
        )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE jobs"))


def explain_claim(db: Database) -> list[str]:
    plan: list[str] = []

    def capture(conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE JOBS") and not plan:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan.extend(str(row[0]) for row in rows)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.engine.connect() as conn, Session(bind=conn) as session:
            queue.claim(session, "explain", 30)  # rolled back: nothing is claimed
            session.rollback()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    return plan


def time_claims(db: Database, claims: int) -> list[float]:
    times = []
    for _ in range(claims):
        started = time.perf_counter()
        with db.transaction() as session:
            queue.dead_letter_abandoned(session)
            job = queue.claim(session, "bench", 30)
        assert job is not None
        with db.transaction() as session:
            queue.complete(session, job)
        times.append(time.perf_counter() - started)
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--queued", default="1000,20000,100000")
    p.add_argument("--done", type=int, default=1_000_000)
    p.add_argument("--claims", type=int, default=300)
    args = p.parse_args(argv)
    if not postgres_reachable():
        print("PostgreSQL is not reachable (RADQC_TEST_POSTGRES_URL)")
        return 2
    print(f"claim cost, {queue.__file__}; load average {loadavg()}")
    with (
        tempfile.TemporaryDirectory() as tmp,
        scratch_database("postgres", Path(tmp)) as url,
    ):
        upgrade(url)
        db = Database(url)
        try:
            for queued in (int(n) for n in args.queued.split(",")):
                seed(db, queued, args.done)
                plan = explain_claim(db)
                times = time_claims(db, args.claims)
                ms = sorted(1000 * t for t in times)
                print(
                    f"  {queued:>7} queued + {args.done:>8} done: claim+complete p50 "
                    f"{statistics.median(ms):6.2f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:6.2f} ms;"
                    f" claim statement {plan[-1].split(':', 1)[1].strip()}"
                )
                for line in plan[:26]:
                    print("      " + line)
        finally:
            db.dispose()
    print(f"load average after: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
