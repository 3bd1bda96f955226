"""End-to-end load benchmark: radqc as separate processes on PostgreSQL under a fixed load.

For each worker count N (default 1, 2, 4), on a fresh database:

1. start ``radqc listen`` (2 listener processes), ``radqc api``, no workers yet;
2. capacity: send a backlog (``--burst-seconds`` worth of items at the offered mix) as fast as
   the senders go, then start the N workers and time how fast they turn it into ``qc.summary``
   Observations (items/s between the first and the last summary's processing time);
3. fixed rate: send real CXRs (C-STORE, ``--associations`` associations) and real reports
   (FHIR PUT, ``--http-clients`` clients) at the fixed rates for ``--seconds``, and measure per
   item the time from its acknowledgement to its ``qc.summary`` being readable, the queue depth
   each second, CPU per item and memory of every process, and every error;
4. stop everything and drop the database.

The ceiling, measured in the same run (before and after the stages): the rules engine alone in
this process on the same films and reports, no queue, no database.

Usage::

    .venv/bin/python -m bench.load.run                 # 10 img/s + 20 reports/s, 300 s, N=1,2,4
    .venv/bin/python -m bench.load.run --quick         # 20 s per N
    .venv/bin/python -m bench.load.run --seconds 60 --workers 2 --database sqlite
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from sqlalchemy import text

from bench.load import ceiling as ceiling_mod
from bench.load.corpus import (
    DATA,
    OutgoingReport,
    cxr_paths,
    diagnostic_report,
    load_films,
    report_texts,
)
from bench.load.procstats import loadavg, sample
from bench.load.results import (
    Stage,
    capacity,
    latency_table,
    percentile,
    queue_lines,
    resource_table,
)
from bench.load.senders import DicomSender, Journal, Pace, ReportSender, Sent, send_all
from bench.load.stack import Stack, driver_engine, postgres_reachable, scratch_database
from bench.load.watch import QueueSampler, SummaryWatcher
from tests.fhir_adapter.reports_support import RealReport

SERVICE_ROLES = frozenset({"listener", "api", "worker"})


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--rate-images", type=float, default=10.0, help="C-STOREs per second")
    p.add_argument("--rate-reports", type=float, default=20.0, help="FHIR PUTs per second")
    p.add_argument("--seconds", type=float, default=300.0, help="fixed-rate phase, per N")
    p.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    p.add_argument("--burst-seconds", type=float, default=20.0, help="backlog for capacity")
    p.add_argument("--drain-seconds", type=float, help="wait for summaries (default: --seconds)")
    p.add_argument("--associations", type=int, default=2)
    p.add_argument("--http-clients", type=int, default=4)
    p.add_argument("--listener-processes", type=int, default=2)
    p.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    p.add_argument("--films", type=int, default=15, help="send the first N of the 15 films")
    p.add_argument("--ceiling-reports", type=int, default=300)
    p.add_argument("--ceiling-repeats", type=int, default=2, help="passes over the films")
    p.add_argument("--quick", action="store_true", help="20 s per N, 5 s backlog")
    p.add_argument("--out", type=Path, help="keep logs and write results.json here")
    args = p.parse_args(argv)
    if args.quick:
        args.seconds, args.burst_seconds = 20.0, 5.0
    args.drain_seconds = args.drain_seconds or max(60.0, args.seconds)
    args.worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]
    return args


def outgoing(texts: list[RealReport], count: int, prefix: str) -> list[OutgoingReport]:
    return [diagnostic_report(texts[i % len(texts)], f"{prefix}-{i}", i) for i in range(count)]


def _send(
    stack: Stack,
    args: argparse.Namespace,
    texts: list[RealReport],
    prefix: str,
    rates: tuple[float | None, float | None],
    counts: tuple[int, int],
) -> list[Sent]:
    """Send ``counts`` (images, reports) at ``rates`` (None: at once); wait for the senders."""
    films = cxr_paths(DATA)[: args.films]
    dicom = [DicomSender(stack.dicom_port, films, prefix.upper()) for _ in range(args.associations)]
    reports = ReportSender(stack.base_url, stack.ingest_token, outgoing(texts, counts[1], prefix))
    start = time.monotonic() + 0.5
    give_up = math.inf if rates[0] is None else 10.0
    paces = (Pace(start, rates[0], counts[0], give_up), Pace(start, rates[1], counts[1], give_up))
    journal, stop = Journal(), threading.Event()
    threads = send_all(dicom, reports, args.http_clients, paces, journal, stop)
    for thread in threads:
        thread.join()
    return journal.snapshot()


def measure_capacity(
    stack: Stack, workers: int, args: argparse.Namespace, texts: list[RealReport], tag: str
) -> tuple[float, int]:
    """A backlog sent with no worker running, then drained by ``workers`` workers."""
    counts = (
        round(args.rate_images * args.burst_seconds),
        round(args.rate_reports * args.burst_seconds),
    )
    watcher = SummaryWatcher(stack.base_url, stack.reader_token)
    watcher.start(time.time())
    sent = _send(stack, args, texts, f"b{tag}", (None, None), counts)
    keys = {s.key for s in sent if s.acked is not None}
    stack.start_workers(workers)
    watcher.wait_for(keys, args.drain_seconds)
    watcher.stop()
    return capacity(keys, watcher.seen()), len(keys)


def measure_fixed_rate(stage: Stage, stack: Stack, args: argparse.Namespace,
                       texts: list[RealReport], tag: str) -> None:  # fmt: skip
    counts = (int(args.rate_images * args.seconds), int(args.rate_reports * args.seconds))
    stage.planned = sum(counts)
    queue = QueueSampler(stack.database_url, each=stack.watch_database)
    watcher = SummaryWatcher(stack.base_url, stack.reader_token)
    stack.watch_database()
    stack.monitor.sample_now()
    cpu_before, driver_before = stack.monitor.cpu_by_role(), _driver_cpu()
    stage.load_before = loadavg()
    queue.start()
    watcher.start(time.time())
    sent = _send(stack, args, texts, f"a{tag}", (args.rate_images, args.rate_reports), counts)
    watcher.wait_for({s.key for s in sent if s.acked is not None}, args.drain_seconds)
    stack.monitor.sample_now()
    stage.load_after = loadavg()
    cpu_after, driver_after = stack.monitor.cpu_by_role(), _driver_cpu()
    watcher.stop()
    queue.stop()
    stage.record_sends(sent)
    stage.record_latency(sent, watcher.seen())
    stage.queue = queue.samples
    stage.poll_errors = watcher.errors
    stage.poll_p95_ms = 1000 * percentile(watcher.poll_seconds, 95)
    per_item = 1000 / max(stage.acked, 1)
    stage.cpu_ms_per_item = {r: (cpu_after[r] - cpu_before.get(r, 0)) * per_item for r in cpu_after}
    stage.cpu_ms_per_item["radqc"] = sum(
        v for r, v in stage.cpu_ms_per_item.items() if r in SERVICE_ROLES
    )
    stage.cpu_ms_per_item["all"] = sum(stage.cpu_ms_per_item.values())
    stage.cpu_ms_per_item["driver"] = (driver_after - driver_before) * per_item


def _driver_cpu() -> float:
    now = sample(os.getpid())
    return now.cpu_seconds if now else 0.0


def _failed_items(database_url: str) -> int:
    engine = driver_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM items WHERE status = 'failed'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def run_stage(workers: int, args: argparse.Namespace, texts: list[RealReport], root: Path) -> Stage:
    offered = args.rate_images + args.rate_reports
    stage = Stage(workers, offered, args.seconds)
    folder = root / f"workers-{workers}"
    with scratch_database(args.database, folder) as url:
        stack = Stack(url, folder, args.listener_processes)
        try:
            stack.start()
            tag = uuid.uuid4().hex[:6]
            stage.capacity, stage.capacity_items = measure_capacity(
                stack, workers, args, texts, tag
            )
            measure_fixed_rate(stage, stack, args, texts, tag)
            stage.failed_items = _failed_items(url)
        finally:
            stack.close()
            stage.log_problems = stack.log_problems()
            rss = stack.monitor.rss_max_by_process(SERVICE_ROLES)
            stage.rss_mb = {k: v / 2**20 for k, v in rss.items()}
            shutil.rmtree(folder / "data", ignore_errors=True)
    return stage


def _ceiling(texts: list[RealReport], args: argparse.Namespace) -> ceiling_mod.Ceiling:
    films = load_films(cxr_paths(DATA)[: args.films])
    reports = outgoing(texts, min(args.ceiling_reports, len(texts)), "ceiling")
    return ceiling_mod.measure(films, reports, args.ceiling_repeats)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.database == "postgres" and not postgres_reachable():
        print("PostgreSQL is not reachable (RADQC_TEST_POSTGRES_URL); use --database sqlite")
        return 2
    texts = report_texts(DATA)
    share = args.rate_images / (args.rate_images + args.rate_reports)
    load_start = loadavg()
    before = _ceiling(texts, args)
    root = args.out or Path(tempfile.mkdtemp(prefix="radqc-load-"))
    stages = []
    try:
        for workers in args.worker_counts:
            stages.append(run_stage(workers, args, texts, root))
            print_stage(stages[-1])
    finally:
        if args.out is None:
            shutil.rmtree(root, ignore_errors=True)
    after = _ceiling(texts, args)
    report(args, stages, (before, after), share, load_start)
    if args.out is not None:
        dump(args.out / "results.json", args, stages, (before, after))
    return 0 if stages and all(st.acked for st in stages) else 1


def print_stage(stage: Stage) -> None:
    lat = stage.latency
    p95 = "-" if lat is None else f"{lat.p95:.2f}"
    print(
        f"[{stage.workers} worker(s)] acked {stage.acked}/{stage.planned}, p95 {p95} s, "
        f"capacity {stage.capacity:.1f} items/s, load {stage.load_before} -> {stage.load_after}",
        flush=True,
    )


def report(
    args: argparse.Namespace,
    stages: list[Stage],
    ceilings: tuple[ceiling_mod.Ceiling, ceiling_mod.Ceiling],
    share: float,
    load_start: str,
) -> None:
    rates = [c.items_per_second(share) for c in ceilings]
    ceiling_rate = sum(rates) / len(rates)
    c = ceilings[0]
    print(
        f"\nradqc end to end on {args.database}: {args.rate_images:g} images/s + "
        f"{args.rate_reports:g} reports/s offered for {args.seconds:g} s per worker count; "
        f"listener {args.listener_processes} processes; LLM off; {os.cpu_count()} cores; "
        f"load average at start {load_start}"
    )
    print(
        f"ceiling (rules engine alone, in-process, one core): film {c.image_ms:.1f} ms, report "
        f"{c.report_ms:.2f} ms -> {ceiling_rate:.1f} items/s for this mix (before "
        f"{rates[0]:.1f}, after {rates[1]:.1f}); CPU {c.cpu_ms_per_item(share):.1f} ms/item\n"
    )
    print("\n".join(latency_table(stages, ceiling_rate)))
    print("\n" + "\n".join(resource_table(stages)))
    print("\nQC jobs queued or running (fixed-rate phase):")
    print("\n".join(queue_lines(stages)))
    for st in stages:
        distinct = sorted(set(st.send_errors))[:3]
        if distinct or st.failed_items or st.log_problems or st.poll_errors:
            print(
                f"errors, {st.workers} worker(s): send {len(st.send_errors)} {distinct}, failed "
                f"items {st.failed_items}, poll {st.poll_errors}, log lines {st.log_problems}"
            )
    print("\n" + "\n".join(targets(stages, ceiling_rate)))


def targets(stages: list[Stage], ceiling_rate: float) -> list[str]:
    def mark(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = ["targets (issue 13):"]
    for st in stages:
        p95 = st.latency.p95 if st.latency else math.inf
        ratio = st.capacity / ceiling_rate
        lines.append(
            f"  {st.workers} worker(s): p95 {p95:.2f} s <= 2 s {mark(p95 <= 2)}; capacity "
            f"{ratio:.2f}x ceiling >= 0.7x {mark(ratio >= 0.7)}"
        )
    by_n = {st.workers: st.capacity for st in stages}
    if 1 in by_n and 2 in by_n:
        gain = by_n[2] / by_n[1]
        lines.append(
            f"  1 -> 2 workers: {gain:.2f}x >= 1.7x {mark(gain >= 1.7)} "
            f"({os.cpu_count()} cores, shared by listener, API, PostgreSQL, driver and workers)"
        )
    return lines


def dump(
    path: Path,
    args: argparse.Namespace,
    stages: list[Stage],
    ceilings: tuple[ceiling_mod.Ceiling, ceiling_mod.Ceiling],
) -> None:
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    body = {
        "settings": settings,
        "ceilings": [asdict(c) for c in ceilings],
        "stages": [asdict(st) for st in stages],
    }
    path.write_text(json.dumps(body, indent=1, default=str))


if __name__ == "__main__":
    sys.exit(main())
