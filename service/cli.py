"""The ``radqc`` command: the service's parts (``serve``, ``api``, ``listen``, ``worker``,
``migrate``), the audit loop (``evaluate``, ``sample``, ``drift``, ``export``) and the
champion/challenger commands of :mod:`service.loop.commands`.

``serve`` runs everything on one machine: the HTTP API and the DICOM listener in this process,
and ``RADQC_WORKERS`` worker processes that it restarts if they die (:mod:`service.supervisor`
starts, watches and stops them). SIGTERM or Ctrl-C shuts down cleanly: no new associations or
requests, associations in progress finish, each worker finishes the job in hand, and the
database is left consistent. This module parses the command line and dispatches.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import shutil
import sys
import threading
from collections.abc import Sequence
from typing import TypeVar

from fhir_adapter import outbox_commands
from service.config import Settings, load_settings
from service.errors import ConfigurationError, RadqcError
from service.loop import commands as engine_commands
from service.supervisor import Supervisor, is_supervised, on_terminate, stop_when_orphaned

log = logging.getLogger("radqc")
_T = TypeVar("_T")


def _setup_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s [%(process)d %(threadName)s] %(name)s: %(message)s",
    )
    logging.getLogger("pynetdicom").setLevel(max(logging.WARNING, logging.root.level))


def _migrate(settings: Settings) -> None:
    from service.db import Database
    from service.migrate import upgrade

    # The embedded SQLite file lives in the data folder: create it before connecting.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    try:
        db.wait_until_ready()
    finally:
        db.dispose()
    upgrade(settings.effective_database_url)


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from service.migrate import downgrade

    if args.downgrade:
        downgrade(settings.effective_database_url, args.downgrade)
    else:
        _migrate(settings)
    log.info("database schema is at %s", args.downgrade or "head")
    return 0


def cmd_worker(settings: Settings, _args: argparse.Namespace) -> int:
    from service.app import build_components, build_worker

    components = build_components(settings)
    bundle = build_worker(components)
    stop = threading.Event()
    on_terminate(stop)

    def stop_when_told() -> None:
        stop.wait()
        bundle.worker.stop()

    threading.Thread(target=stop_when_told, name="stopper", daemon=True).start()
    stop_when_orphaned(stop)
    try:
        bundle.worker.run()
    finally:
        bundle.close()
        components.db.dispose()
    return 0


def _more_listeners(settings: Settings) -> Supervisor:
    """The listener processes beyond this one (RADQC_DICOM_LISTENER_PROCESSES), or none when
    this process is itself one of them."""
    count = 0 if is_supervised() else settings.dicom_listener_processes - 1
    return Supervisor("listen", count, dict(os.environ))


def cmd_listen(settings: Settings, _args: argparse.Namespace) -> int:
    from service.app import build_components, build_listener

    if not is_supervised():  # the parent has migrated already
        _migrate(settings)
    components = build_components(settings)
    listener = build_listener(components)
    stop = threading.Event()
    on_terminate(stop)
    stop_when_orphaned(stop)
    listener.start()
    others = _more_listeners(settings)
    others.start()
    log.info(
        "DICOM listener %s on %s:%d (%d process(es))",
        settings.dicom_ae_title,
        settings.dicom_host,
        listener.port,
        others.count + 1,
    )
    stop.wait()
    others.stop()
    listener.stop()
    components.db.dispose()
    return 0


def _uvicorn_server(settings: Settings, components: object) -> object:
    import uvicorn

    from service.app import build_api, settle_heap

    app = build_api(components)  # type: ignore[arg-type]
    settle_heap()
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )
    return uvicorn.Server(config)


def cmd_api(settings: Settings, _args: argparse.Namespace) -> int:
    from service.app import build_components

    _migrate(settings)
    components = build_components(settings)
    server = _uvicorn_server(settings, components)
    on_terminate(threading.Event())  # see cmd_serve: uvicorn raises the signal again on exit
    server.run()  # type: ignore[attr-defined]
    components.db.dispose()
    return 0


def cmd_serve(settings: Settings, _args: argparse.Namespace) -> int:
    _migrate(settings)
    # Before prometheus_client is imported: every process of this group writes its metrics to
    # files there, and /metrics adds them up.
    metrics_dir = settings.data_dir / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    metrics_dir.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    from service.app import build_components, build_listener

    components = build_components(settings)
    listener = build_listener(components)
    listener.start()
    listeners = _more_listeners(settings)
    listeners.start()
    supervisor = Supervisor("worker", settings.workers, dict(os.environ))
    supervisor.start()
    server = _uvicorn_server(settings, components)
    log.info(
        "radqc serving: HTTP http://%s:%d  DICOM %s@%s:%d  workers %d",
        settings.http_host,
        settings.http_port,
        settings.dicom_ae_title,
        settings.dicom_host,
        listener.port,
        settings.workers,
    )
    # uvicorn handles SIGTERM/SIGINT while it runs, then restores these handlers and raises the
    # signal again: ours only records it, so the listener and the workers are stopped below.
    on_terminate(threading.Event())
    try:
        server.run()  # type: ignore[attr-defined]  # returns on SIGTERM/SIGINT
    finally:
        listeners.stop()
        listener.stop()
        supervisor.stop()
        components.db.dispose()
    return 0


def _time_arg(name: str, value: str | None) -> object:
    from service.api.items import parse_time

    return parse_time(name, value)


def cmd_evaluate(settings: Settings, args: argparse.Namespace) -> int:
    """Evaluate the audited items, store the run, print a table (and a progress bar)."""
    from service.db import Database
    from service.loop.evaluation import EvaluationRequest, EvaluationService
    from service.loop.table import ProgressBar, render_table

    db = Database(settings.effective_database_url)
    try:
        request = EvaluationRequest(
            engine=args.engine,
            kind=args.kind,
            since=_time_arg("since", args.since),  # type: ignore[arg-type]
            until=_time_arg("until", args.until),  # type: ignore[arg-type]
            weighted=not args.unweighted,
        )
        run = EvaluationService(db).run(request, "cli", ProgressBar())
    finally:
        db.dispose()
    if args.json:
        print(json.dumps({"id": run.id, **run.metrics}, indent=2))
    else:
        print(render_table(run.id, run.metrics))
    return 0


def cmd_sample(settings: Settings, args: argparse.Namespace) -> int:
    """Draw items for audit now (within the daily quota), recording inclusion probabilities."""
    from service.db import Database
    from service.loop.audit_draw import AuditSampler, SamplingPlan

    db = Database(settings.effective_database_url)
    try:
        plan = SamplingPlan.from_settings(settings)
        if args.quota is not None:
            plan = dataclasses.replace(plan, daily_quota=args.quota)
        drawn = AuditSampler(db, plan).run(
            since=_time_arg("since", args.since),  # type: ignore[arg-type]
            until=_time_arg("until", args.until),  # type: ignore[arg-type]
            seed=args.seed,
        )
    finally:
        db.dispose()
    counts: dict[str, int] = {}
    for entry in drawn:
        counts[entry.stratum] = counts.get(entry.stratum, 0) + 1
    print(f"drew {len(drawn)} items for audit")
    for stratum, count in sorted(counts.items()):
        print(f"  {stratum:<16}{count:>6}")
    return 0


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Export the audited (curated) items: JSONL, a FHIR Bundle and the DICOM files."""
    from pathlib import Path

    from service.db import Database
    from service.loop.curation import export_curated
    from service.storage import FileStore

    db = Database(settings.effective_database_url)
    try:
        written = export_curated(db, FileStore(settings.dicom_dir), Path(args.out))
    finally:
        db.dispose()
    for name, count in written.items():
        print(f"{name}: {count}")
    return 0


