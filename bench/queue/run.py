"""Claim throughput of radqc's database queue (``service/queue.py``) with empty handlers.

On a scratch database (PostgreSQL by default), ``--jobs`` jobs are queued at once; ``--workers``
processes (or threads) each run radqc's own :class:`service.worker.Worker` loop (``run_once``:
dead-letter sweep and claim in one transaction, lease heartbeat thread, complete) with a handler
that only records the job id. Measured:

- jobs/s from the start signal to the last completion;
- that no job was claimed twice: the ids recorded by all workers are unique and cover every job,
  and in the database every job is ``done`` after exactly one attempt;
- what the claiming costs the dashboards: ``GET /api/v1/items`` (a ``radqc api`` process on the
  same database, 2,000 items) p50/p95, sequential requests, idle before, during, idle after;
- CPU per job of the workers and of PostgreSQL's server processes.

Usage: ``.venv/bin/python -m bench.queue.run [--jobs 20000] [--workers 8] [--mode threads]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, text

from bench.load.procstats import loadavg
from bench.load.results import percentile
from bench.load.stack import Stack, driver_engine, postgres_reachable, scratch_database
from service.models import Item, Job

KIND = "bench"


def seed(url: str, jobs: int, items: int) -> None:
    """``jobs`` queued jobs of kind ``bench`` and ``items`` done report items to list."""
    engine = driver_engine(url)
    now = dt.datetime.now(dt.UTC)
    item_rows = [
        {
            "kind": "report",
            "status": "done",
            "flagged": i % 3 == 0,
            "report_id": f"q{i}",
            "report_version": 1,
            "received_at": now - dt.timedelta(seconds=i),
            "processed_at": now,
        }
        for i in range(items)
    ]
    job_rows = [
        {"kind": KIND, "key": f"{KIND}:{i}", "status": "queued", "attempts": 0, "rerun": False,
         "run_at": now, "created_at": now, "updated_at": now}
        for i in range(jobs)
    ]  # fmt: skip
    with engine.begin() as conn:
        if item_rows:
            conn.execute(insert(Item), item_rows)
        conn.execute(insert(Job), job_rows)
    engine.dispose()


def work(url: str, name: str, go: Any, out: Path, idle_seconds: float) -> None:
    """One worker: radqc's Worker loop with an empty handler, until the queue stays empty."""
    from service.db import Database
    from service.worker import Worker, WorkerConfig

    db = Database(url)
    claimed: list[int] = []
    done: list[float] = []
    worker = Worker(db, {KIND: lambda job: claimed.append(job.id)}, WorkerConfig(), worker_id=name)
    go.wait()
    last = time.monotonic()
    while time.monotonic() - last < idle_seconds:
        if worker.run_once():
            done.append(time.time())
            last = time.monotonic()
        else:
            time.sleep(0.05)
    db.dispose()
    out.write_text(json.dumps({"claimed": claimed, "done": done}))


def _process_main(url: str, name: str, ready: Any, go: Any, out: str, idle: float) -> None:
    ready.release()
    work(url, name, go, Path(out), idle)


def start_workers(
    args: argparse.Namespace, url: str, folder: Path, on_pid: Callable[[int], None]
) -> tuple[Callable[[], None], Callable[[], None]]:
    """Start the workers, waiting until every one is ready; returns (go, join)."""
    outs = [str(folder / f"worker{i}.json") for i in range(args.workers)]
    if args.mode == "threads":
        go_t = threading.Event()
        threads = [
            threading.Thread(target=work, args=(url, f"t{i}", go_t, Path(o), args.idle_seconds))
            for i, o in enumerate(outs)
        ]
        for thread in threads:
            thread.start()

        def join_threads() -> None:
            for thread in threads:
                thread.join()

        return go_t.set, join_threads
    ctx = mp.get_context("spawn")
    ready, go_p = ctx.Semaphore(0), ctx.Event()
    procs = [
        ctx.Process(target=_process_main, args=(url, f"p{i}", ready, go_p, o, args.idle_seconds))
        for i, o in enumerate(outs)
    ]
    for proc in procs:
        proc.start()
        on_pid(proc.pid or 0)
    for _ in procs:
        ready.acquire()
    time.sleep(1.0)  # let every process reach go.wait() after signalling

    def join_processes() -> None:
        for proc in procs:
            proc.join()

    return go_p.set, join_processes


def api_latencies(
    stack: Stack, stop: threading.Event | None, count: int, rate: float
) -> list[float]:
    """``GET /api/v1/items?limit=50``, one at a time, ``rate`` a second (a dashboard, not a
    flood): ``count`` of them, or until ``stop``."""
    headers = {"Authorization": f"Bearer {stack.reader_token}"}
    times: list[float] = []
    pause = threading.Event()
    with httpx.Client(base_url=stack.base_url, headers=headers, timeout=30) as client:
        while (stop is None and len(times) < count) or (stop is not None and not stop.is_set()):
            started = time.perf_counter()
            client.get("/api/v1/items", params={"limit": "50"}).raise_for_status()
            times.append(time.perf_counter() - started)
            (stop or pause).wait(max(0.0, 1 / rate - (time.perf_counter() - started)))
    return times


