"""Two changes to the items list, each measured both ways in one run on a generated database,
the old and the new way alternating call by call so that both see the same load:

- ``keyset``: the row comparison radqc sends (``(received_at, id) < (:a, :id)``,
  :meth:`Keyset.after`) against the ``a < :a OR (a = :a AND id < :id)`` it replaced; each call
  reads one page (51 rows, as the API does) with its findings, at 10%, 50% and 90% depth;
- ``csv``: the CSV export of the newest ``--csv-rows`` items in batches of 500 read as Core rows
  (:func:`service.api.items.csv_lines`) against the ORM items with their findings it replaced
  (both with the row comparison).

```
.venv/bin/python -m bench.growth.run --items 100000 --database radqc_growth_small --keep
.venv/bin/python -m bench.growth.compare --database radqc_growth_small
```
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import time
from collections.abc import Callable, Iterator

from sqlalchemy import ColumnElement, and_, or_, text
from sqlalchemy.orm import Session

from bench.growth.run import database_url
from service.api import items as items_api
from service.api import pagination
from service.db import Database
from service.findings import worst_severity
from service.models import Item

Condition = Callable[[pagination.Key], ColumnElement[bool]]
Timings = dict[tuple[str, str], list[float]]
DEPTHS = (0.1, 0.5, 0.9)


# -- what radqc did before ---------------------------------------------------------------------
def expanded(key: pagination.Key) -> ColumnElement[bool]:
    """The condition :meth:`Keyset.after` sent before the row comparison."""
    received_at, item_id = key
    return or_(
        Item.received_at < received_at,
        and_(Item.received_at == received_at, Item.id < item_id),
    )


def orm_csv_lines(db: Database, filters: items_api.ItemFilters) -> Iterator[str]:
    """The CSV export before: ORM items with their findings, 500 at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(items_api.CSV_COLUMNS)
    start: pagination.Key | None = None
    while True:
        with db.reader() as session:
            stmt = items_api.item_query(filters)
            rows = session.scalars(pagination.ITEMS.ordered(stmt, start).limit(500)).all()
            for item in rows:
                codes = sorted({finding.code for finding in item.findings})
                worst = worst_severity(item.findings)
                values = (
                    *(getattr(item, column.key) for column in items_api._CSV_ITEM_COLUMNS),
                    ";".join(codes),
                    worst.value if worst else None,
                )
                writer.writerow([items_api._cell(value) for value in values])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < 500:
            return
        start = pagination.ITEMS.key_of(rows[-1])


# -- measuring ---------------------------------------------------------------------------------
def _page(session: Session, condition: ColumnElement[bool]) -> int:
    stmt = items_api.item_query(items_api.ItemFilters()).where(condition)
    stmt = stmt.order_by(Item.received_at.desc(), Item.id.desc()).limit(51)
    return len(session.scalars(stmt).all())


def _key_at(session: Session, offset: int) -> pagination.Key:
    received, item_id = session.execute(
        text(
            "SELECT received_at, id FROM items ORDER BY received_at DESC, id DESC OFFSET :d LIMIT 1"
        ),
        {"d": offset},
    ).one()
    return received, int(item_id)


def _timed(times: Timings, where: tuple[str, str], run: Callable[[], object], keep: bool) -> None:
    started = time.perf_counter()
    run()
    if keep:
        times.setdefault(where, []).append((time.perf_counter() - started) * 1000)


def measure_keyset(db: Database, calls: int) -> Timings:
    forms: dict[str, Condition] = {"OR (before)": expanded, "row (after)": pagination.ITEMS.after}
    times: Timings = {}
    with db.reader() as session:
        count = int(session.scalar(text("SELECT count(*) FROM items")) or 0)
        keys = {share: _key_at(session, int(count * share)) for share in DEPTHS}
        for share in DEPTHS:
            for call in range(calls + 2):  # two untimed calls of each form first
                for name, form in forms.items():
                    key = keys[share]
                    _timed(
                        times,
                        (f"page at {share:.0%} depth", name),
                        lambda form=form, key=key: _page(session, form(key)),  # type: ignore[misc]
                        keep=call >= 2,
                    )
    return times


def measure_csv(db: Database, rows: int, calls: int) -> Timings:
    with db.reader() as session:
        since = _key_at(session, rows - 1)[0]
    filters = items_api.ItemFilters(since=since)  # type: ignore[arg-type]
    forms: dict[str, Callable[[], Iterator[str]]] = {
        "ORM (before)": lambda: orm_csv_lines(db, filters),
        "Core (after)": lambda: items_api.csv_lines(db, filters),
    }
    times: Timings = {}
    lines: dict[str, int] = {}
    for _call in range(calls):  # no untimed call: an export reads what the last one read
        for name, form in forms.items():

            def export(form: Callable[[], Iterator[str]] = form, name: str = name) -> None:
                lines[name] = "".join(form()).count("\r\n") - 1

            _timed(times, (f"CSV of {rows:,} items", name), export, keep=True)
    assert len(set(lines.values())) == 1, lines
    return times


def _table(times: Timings) -> None:
    print(f"{'query':<26} {'how':<14} {'n':>3} {'p50 ms':>10} {'p95 ms':>10}")
    for (query, name), values in times.items():
        p95 = statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]
        print(f"{query:<26} {name:<14} {len(values):>3} {statistics.median(values):10.1f} "
              f"{p95:10.1f}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database", default="radqc_growth")
    p.add_argument("--calls", type=int, default=30, help="timed calls per page and way")
    p.add_argument("--csv-calls", type=int, default=2, help="timed exports per way")
    p.add_argument("--csv-rows", type=int, default=100_000)
    p.add_argument("--only", choices=("keyset", "csv"))
    args = p.parse_args(argv)
    db = Database(database_url(args.database))
    try:
        if args.only in (None, "keyset"):
            _table(measure_keyset(db, args.calls))
        if args.only in (None, "csv"):
            _table(measure_csv(db, args.csv_rows, args.csv_calls))
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