def _or(given: _T | None, default: _T) -> _T:
    return default if given is None else given


def cmd_drift(settings: Settings, args: argparse.Namespace) -> int:
    """Check every code's rolling precision and recall against the floors; 3 when one is below."""
    from service.db import Database
    from service.loop.drift import DriftMonitor

    db = Database(settings.effective_database_url)
    try:
        monitor = DriftMonitor(
            db,
            precision_floor=_or(args.precision_floor, settings.drift_precision_floor),
            recall_floor=_or(args.recall_floor, settings.drift_recall_floor),
            window_days=_or(args.window_days, settings.drift_window_days),
            min_count=settings.drift_min_count,
        )
        alerts = monitor.check()
    finally:
        db.dispose()
    for alert in alerts:
        print(
            f"{alert.code} {alert.metric} {alert.value:.3f} < {alert.floor:.2f} (n={alert.count})"
        )
    return 3 if alerts else 0


def cmd_retention(settings: Settings, args: argparse.Namespace) -> int:
    """Delete finished jobs and old stored files (see :mod:`service.retention`)."""
    from service.db import Database
    from service.retention import RetentionPolicy, run_retention
    from service.storage import FileStore

    policy = RetentionPolicy(
        job_days=_or(args.job_days, settings.retention_job_days),
        file_days=_or(args.file_days, settings.retention_file_days),
        disk_high_percent=_or(args.disk_high_percent, settings.retention_disk_high_percent),
        disk_low_percent=_or(args.disk_low_percent, settings.retention_disk_low_percent),
        dry_run=args.dry_run,
    )
    low, high = policy.disk_low_percent, policy.disk_high_percent
    if low and (not high or low >= high):
        print("radqc retention: --disk-low-percent must be under --disk-high-percent")
        return 2
    db = Database(settings.effective_database_url)
    try:
        report = run_retention(db, FileStore(settings.dicom_dir), policy)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(dataclasses.asdict(report)))
    else:
        print("\n".join(report.lines()))
    return 0


