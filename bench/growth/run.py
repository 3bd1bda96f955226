"""The dashboards' queries on a year of data (issue 13, part 2).

1. A PostgreSQL database ``--database`` (default ``radqc_growth``) is created, migrated to 0006
   (the schema before this benchmark's indexes; head when ``--phases`` has no ``before``) and
   filled by :mod:`bench.growth.generate`
   (``--items`` items; ``--reuse``: keep what an earlier ``--keep`` run left there).
2. For each phase, ``before`` (schema 0006) and ``after`` (head: migration 0007's indexes), the
   schema is moved there (the upgrade's time on this data is printed: it is what a hospital's
   ``radqc migrate`` costs), the tables ANALYZEd, radqc's API started in its own process
   (:mod:`bench.growth.server`, uvicorn) and every query of :mod:`bench.growth.queries` timed
   over HTTP on loopback (2 untimed calls, then ``--calls`` timed ones, one at a time), then each
   query's statements ``EXPLAIN (ANALYZE, BUFFERS)``ed (all plans in ``--out``).
3. A table: p50/p95 per query per phase, and whether p95 <= 100 ms.

Usage: ``.venv/bin/python -m bench.growth.run [--items 1000000] [--keep] [--reuse]``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.growth.generate import Plan, counts_line, generate
from bench.growth.measure import explain, time_query
from bench.growth.queries import all_queries, draw_samples
from bench.growth.server import Api
from bench.load.procstats import loadavg
from bench.load.stack import PG_ADMIN_URL, postgres_reachable
from service.migrate import downgrade, upgrade

BEFORE = "0006"
TARGET_MS = 100.0


def _admin() -> Any:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def database_url(name: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _exists(name: str) -> bool:
    engine = _admin()
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        result = found.first() is not None
    engine.dispose()
    return result


def drop(name: str) -> None:
    engine = _admin()
    with engine.connect() as conn:
        conn.execute(
            text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
            {"n": name},
        )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


def create(name: str) -> None:
    """An empty database ``name`` (no schema)."""
    engine = _admin()
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """The filled database: generated now, or reused."""
    url = database_url(args.database)
    if args.reuse and _exists(args.database):
        print(f"reusing database {args.database}")
        return {"reused": True}
    drop(args.database)
    create(args.database)
    # Generated at the first phase's schema: with ``--phases after`` at head, where the generator
    # fills ``observations.effective_at`` itself (no backfill by migration 0008 to wait for).
    upgrade(url, BEFORE if "before" in args.phases.split(",") else "head")
    print(f"generating {args.items:,} items into {args.database} (load average {loadavg()})")
    plan = Plan(items=args.items, chunk=min(args.chunk, args.items), days=args.days)
    result = generate(url, plan, progress=print)
    print(
        f"generated in {result['seconds_total']:.0f} s (rows {result['seconds_load']:.0f} s, "
        f"of which COPY {result['seconds_copy']:.0f} s; indexes {result['seconds_indexes']:.0f} s);"
        f" load average {loadavg()}"
    )
    print("  " + counts_line(sorted(result["rows"].items())))
    return result


def move_schema(url: str, phase: str) -> float:
    """Bring the schema to the phase's revision; returns the seconds it took."""
    engine = create_engine(url)
    with engine.connect() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    started = time.perf_counter()
    if phase == "before" and current != BEFORE:
        downgrade(url, BEFORE)
    elif phase == "after":
        upgrade(url, "head")
    seconds = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    return seconds