def check(url: str, folder: Path, jobs: int) -> dict[str, Any]:
    """Every job claimed once: by the workers' records and by the database."""
    claimed: list[int] = []
    done: list[float] = []
    for path in sorted(folder.glob("worker*.json")):
        record = json.loads(path.read_text())
        claimed += record["claimed"]
        done += record["done"]
    twice = sum(1 for count in Counter(claimed).values() if count > 1)
    engine = driver_engine(url)
    with engine.connect() as conn:
        states = conn.execute(
            text("SELECT status, attempts, count(*) FROM jobs WHERE kind = :k GROUP BY 1, 2"),
            {"k": KIND},
        ).all()
    engine.dispose()
    return {
        "claimed": len(claimed),
        "distinct": len(set(claimed)),
        "claimed_twice": twice,
        "db_states": {f"{status}/attempts={attempts}": n for status, attempts, n in states},
        "all_once": len(claimed) == len(set(claimed)) == jobs
        and [(s, a) for s, a, _ in states] == [("done", 1)],
        "last_done": max(done, default=0.0),
    }


def run_claims(
    args: argparse.Namespace, stack: Stack, folder: Path
) -> tuple[float, list[float], dict[str, float], str]:
    """Start the workers, let them claim everything while the API is read; returns the start
    time, the API latencies meanwhile, CPU seconds by role, and the load average after."""
    on_pid = lambda pid: stack.monitor.watch(pid, "worker", f"worker-{pid}")  # noqa: E731
    go, join = start_workers(args, stack.database_url, folder, on_pid)
    stack.monitor.sample_now()
    cpu_before = stack.monitor.cpu_by_role()
    joiner = threading.Thread(target=join)
    stop, busy = threading.Event(), []
    reader = threading.Thread(
        target=lambda: busy.extend(api_latencies(stack, stop, 0, args.api_rate))
    )
    started = time.time()
    go()
    joiner.start()
    reader.start()
    while joiner.is_alive():
        stack.watch_database()  # the workers' connections, as they open
        joiner.join(0.5)
    stop.set()
    reader.join()
    stack.monitor.sample_now()
    cpu_after = stack.monitor.cpu_by_role()
    cpu = {role: cpu_after[role] - cpu_before.get(role, 0.0) for role in cpu_after}
    return started, busy, cpu, loadavg()


def measure(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="radqc-queue-") as tmp:
        folder = Path(tmp)
        with scratch_database(args.database, folder / "db") as url:
            stack = Stack(url, folder / "stack")
            try:
                stack.start(listener=False)
                seed(url, args.jobs, args.items)
                stack.watch_database()
                if args.mode == "threads":
                    stack.monitor.watch(os.getpid(), "driver", "driver")
                load_before = loadavg()
                idle = api_latencies(stack, None, args.api_requests, args.api_rate)
                started, busy, cpu, load_after = run_claims(args, stack, folder)
                after = api_latencies(stack, None, args.api_requests, args.api_rate)
                result = check(url, folder, args.jobs)
            finally:
                stack.close()
    elapsed = result["last_done"] - started
    return {
        **result,
        "jobs": args.jobs,
        "seconds": elapsed,
        "jobs_per_second": args.jobs / elapsed if elapsed > 0 else math.nan,
        "cpu_ms_per_job": {role: 1000 * sec / args.jobs for role, sec in cpu.items()},
        "api_ms": {name: _p50_p95(times) for name, times in
                   (("idle before", idle), ("during claims", busy), ("idle after", after))},
        "load": f"{load_before} -> {load_after}",
    }  # fmt: skip


def _p50_p95(times: list[float]) -> tuple[float, float, int]:
    return 1000 * percentile(times, 50), 1000 * percentile(times, 95), len(times)


def print_result(args: argparse.Namespace, r: dict[str, Any]) -> None:
    print(
        f"radqc queue on {args.database}: {r['jobs']} jobs, {args.workers} worker {args.mode}, "
        f"empty handlers; {os.cpu_count()} cores; load average {r['load']}"
    )
    print(f"  {r['jobs_per_second']:.0f} jobs/s ({r['jobs']} jobs in {r['seconds']:.1f} s)")
    cpu = ", ".join(f"{role} {ms:.2f}" for role, ms in sorted(r["cpu_ms_per_job"].items()))
    print(f"  CPU ms per job: {cpu}")
    verdict = "none" if r["all_once"] else "PROBLEM"
    print(
        f"  claimed twice: {r['claimed_twice']} ({verdict}); claimed {r['claimed']}, distinct "
        f"{r['distinct']}; database: {r['db_states']}"
    )
    for name, (p50, p95, n) in r["api_ms"].items():
        print(
            f"  GET /api/v1/items?limit=50 {name:>14}: p50 {p50:6.1f} ms, p95 {p95:6.1f} ms (n={n})"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--jobs", type=int, default=20000)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--mode", choices=["processes", "threads"], default="processes")
    p.add_argument("--items", type=int, default=2000, help="items the API lists")
    p.add_argument("--api-requests", type=int, default=100, help="per idle measurement")
    p.add_argument("--api-rate", type=float, default=20.0, help="API requests per second")
    p.add_argument("--idle-seconds", type=float, default=2.0, help="a worker stops after this")
    p.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--json", type=Path, help="also write the result here")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database == "postgres" and not postgres_reachable():
        print("PostgreSQL is not reachable (RADQC_TEST_POSTGRES_URL); use --database sqlite")
        return 2
    result = measure(args)
    print_result(args, result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if result["all_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