COMMANDS = {
    "serve": (cmd_serve, "run everything on the embedded defaults: API, DICOM listener, workers"),
    "api": (cmd_api, "run the HTTP API (REST and FHIR) only"),
    "listen": (cmd_listen, "run the DICOM Storage SCP only"),
    "worker": (cmd_worker, "run one QC worker process"),
    "migrate": (cmd_migrate, "apply the database migrations"),
    "evaluate": (cmd_evaluate, "evaluate the engines against the audits and store the run"),
    "sample": (cmd_sample, "draw items for audit now, within the daily quota"),
    "drift": (cmd_drift, "alert when a code's rolling precision or recall is below a floor"),
    "export": (cmd_export, "export the audited items (JSONL, FHIR Bundle, DICOM files)"),
    "retention": (cmd_retention, "delete finished jobs and old stored DICOM files"),
    **engine_commands.COMMANDS,
    **outbox_commands.COMMANDS,
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="radqc",
        description="Quality control of chest X-rays and radiology reports: run a part of the "
        "service, or a command of the audit loop (every command is listed below).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_fn, help_text) in COMMANDS.items():
        cmd = sub.add_parser(name, help=help_text, description=help_text)
        if name == "migrate":
            cmd.add_argument(
                "--downgrade",
                metavar="REVISION",
                help="downgrade to REVISION (e.g. base) instead of upgrading",
            )
        if name in ("evaluate", "sample"):
            cmd.add_argument("--since", help="items received at or after (ISO 8601)")
            cmd.add_argument("--until", help="items received before (ISO 8601)")
        if name == "evaluate":
            cmd.add_argument("--engine", help="rules, llm or engine@version (default: all)")
            cmd.add_argument("--kind", choices=["image", "report"])
            cmd.add_argument("--unweighted", action="store_true", help="ignore sampling weights")
            cmd.add_argument("--json", action="store_true", help="print the run as JSON")
        if name == "sample":
            cmd.add_argument("--seed", type=int, help="random seed (for a reproducible draw)")
            cmd.add_argument("--quota", type=int, help="audits per day (RADQC_AUDIT_DAILY_QUOTA)")
        if name == "drift":
            cmd.add_argument("--precision-floor", type=float)  # RADQC_DRIFT_PRECISION_FLOOR
            cmd.add_argument("--recall-floor", type=float)  # RADQC_DRIFT_RECALL_FLOOR
            cmd.add_argument("--window-days", type=int)  # RADQC_DRIFT_WINDOW_DAYS
        if name == "export":
            cmd.add_argument("--out", required=True, help="folder to write the curated set to")
        if name == "retention":
            cmd.add_argument("--dry-run", action="store_true", help="report, delete nothing")
            cmd.add_argument("--job-days", type=float)  # RADQC_RETENTION_JOB_DAYS
            cmd.add_argument("--file-days", type=float)  # RADQC_RETENTION_FILE_DAYS
            cmd.add_argument("--disk-high-percent", type=float)  # RADQC_RETENTION_DISK_HIGH_...
            cmd.add_argument("--disk-low-percent", type=float)  # RADQC_RETENTION_DISK_LOW_...
            cmd.add_argument("--json", action="store_true", help="print the report as JSON")
        engine_commands.add_arguments(name, cmd)
        outbox_commands.add_arguments(name, cmd)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        print(f"radqc: {exc}", file=sys.stderr)
        return 2
    _setup_logging(settings)
    try:
        return COMMANDS[args.command][0](settings, args)
    except RadqcError as exc:
        log.error("%s", exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
