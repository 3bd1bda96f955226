"""The same claim measurement with procrastinate, a well-kept PostgreSQL job queue.

procrastinate is not a radqc dependency (it needs PostgreSQL; radqc's embedded default is
SQLite), so this runs from a virtual environment of its own:

    python3 -m venv /tmp/procvenv && /tmp/procvenv/bin/pip install procrastinate==3.10.0
    /tmp/procvenv/bin/python bench/queue/procrastinate_compare.py --jobs 20000 --workers 8

On a scratch database: procrastinate's schema, ``--jobs`` jobs of a task that only records its
argument, deferred in batches; ``--workers`` processes each run ``app.run_worker(wait=False)``
(concurrency 1, polling, jobs kept) until the queue is empty. Measured as in ``run.py``: jobs/s
from the start signal to the last ``succeeded`` event, every job run once (the arguments the
workers saw, and the jobs table), CPU per job of the workers and of PostgreSQL's processes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg
from procrastinate import App, PsycopgConnector  # type: ignore[import-not-found,unused-ignore]

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.load.procstats import Monitor, loadavg

ADMIN = os.environ.get("RADQC_PG_CONNINFO", "postgresql://postgres@127.0.0.1:5432/test")
SEEN: list[int] = []


def make_app(conninfo: str) -> Any:
    app = App(connector=PsycopgConnector(conninfo=conninfo))

    @app.task(name="noop", queue="bench")  # type: ignore[untyped-decorator,misc,unused-ignore]
    def noop(i: int) -> None:
        SEEN.append(i)

    return app


def worker(conninfo: str, ready: Any, go: Any, out: str) -> None:
    app = make_app(conninfo)
    with app.open():
        ready.release()
        go.wait()
        app.run_worker(
            queues=["bench"], wait=False, concurrency=1, delete_jobs="never",
            install_signal_handlers=False,
        )  # fmt: skip
    Path(out).write_text(json.dumps(SEEN))


def defer(conninfo: str, jobs: int) -> None:
    app = make_app(conninfo)
    with app.open():
        app.schema_manager.apply_schema()
        task = app.tasks["noop"]
        for start in range(0, jobs, 1000):
            task.batch_defer(*({"i": i} for i in range(start, min(jobs, start + 1000))))


def backends(conninfo: str) -> list[int]:
    with psycopg.connect(conninfo, application_name="radqc-load-driver") as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name <> 'radqc-load-driver'"
        ).fetchall()
    return [int(pid) for (pid,) in rows]


def run(args: argparse.Namespace, conninfo: str, folder: Path) -> dict[str, Any]:
    defer(conninfo, args.jobs)
    ctx = mp.get_context("spawn")
    ready, go = ctx.Semaphore(0), ctx.Event()
    outs = [str(folder / f"w{i}.json") for i in range(args.workers)]
    procs = [ctx.Process(target=worker, args=(conninfo, ready, go, o)) for o in outs]
    monitor = Monitor()
    for proc in procs:
        proc.start()
        monitor.watch(proc.pid or 0, "worker", f"w{proc.pid}")
    for _ in procs:
        ready.acquire()
    time.sleep(1.0)
    for pid in backends(conninfo):
        monitor.watch(pid, "postgres", f"pg{pid}", with_children=False)
    monitor.sample_now()
    before, load_before = monitor.cpu_by_role(), loadavg()
    monitor.start()
    started = time.time()
    go.set()
    while any(p.is_alive() for p in procs):
        for pid in backends(conninfo):
            monitor.watch(pid, "postgres", f"pg{pid}", with_children=False)
        time.sleep(0.5)
    monitor.stop()
    after = monitor.cpu_by_role()
    seen = [i for o in outs for i in json.loads(Path(o).read_text())]
    with psycopg.connect(conninfo) as conn:
        states = conn.execute(
            "SELECT status::text, attempts, count(*) FROM procrastinate_jobs GROUP BY 1, 2"
        ).fetchall()
        last = conn.execute(
            "SELECT extract(epoch FROM max(at)) FROM procrastinate_events WHERE type = 'succeeded'"
        ).fetchone()
    elapsed = float(last[0]) - started if last and last[0] else float("nan")
    return {
        "jobs_per_second": args.jobs / elapsed,
        "seconds": elapsed,
        "ran": len(seen),
        "ran_twice": sum(1 for n in Counter(seen).values() if n > 1),
        "distinct": len(set(seen)),
        "db_states": {f"{s}/attempts={a}": n for s, a, n in states},
        "cpu_ms_per_job": {r: 1000 * (after[r] - before.get(r, 0)) / args.jobs for r in after},
        "load": f"{load_before} -> {loadavg()}",
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--jobs", type=int, default=20000)
    p.add_argument("--workers", type=int, default=8)
    args = p.parse_args()
    name = f"radqc_procq_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    conninfo = ADMIN.rsplit("/", 1)[0] + "/" + name
    try:
        with tempfile.TemporaryDirectory() as tmp:
            result = run(args, conninfo, Path(tmp))
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    print(
        f"procrastinate 3.10 on PostgreSQL: {args.jobs} jobs, {args.workers} worker processes, "
        f"empty task; {os.cpu_count()} cores; load average {result['load']}"
    )
    print(
        f"  {result['jobs_per_second']:.0f} jobs/s ({args.jobs} jobs in {result['seconds']:.1f} s)"
    )
    cpu = ", ".join(f"{r} {ms:.2f}" for r, ms in sorted(result["cpu_ms_per_job"].items()))
    print(f"  CPU ms per job: {cpu}")
    print(
        f"  ran twice: {result['ran_twice']}; ran {result['ran']}, distinct {result['distinct']}; "
        f"database: {result['db_states']}"
    )
    return 0 if result["ran"] == result["distinct"] == args.jobs else 1


if __name__ == "__main__":
    sys.exit(main())
