"""The dashboard page (issue 14): flagged items with filters, how many items each error type was
found on per period (a plot), and each item's findings and write-back state.

The list reads through the REST API's own filters and keyset paging (:mod:`service.api.items`),
so the page and ``GET /api/v1/items`` always agree on what a filter means. The plot counts items
(not findings) per code and day in SQL, and merges days into weeks or months for long periods.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup
from sqlalchemy import ColumnElement, distinct, func, select
from sqlalchemy.orm import Session

from service.api import pagination
from service.api.deps import components
from service.api.items import ItemFilters, check_code, item_query
from service.errors import InvalidInputError
from service.findings import worst_severity
from service.models import FindingRow, Item, ItemStatus
from service.taxonomy import CODES, Severity
from service.ui import plots
from service.ui.errors import PageError, parse_date_filter
from service.ui.pages import page
from service.ui.session import principal
from service.ui.writeback import writeback_summary

router = APIRouter()

PAGE_SIZE = 50
DEFAULT_DAYS = 30
BACK = "/ui/dashboard"


@dataclass(frozen=True, slots=True)
class DashboardRow:
    item: Item
    worst: str | None
    codes: list[str]
    writeback: str


@dataclass(frozen=True, slots=True)
class Period:
    since: dt.datetime
    until: dt.datetime
    unit: str  # day | week | month


def _choice(value: str | None, allowed: tuple[str, ...]) -> str | None:
    return value if value in allowed else None


def read_filters(args: dict[str, str | None]) -> ItemFilters:
    """The page's form as the API's filters; a bad value is refused with a page saying how."""
    try:
        code = check_code(args.get("code") or None)
    except InvalidInputError as exc:
        raise PageError(
            422, "That error type is not known.", BACK, "Back to the dashboard"
        ) from exc
    flagged = {"yes": True, "no": False}.get(args.get("flagged") or "yes")
    kind = _choice(args.get("kind"), ("image", "report"))
    status = _choice(args.get("status"), tuple(s.value for s in ItemStatus))
    severity = _choice(args.get("severity"), tuple(s.value for s in Severity))
    since = parse_date_filter("since", "Received from", args.get("since"), BACK)
    until = parse_date_filter("until", "until", args.get("until"), BACK)
    if since and until and since >= until:
        raise PageError(
            422, "“Received from” must be before “until”.", BACK, "Back to the dashboard"
        )
    return ItemFilters(
        kind=kind,  # type: ignore[arg-type]
        status=ItemStatus(status) if status else None,
        flagged=flagged,
        code=code,
        severity=Severity(severity) if severity else None,
        since=since,
        until=until,
        accession=(args.get("accession") or "").strip()[:64] or None,
    )


def rows(
    session: Session, filters: ItemFilters, cursor: str | None, enabled: bool
) -> tuple[list[DashboardRow], str | None]:
    """One page of matching items, newest first (the REST list's keyset), and the next page's
    cursor."""
    start = None
    if cursor:
        try:
            start = pagination.ITEMS.decode(cursor)
        except InvalidInputError as exc:
            raise PageError(
                400, "That page link is broken.", BACK, "Start from the newest items"
            ) from exc
    found = pagination.ITEMS.read(session, item_query(filters), start, PAGE_SIZE)
    states = writeback_summary(session, [i.id for i in found.rows], enabled)
    out = []
    for item in found.rows:
        worst = worst_severity(item.findings)
        out.append(
            DashboardRow(
                item=item,
                worst=worst.value if worst else None,
                codes=sorted({f.code for f in item.findings}),
                writeback=states[item.id],
            )
        )
    return out, found.next_cursor


def period(session: Session, filters: ItemFilters) -> Period:
    """The plotted period: the filters' dates; without them, the 30 days up to the newest
    matching item (a quiet week does not empty the plot)."""
    until = filters.until
    if until is None:
        newest = session.scalar(select(func.max(Item.received_at)).where(*filters.conditions()))
        base = newest or dt.datetime.now(dt.UTC)
        until = dt.datetime.combine(base.date(), dt.time(), dt.UTC) + dt.timedelta(days=1)
    since = filters.since or until - dt.timedelta(days=DEFAULT_DAYS)
    until = max(until, since + dt.timedelta(days=1))  # "from" a day after the newest item
    days = (until - since).days
    unit = "day" if days <= 62 else "week" if days <= 366 else "month"
    return Period(since, until, unit)


def _day(session: Session) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Item.received_at), "YYYY-MM-DD")
    return func.date(Item.received_at)


def _bucket(day: str, unit: str) -> str:
    if unit == "day":
        return day
    if unit == "month":
        return day[:7]
    date = dt.date.fromisoformat(day)
    return (date - dt.timedelta(days=date.weekday())).isoformat()  # the week's Monday


def buckets(span: Period) -> list[str]:
    out: list[str] = []
    day = span.since.date()
    while day < span.until.date():
        label = _bucket(day.isoformat(), span.unit)
        if not out or out[-1] != label:
            out.append(label)
        day += dt.timedelta(days=1)
    return out


def counts(session: Session, filters: ItemFilters, span: Period) -> dict[str, dict[str, int]]:
    """Items with a finding of each code, per period of ``span``."""
    day = _day(session).label("day")
    stmt = (
        select(FindingRow.code, day, func.count(distinct(FindingRow.item_id)))
        .join(Item, Item.id == FindingRow.item_id)
        .where(*filters.conditions(), Item.received_at >= span.since, Item.received_at < span.until)
        .group_by(FindingRow.code, day)
    )
    if filters.code is not None:
        stmt = stmt.where(FindingRow.code == filters.code)
    if filters.severity is not None:
        stmt = stmt.where(FindingRow.severity == filters.severity.value)
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for code, when, n in session.execute(stmt):
        if code in CODES:
            out[code][_bucket(str(when)[:10], span.unit)] += int(n)
    return {code: dict(per) for code, per in out.items()}


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    kind: str | None = None,
    code: str | None = None,
    severity: str | None = None,
    status: str | None = None,
    flagged: str | None = None,
    since: str | None = None,
    until: str | None = None,
    accession: str | None = None,
    cursor: str | None = None,
) -> HTMLResponse:
    viewer = principal(request)
    raw = {
        "kind": kind,
        "code": code,
        "severity": severity,
        "status": status,
        "flagged": flagged or "yes",
        "since": (since or "")[:10],
        "until": (until or "")[:10],
        "accession": accession,
    }
    filters = read_filters(raw | {"since": since, "until": until})
    comps = components(request)
    enabled = bool(comps.settings.fhir_writeback_url)
    with comps.db.reader() as session:
        listed, after = rows(session, filters, cursor, enabled)
        span = period(session, filters)
        per_code = counts(session, filters, span)
    labels = buckets(span)
    query = urlencode({k: v for k, v in raw.items() if v})
    plot: Markup = plots.code_counts(per_code, labels)
    return page(
        request,
        "dashboard.html",
        viewer=viewer,
        rows=listed,
        raw=raw,
        next_url=f"/ui/dashboard?{query}&{urlencode({'cursor': after})}" if after else None,
        first_page=cursor is not None,
        plot=plot,
        span=span,
        totals=sorted(((c, sum(v.values())) for c, v in per_code.items()), key=lambda t: -t[1]),
        codes=list(CODES.values()),
        statuses=[s.value for s in ItemStatus],
        severities=[s.value for s in Severity],
        writeback_enabled=enabled,
    )
