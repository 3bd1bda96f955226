"""``radqc replay``: run a stored configuration over a curated set, storing its results like
shadow results (source ``replay``) so that :mod:`service.loop.compare` can score it.

The set is either a curated export (:mod:`service.loop.curation`: its ``curated.jsonl`` names
the items) or every audited item in the database. Each item's input is read from this database,
as the champion saw it; items of an export that this database does not hold are counted as
missing and skipped. A film whose stored file ``radqc retention`` removed
(``instances.file_removed_at``, :mod:`service.retention`) cannot be run again: it is counted as
removed (by policy, not an error) and skipped, never as missing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from service.db import Database
from service.errors import EngineError, InvalidInputError, NotFoundError
from service.loop.challenger import ConfigurationUnavailable
from service.loop.evaluation import Progress, quiet
from service.loop.models import Audit
from service.loop.shadow import ShadowRunner
from service.storage import FileRemovedError

log = logging.getLogger(__name__)

REPLAY = "replay"


def curated_item_ids(path: Path) -> list[int]:
    """The item ids of a curated export (its folder or its ``curated.jsonl``)."""
    jsonl = path / "curated.jsonl" if path.is_dir() else path
    if not jsonl.is_file():
        raise InvalidInputError(f"no curated set at {path} (expected curated.jsonl)")
    ids: list[int] = []
    with jsonl.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                ids.append(int(json.loads(line)["item_id"]))
            except (ValueError, KeyError, TypeError) as exc:
                raise InvalidInputError(f"{jsonl}:{number}: not a curated record") from exc
    return ids


def audited_item_ids(db: Database) -> list[int]:
    with db.reader() as session:
        return list(session.scalars(select(Audit.item_id).distinct().order_by(Audit.item_id)))


@dataclass
class ReplaySummary:
    config_id: int
    ran: int = 0
    failed: int = 0
    missing: int = 0  # not in this database
    removed: int = 0  # films whose stored file retention removed: skipped by policy
    errors: list[str] = field(default_factory=list)

    def describe(self, total: int) -> str:
        """The counts in one line, for the output of ``radqc replay``."""
        return (
            f"replayed configuration {self.config_id} on {total} items: {self.ran} ran, "
            f"{self.failed} failed, {self.removed} removed by retention (skipped), "
            f"{self.missing} not in this database"
        )


def replay(
    runner: ShadowRunner,
    config_id: int,
    item_ids: Iterable[int],
    progress: Progress = quiet,
) -> ReplaySummary:
    """Run ``config_id`` on every item; an item that fails is counted, the run goes on."""
    ids = list(dict.fromkeys(item_ids))
    summary = ReplaySummary(config_id)
    progress(REPLAY, 0, len(ids))
    for done, item_id in enumerate(ids, start=1):
        try:
            runner.run(config_id, item_id, source=REPLAY)
            summary.ran += 1
        except ConfigurationUnavailable:
            raise
        except FileRemovedError:
            summary.removed += 1
        except NotFoundError:
            summary.missing += 1
        except EngineError as exc:
            summary.failed += 1
            summary.errors.append(f"item {item_id}: {exc}")
            log.warning("replay of configuration %s on item %s failed: %s", config_id, item_id, exc)
        progress(REPLAY, done, len(ids))
    log.info(
        "replayed configuration %s: %d ran, %d failed, %d removed by retention, %d missing",
        config_id,
        summary.ran,
        summary.failed,
        summary.removed,
        summary.missing,
    )
    return summary
