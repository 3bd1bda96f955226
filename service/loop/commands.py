"""The champion/challenger commands of ``radqc``: ``engines``, ``challenger``, ``replay``,
``compare``, ``promote``. :mod:`service.cli` registers them; heavy imports stay inside the
functions so that ``radqc --help`` stays quick.
"""

from __future__ import annotations

import argparse
import getpass
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.config import Settings
from service.errors import InvalidInputError

Command = Callable[[Settings, argparse.Namespace], int]


def _db(settings: Settings) -> Any:
    from service.db import Database

    return Database(settings.effective_database_url)


def cli_user(given: str | None) -> str:
    """Who ran the command, for the promotion trail: ``--user`` or the login name."""
    if given:
        return f"cli:{given}"
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def cmd_engines(settings: Settings, _args: argparse.Namespace) -> int:
    """List the configurations; the one the settings describe is recorded first (idempotent)."""
    from service.loop.engine_configs import EngineRegistry

    db = _db(settings)
    try:
        registry = EngineRegistry(db)
        running = registry.record_running(settings)
        configs = registry.all()
    finally:
        db.dispose()
    print(f"{'id':>4}  {'name':<20}{'ver':>4}  {'role':<11}{'kinds':<14}engine versions")
    for c in configs:
        mark = "*" if c.id == running.id else " "
        kinds = ",".join(c.kinds)
        versions = ", ".join(c.engine_versions)
        print(f"{c.id:>4}{mark} {c.name:<20}{c.version:>4}  {c.role:<11}{kinds:<14}{versions}")
    print("\n* the configuration these settings describe; live QC runs the champion")
    return 0


def _parameters(value: str) -> dict[str, Any]:
    text = Path(value[1:]).read_text(encoding="utf-8") if value.startswith("@") else value
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"--parameters is not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise InvalidInputError("--parameters must be a JSON object")
    return parsed


def cmd_challenger(settings: Settings, args: argparse.Namespace) -> int:
    """Register a challenger from JSON parameters (or @file); same parameters, same version."""
    from service.loop.engine_configs import EngineRegistry

    db = _db(settings)
    try:
        config = EngineRegistry(db).record(
            args.name, _parameters(args.parameters), cli_user(args.user)
        )
    finally:
        db.dispose()
    print(f"engine configuration {config.id}: {config.name} v{config.version} ({config.role})")
    return 0


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    """Run a configuration over a curated export (or every audited item); store its results."""
    from service.loop.replay import audited_item_ids, curated_item_ids, replay
    from service.loop.shadow import ShadowRunner
    from service.loop.table import ProgressBar
    from service.pipeline import NullPublisher, Pipeline
    from service.storage import FileStore

    db = _db(settings)
    runner = ShadowRunner(
        db, Pipeline(db, FileStore(settings.dicom_dir), [], [], NullPublisher()), settings
    )
    try:
        ids = curated_item_ids(Path(args.curated)) if args.curated else audited_item_ids(db)
        bar = ProgressBar()
        summary = replay(runner, args.config, ids, bar)
        bar.stream.write("\n")
    finally:
        runner.close()
        db.dispose()
    print(summary.describe(len(ids)))
    for error in summary.errors[:20]:
        print(f"  {error}")
    return 0 if summary.failed == 0 else 1


def cmd_compare(settings: Settings, args: argparse.Namespace) -> int:
    """Champion against challenger on the same audited items, with paired intervals."""
    from service.errors import NotFoundError
    from service.loop.compare import compare
    from service.loop.engine_configs import EngineRegistry
    from service.loop.table import render_comparison

    db = _db(settings)
    try:
        champion = args.champion
        if champion is None:
            current = EngineRegistry(db).champion()
            if current is None:
                raise NotFoundError("there is no champion yet; pass --champion")
            champion = current.id
        report = compare(db, champion, args.challenger, weighted=not args.unweighted)
    finally:
        db.dispose()
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_comparison(report))
    return 0


def cmd_promote(settings: Settings, args: argparse.Namespace) -> int:
    """Make a configuration the champion; recorded in the promotion trail. Running workers
    switch to its engines within ``RADQC_ENGINE_REFRESH_SECONDS``."""
    from service.loop.engine_configs import EngineRegistry

    db = _db(settings)
    try:
        row = EngineRegistry(db).promote(args.config, cli_user(args.user), args.reason)
    finally:
        db.dispose()
    print(
        f"configuration {row.to_config_id} is the champion (was {row.from_config_id}); "
        f"recorded as promotion {row.id} by {row.promoted_by}; running workers switch to it "
        "at their next engine refresh (RADQC_ENGINE_REFRESH_SECONDS)"
    )
    return 0


COMMANDS: dict[str, tuple[Command, str]] = {
    "engines": (cmd_engines, "list the engine configurations (champion, challengers)"),
    "challenger": (cmd_challenger, "register a challenger engine configuration"),
    "replay": (cmd_replay, "run a configuration over a curated set and store its findings"),
    "compare": (cmd_compare, "compare champion and challenger on the same audited items"),
    "promote": (cmd_promote, "make a configuration the champion (recorded in the trail)"),
}


def add_arguments(name: str, cmd: argparse.ArgumentParser) -> None:
    if name == "challenger":
        cmd.add_argument("--name", required=True, help="configuration name")
        cmd.add_argument("--parameters", required=True, help="JSON parameters, or @file with them")
    if name == "replay":
        cmd.add_argument("--config", type=int, required=True, help="configuration id")
        cmd.add_argument("--curated", help="a curated export (folder or curated.jsonl)")
    if name == "compare":
        cmd.add_argument("--challenger", type=int, required=True, help="configuration id")
        cmd.add_argument("--champion", type=int, help="configuration id (default: champion)")
        cmd.add_argument("--unweighted", action="store_true", help="ignore sampling weights")
        cmd.add_argument("--json", action="store_true", help="print the report as JSON")
    if name == "promote":
        cmd.add_argument("config", type=int, help="configuration id")
        cmd.add_argument("--reason", required=True, help="why (kept in the trail)")
    if name in ("challenger", "promote"):
        cmd.add_argument("--user", help="who, for the trail (default: the login name)")