def measure_phase(args: argparse.Namespace, phase: str, folder: Path) -> dict[str, Any]:
    url = database_url(args.database)
    seconds = move_schema(url, phase)
    print(f"\n== {phase}: schema {'0006' if phase == 'before' else 'head'} "
          f"({seconds:.1f} s to get there); load average {loadavg()}")  # fmt: skip
    engine = create_engine(url)
    samples = draw_samples(engine, args.csv_rows)
    api = Api(url, folder / phase)
    results: dict[str, Any] = {"migration_seconds": seconds, "queries": {}, "plans": {}}
    chosen = [q for q in all_queries(args.csv_rows) if not args.only or args.only in q.name]
    api.start()
    try:
        for query in chosen:
            timing = time_query(api, query, samples, query.calls or args.calls, args.budget)
            results["queries"][query.name] = {
                "p50_ms": timing.p50_ms, "p95_ms": timing.p95_ms, "n": len(timing.times),
                "rows": timing.rows,
            }  # fmt: skip
            extra = f" ({timing.rows - 1:,} CSV rows)" if timing.rows else ""
            print(f"  {query.name:<42} p50 {timing.p50_ms:8.1f} ms  p95 {timing.p95_ms:8.1f} ms"
                  f"  n={len(timing.times)}{extra}", flush=True)  # fmt: skip
    finally:
        api.stop()
    for query in chosen:
        try:
            plans = explain(engine, query, samples)
        except Exception as exc:  # a plan is for reading; the timings stand without it
            print(f"  (no plan for {query.name}: {type(exc).__name__}: {exc})")
            continue
        results["plans"][query.name] = [
            {"statement": p.statement, "plan": p.plan, "ms": p.execution_ms} for p in plans
        ]
    engine.dispose()
    results["load"] = loadavg()
    return results


def print_table(results: dict[str, Any]) -> None:
    phases = [p for p in ("before", "after") if p in results]
    names = list(next(iter(results[p]["queries"] for p in phases)))
    head = "".join(f" {p + ' p50':>12} {p + ' p95':>12}" for p in phases)
    print(f"\n{'query (ms)':<42}{head}  p95 <= {TARGET_MS:.0f} ms")
    for name in names:
        cells, last = "", None
        for phase in phases:
            row = results[phase]["queries"].get(name)
            if row is None:
                cells += f" {'-':>12} {'-':>12}"
                continue
            cells += f" {row['p50_ms']:12.1f} {row['p95_ms']:12.1f}"
            last = row["p95_ms"]
        verdict = "" if last is None else ("yes" if last <= TARGET_MS else "NO")
        print(f"{name:<42}{cells}  {verdict}")


def write_plans(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for phase in ("before", "after"):
        if phase not in results:
            continue
        with (out / f"plans-{phase}.txt").open("w") as handle:
            for name, plans in results[phase]["plans"].items():
                for index, explained in enumerate(plans):
                    handle.write(f"### {name} [{index}] {explained['ms']:.1f} ms\n")
                    handle.write(explained["statement"] + "\n")
                    handle.write("\n".join(explained["plan"]) + "\n\n")
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--items", type=int, default=1_000_000)
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--chunk", type=int, default=20_000, help="items per COPY transaction")
    p.add_argument("--database", default="radqc_growth")
    p.add_argument("--reuse", action="store_true", help="use the database if it exists")
    p.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    p.add_argument("--phases", default="before,after")
    p.add_argument("--calls", type=int, default=20, help="timed calls per query")
    p.add_argument("--csv-rows", type=int, default=100_000)
    p.add_argument(
        "--budget",
        type=float,
        default=60.0,
        help="seconds of timed calls after which a slow query stops (n says how many)",
    )
    p.add_argument("--only", default="", help="only the queries whose name contains this")
    p.add_argument("--out", type=Path, help="plans and results.json (default: a temp folder)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not postgres_reachable():
        print("PostgreSQL is not reachable (RADQC_TEST_POSTGRES_URL)")
        return 2
    out = args.out or Path(tempfile.mkdtemp(prefix="radqc-growth-"))
    print(f"radqc growth benchmark; {os.cpu_count()} cores; load average {loadavg()}")
    results: dict[str, Any] = {"generation": prepare(args)}
    try:
        with tempfile.TemporaryDirectory(prefix="radqc-growth-api-") as tmp:
            for phase in args.phases.split(","):
                results[phase] = measure_phase(args, phase, Path(tmp))
    finally:
        if not args.keep:
            drop(args.database)
    print_table(results)
    write_plans(results, out)
    print(f"\nplans and results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
