"""Fill a PostgreSQL database (at schema 0006 or later) with a year of radqc's rows.

For ``--items N``: 70% images / 30% reports received over ``--days`` days (weekdays busier than
weekends, working hours busier than nights), newest last; ~15% flagged with 1-5 findings each;
the rest of ``--findings-per-item x N`` findings (3 by default: 3 million findings for 1 million
items) are below the flag threshold on unflagged items, as the rules leave them; codes follow a
Zipf law over the taxonomy (``shapes.CODE_ORDER``); an Observation per finding and a
``qc.summary`` per done item, built by radqc's own builders; a done QC job per item and a study
job per study (radqc never deletes them); ~3% of done items drawn for audit (flagged ones
more often), those drawn more than two days ago audited, some twice; the newest items still
queued or processing, 0.3% failed.

An Observation's ``effective_at`` (FHIR ``date`` search, migration 0008) is what the publisher
stores: ``fhir_adapter.effective.effective_key`` of its resource (at a schema before 0008 there
is no such column, and the migration fills it from the same JSON).

Rows go in with ``COPY`` in chunks of ``--chunk`` items, one transaction each, with foreign-key
triggers off for the session (``session_replication_role = replica``: the generator writes
consistent rows) and the tables' secondary indexes dropped during the load and built again at
the end (as ``CREATE INDEX``, what they were). Sequences are set past the generated ids.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import psycopg

from bench.growth import shapes
from bench.growth.rows import ItemRows, Tables

Progress = Callable[[str], None]

COLUMNS: dict[str, tuple[str, ...]] = {
    "studies": ("id", "study_instance_uid", "accession", "expected_instances",
                "first_received_at", "last_received_at", "checked_at"),
    "instances": ("id", "sop_instance_uid", "version", "sha256", "sop_class_uid", "study_id",
                  "series_instance_uid", "modality", "patient_id", "transfer_syntax_uid", "path",
                  "size_bytes", "calling_ae", "received_at"),
    "reports": ("id", "report_id", "latest_version", "created_at"),
    "report_versions": ("id", "report_pk", "version", "content_hash", "resource_json", "text",
                        "sections", "status", "patient_sex", "subject_reference", "exam_code",
                        "exam_display", "accession", "study_instance_uid", "received_at"),
    "items": ("id", "kind", "status", "flagged", "instance_id", "report_version_id", "study_id",
              "sop_instance_uid", "study_instance_uid", "accession", "report_id",
              "report_version", "conflict", "received_at", "processed_at", "error"),
    "findings": ("id", "item_id", "code", "severity", "message", "evidence", "confidence",
                 "engine", "engine_version", "scope", "problem_key", "created_at"),
    "observations": ("id", "item_id", "finding_id", "code", "status", "subject", "derived_from",
                     "resource_json", "content_hash", "version", "updated_at", "effective_at"),
    "jobs": ("id", "kind", "key", "item_id", "study_id", "target", "status", "attempts",
             "max_attempts", "rerun", "run_at", "locked_by", "lease_expires_at", "last_error",
             "created_at", "updated_at"),
    "item_sites": ("item_id", "station", "institution"),
    "audit_selections": ("id", "item_id", "strategy", "inclusion_probability", "selected_on",
                         "selected_at"),
    "audits": ("id", "item_id", "version", "auditor", "created_at"),
    "audit_findings": ("id", "audit_id", "finding_id", "code", "engine", "engine_version",
                       "severity", "confidence", "verdict", "reason"),
    "audit_missed": ("id", "audit_id", "code", "evidence"),
}  # fmt: skip
# Parents before children (the order the rows of one chunk are copied in).
TABLE_ORDER = tuple(COLUMNS)
# Columns a row carries that an older schema does not have (the last ones of their table's
# row): ``observations.effective_at`` came with migration 0008, which fills it from the JSON.
LATER_COLUMNS: dict[str, tuple[str, ...]] = {"observations": ("effective_at",)}


@dataclass(frozen=True)
class Plan:
    items: int
    findings_per_item: float = 3.0
    flagged_share: float = 0.15
    image_share: float = 0.70
    days: int = 365
    seed: int = 13
    chunk: int = 20_000
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))

    @property
    def start(self) -> dt.datetime:
        return self.now - dt.timedelta(days=self.days)

    @property
    def faint_per_unflagged(self) -> float:
        """Mean below-threshold findings on an unflagged done item, so that the total is
        ``findings_per_item`` per item."""
        flagged_mean = float(np.dot(shapes.FLAGGED_COUNTS, shapes.FLAGGED_WEIGHTS))
        left = self.findings_per_item - self.flagged_share * flagged_mean
        return max(0.0, left / (1 - self.flagged_share))


def arrival_times(plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """``plan.items`` receive times (microseconds since the epoch), sorted: weekdays twice as
    busy as weekends, 07-19 h four times as busy as the night."""
    start = int(plan.start.timestamp()) * 1_000_000
    first_weekday = plan.start.weekday()
    day_weights = np.array([0.5 if (first_weekday + d) % 7 >= 5 else 1.0 for d in range(plan.days)])
    hour_weights = np.array([4.0 if 7 <= h < 19 else 1.0 for h in range(24)])
    days = rng.choice(plan.days, size=plan.items, p=day_weights / day_weights.sum())
    hours = rng.choice(24, size=plan.items, p=hour_weights / hour_weights.sum())
    within = rng.integers(0, 3_600_000_000, size=plan.items)
    times = start + days * 86_400_000_000 + hours * 3_600_000_000 + within
    times.sort()
    return np.minimum(times, int(plan.now.timestamp()) * 1_000_000 - 1)


# -- loading ---------------------------------------------------------------------------------
def plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _secondary_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(name, definition) of the non-unique indexes of the tables the generator fills."""
    rows = conn.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i "
        "JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid "
        "WHERE i.schemaname = 'public' AND i.tablename = ANY(%s) AND NOT x.indisunique",
        (list(TABLE_ORDER),),
    ).fetchall()
    return [(str(name), str(definition)) for name, definition in rows]


