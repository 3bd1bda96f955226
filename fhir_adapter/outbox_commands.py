"""The write-back commands of ``radqc`` (issue 11), registered by :mod:`service.cli`:

- ``radqc outbox list [--status refused] [--item ID] [--limit N] [--json]``
- ``radqc outbox show ID``: one entry with the server's OperationOutcome (it may quote the
  report: it is printed for the admin who asks, never logged)
- ``radqc outbox retry ID...`` or ``radqc outbox retry --refused [--item ID]``
- ``radqc outbox discard ID...``
- ``radqc outbox backfill``: queue every Observation the hospital server has not received
  (published before write-back was switched on)
- ``radqc writeback-jwks``: the public key of the SMART private key as a JWKS, to register with
  the hospital's authorization server
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from service.config import Settings
from service.errors import ConfigurationError, InvalidInputError

if TYPE_CHECKING:  # imported when a command runs: ``radqc --help`` stays quick
    from service.db import Database

Command = Callable[[Settings, argparse.Namespace], int]
ACTIONS = ("list", "show", "retry", "discard", "backfill")


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    from service.db import Database

    db = Database(settings.effective_database_url)
    try:
        yield db
    finally:
        db.dispose()


def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """List, show, retry or discard outbox entries, or backfill the outbox."""
    with _database(settings) as db:
        return _ACTIONS[args.action](settings, db, args)


def _list(_settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from service.api.outbox import OutboxEntryOut
    from service.outbox import OutboxFilters, list_entries

    filters = OutboxFilters(status=args.status, item_id=args.item)
    with db.reader() as session:
        rows = list_entries(session, filters, args.limit)
        entries = [OutboxEntryOut.of(entry, observation) for entry, observation in rows]
    if args.json:
        print(json.dumps([e.model_dump(mode="json", exclude={"outcome"}) for e in entries]))
        return 0
    print(
        f"{'id':>7}  {'status':<10} {'http':>4} {'tries':>5}  {'item':>7}  {'code':<22} observation"
    )
    for e in entries:
        version = f"v{e.observation_version}" + (
            f" (now v{e.current_version})" if e.current_version != e.observation_version else ""
        )
        print(
            f"{e.id:>7}  {e.status:<10} {e.http_status or '':>4} {e.attempts:>5}  {e.item_id:>7}  "
            f"{e.code:<22} {e.observation_id} {version}"
        )
    return 0


def _show(_settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from service.api.outbox import OutboxEntryOut
    from service.outbox import get_entry

    for entry_id in _ids(args):
        with db.reader() as session:
            out = OutboxEntryOut.of(*get_entry(session, entry_id))
        print(json.dumps(out.model_dump(mode="json"), indent=2, ensure_ascii=False))
    return 0


def _retry(_settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from service.outbox import get_entry, retry, retry_refused

    with db.transaction() as session:
        if args.refused:
            count = retry_refused(session, item_id=args.item)
        else:
            count = retry(session, [get_entry(session, i)[0] for i in _ids(args)])
    print(f"queued again: {count}")
    return 0


def _discard(_settings: Settings, db: Database, args: argparse.Namespace) -> int:
    from service.loop.commands import cli_user
    from service.outbox import discard, get_entry

    who = cli_user(None)
    ids = _ids(args)
    with db.transaction() as session:
        for entry_id in ids:
            discard(session, get_entry(session, entry_id)[0], who)
    print(f"discarded: {len(ids)}")
    return 0


def _backfill(settings: Settings, db: Database, _args: argparse.Namespace) -> int:
    from service.outbox import run_backfill

    if not settings.fhir_writeback_url:
        raise ConfigurationError("write-back is off (RADQC_FHIR_WRITEBACK_URL is empty)")
    print(f"queued for write-back: {run_backfill(db)}")
    return 0


def _ids(args: argparse.Namespace) -> list[int]:
    if not args.ids:
        raise InvalidInputError(f"outbox {args.action}: give one or more entry ids")
    return list(args.ids)


_ACTIONS: dict[str, Callable[[Settings, Database, argparse.Namespace], int]] = {
    "list": _list,
    "show": _show,
    "retry": _retry,
    "discard": _discard,
    "backfill": _backfill,
}


def cmd_writeback_jwks(settings: Settings, _args: argparse.Namespace) -> int:
    """Print the public JWKS of RADQC_FHIR_WRITEBACK_SMART_PRIVATE_KEY_FILE."""
    from fhir_adapter.writeback_auth import public_jwks

    print(json.dumps(public_jwks(settings), indent=2))
    return 0


COMMANDS: dict[str, tuple[Command, str]] = {
    "outbox": (cmd_outbox, "list, show, retry or discard write-back entries; backfill"),
    "writeback-jwks": (cmd_writeback_jwks, "print the SMART public key (JWKS) to register"),
}


def add_arguments(name: str, cmd: argparse.ArgumentParser) -> None:
    if name != "outbox":
        return
    cmd.add_argument("action", choices=ACTIONS)
    cmd.add_argument("ids", nargs="*", type=int, help="entry ids (show, retry, discard)")
    cmd.add_argument(
        "--status", choices=["pending", "delivered", "refused", "discarded", "superseded"]
    )
    cmd.add_argument("--item", type=int, help="only this item's Observations (list, retry)")
    cmd.add_argument("--limit", type=int, default=50, help="list: at most this many")
    cmd.add_argument("--json", action="store_true", help="list: as JSON")
    cmd.add_argument("--refused", action="store_true", help="retry: every refused entry")