def _columns(conn: psycopg.Connection[Any]) -> dict[str, tuple[str, ...]]:
    """The columns of :data:`COLUMNS` the schema has (an older one lacks the
    :data:`LATER_COLUMNS`)."""
    present = {
        (str(table), str(column))
        for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = ANY(%s)",
            (list(LATER_COLUMNS),),
        ).fetchall()
    }
    columns = dict(COLUMNS)
    for table, later in LATER_COLUMNS.items():
        missing = [c for c in later if (table, c) not in present]
        if missing:
            assert COLUMNS[table][-len(later) :] == later
            columns[table] = COLUMNS[table][: len(COLUMNS[table]) - len(later)]
    return columns


def _copy(
    conn: psycopg.Connection[Any],
    table: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """COPY ``rows`` into ``table``: the first ``len(columns)`` values of each row."""
    if not rows:
        return
    width = len(columns)
    trim = width < len(COLUMNS[table])
    names = ", ".join(columns)
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row[:width] if trim else row)


def _set_sequences(conn: psycopg.Connection[Any]) -> None:
    for table in TABLE_ORDER:
        if "id" not in COLUMNS[table] or table == "observations":
            continue
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
        )


def generate(url: str, plan: Plan, progress: Progress = print) -> dict[str, Any]:
    """Fill the (empty, migrated) database at ``url``; returns row counts and timings."""
    shapes.check_taxonomy()
    rng = np.random.default_rng(plan.seed)
    times = arrival_times(plan, rng)
    tables = Tables()
    builder = ItemRows(plan, rng, tables)
    started = time.perf_counter()
    with psycopg.connect(plain_url(url), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("SET synchronous_commit = off")
        indexes = _secondary_indexes(conn)
        columns = _columns(conn)
        for name, _definition in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        copied = 0.0
        for begin in range(0, plan.items, plan.chunk):
            for offset, moment in enumerate(times[begin : begin + plan.chunk]):
                builder.add(begin + offset, int(moment))
            chunk_rows = builder.take_chunk(last=begin + plan.chunk >= plan.items)
            t0 = time.perf_counter()
            with conn.transaction():
                for table in TABLE_ORDER:
                    _copy(conn, table, columns[table], chunk_rows.get(table, []))
            copied += time.perf_counter() - t0
            done = min(begin + plan.chunk, plan.items)
            elapsed = time.perf_counter() - started
            progress(f"  {done:>9} items in {elapsed:6.0f} s (COPY {copied:5.0f} s)")
        loaded = time.perf_counter() - started
        conn.execute("SET maintenance_work_mem = '256MB'")
        for name, definition in indexes:
            progress(f"  index {name}")
            conn.execute(definition)
        _set_sequences(conn)
        indexed = time.perf_counter() - started - loaded
        # What autovacuum does to a year-old table: the visibility map is set (index-only
        # scans skip the heap) and the statistics are fresh.
        conn.execute("VACUUM (ANALYZE)")
    return {
        "rows": dict(tables.counts),
        "seconds_load": loaded,
        "seconds_copy": copied,
        "seconds_indexes": indexed,
        "seconds_total": time.perf_counter() - started,
    }


def counts_line(rows: Sequence[tuple[str, int]]) -> str:
    return ", ".join(f"{table} {count:,}" for table, count in rows)
