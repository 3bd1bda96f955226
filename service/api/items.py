"""The items resource for QC dashboards (DESIGN §6): list with filters, one item, CSV export,
and ``POST .../reprocess`` (admin: the item's QC job queued again; 409 for an image whose stored
file retention removed, ``file_removed_at`` on the item).

Lists are newest first, ``(received_at, id)`` descending, paged with a keyset cursor (no OFFSET,
so deep pages cost the same as the first). ``format=csv`` exports every matching item, read in
keyset batches of Core rows (no ORM objects) and streamed, so a large export never sits in
memory.

Time filters take ISO 8601; a value without a timezone is taken as UTC, and a date alone as its
midnight UTC. ``since`` is inclusive, ``until`` exclusive.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi import status as http
from fastapi.responses import StreamingResponse
from sqlalchemy import ColumnElement, Row, Select, and_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from service import queue
from service.api import pagination
from service.api.auth import Principal, Reader, require_roles
from service.api.deps import components
from service.api.params import RowId
from service.api.schemas import ItemDetail, ItemOut, ItemPage, JobOut
from service.db import Database
from service.errors import InvalidInputError
from service.loop.audit import audits_of
from service.models import FindingRow, Instance, Item, ItemStatus, Job, Observation
from service.outbox import writeback_states
from service.storage import FileRemovedError
from service.taxonomy import CODES, Kind, Severity

log = logging.getLogger(__name__)

router = APIRouter()
Admin = Annotated[Principal, require_roles("admin")]

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
CSV_BATCH = 500
CSV_COLUMNS = (
    "id",
    "kind",
    "status",
    "flagged",
    "sop_instance_uid",
    "study_instance_uid",
    "accession",
    "report_id",
    "report_version",
    "received_at",
    "processed_at",
    "codes",
    "worst_severity",
)


@dataclass(frozen=True, slots=True)
class ItemFilters:
    """The validated filters of an item query; every one given must hold."""

    kind: Kind | None = None
    status: ItemStatus | None = None
    flagged: bool | None = None
    code: str | None = None
    severity: Severity | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    sop_instance_uid: str | None = None
    study_instance_uid: str | None = None
    accession: str | None = None
    report_id: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        equal: dict[str, Any] = {
            "kind": self.kind,
            "status": self.status,
            "flagged": self.flagged,
            "sop_instance_uid": self.sop_instance_uid,
            "study_instance_uid": self.study_instance_uid,
            "accession": self.accession,
            "report_id": self.report_id,
        }
        where.extend(
            getattr(Item, name) == value for name, value in equal.items() if value is not None
        )
        if self.since is not None:
            where.append(Item.received_at >= self.since)
        if self.until is not None:
            where.append(Item.received_at < self.until)
        finding: list[ColumnElement[bool]] = []
        if self.code is not None:
            finding.append(FindingRow.code == self.code)
        if self.severity is not None:
            finding.append(FindingRow.severity == self.severity.value)
        if finding:  # one finding must match both code and severity when both are given
            where.append(Item.findings.any(and_(*finding)))
        return where


def parse_time(name: str, value: str | None) -> dt.datetime | None:
    """An ISO 8601 date or date-time; without a timezone it is taken as UTC."""
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
        return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidInputError(
            f"{name}: not an ISO 8601 date-time (e.g. 2024-05-01T08:00:00Z)",
            location=name,
        ) from exc


def check_code(code: str | None) -> str | None:
    if code is not None and code not in CODES:
        raise InvalidInputError(
            f"code: unknown finding code; known codes: {', '.join(CODES)}",
            location="code",
        )
    return code


def item_filters(
    kind: Annotated[Kind | None, Query(description="image | report")] = None,
    status: Annotated[ItemStatus | None, Query()] = None,
    flagged: Annotated[bool | None, Query(description="true: items with findings")] = None,
    code: Annotated[str | None, Query(description="items with a finding of this code")] = None,
    severity: Annotated[
        Severity | None,
        Query(description="items with a finding of this severity (the same finding as code)"),
    ] = None,
    since: Annotated[
        str | None, Query(description="received at or after (ISO 8601; no timezone means UTC)")
    ] = None,
    until: Annotated[
        str | None, Query(description="received before (ISO 8601; no timezone means UTC)")
    ] = None,
    sop_instance_uid: Annotated[str | None, Query(max_length=64)] = None,
    study_instance_uid: Annotated[str | None, Query(max_length=64)] = None,
    accession: Annotated[str | None, Query(max_length=64)] = None,
    report_id: Annotated[str | None, Query(max_length=64)] = None,
) -> ItemFilters:
    """The query's filters, validated: 422 with a message naming the bad parameter."""
    try:
        filters = ItemFilters(
            kind=kind,
            status=status,
            flagged=flagged,
            code=check_code(code),
            severity=severity,
            since=parse_time("since", since),
            until=parse_time("until", until),
            sop_instance_uid=sop_instance_uid,
            study_instance_uid=study_instance_uid,
            accession=accession,
            report_id=report_id,
        )
    except InvalidInputError as exc:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    if filters.since and filters.until and filters.since >= filters.until:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_CONTENT, "since must be earlier than until")
    return filters


Filters = Annotated[ItemFilters, Depends(item_filters)]


def item_query(filters: ItemFilters) -> Select[Item]:
    """The matching items with their findings (and an image's file removal), in no order yet."""
    return (
        select(Item)
        .where(*filters.conditions())
        .options(
            selectinload(Item.findings),
            # in the page's own statement (a join on the instance's key): still two SELECTs
            joinedload(Item.instance).load_only(Instance.file_removed_at),
        )
    )


def page_query(filters: ItemFilters, start: pagination.Key | None, size: int) -> Select[Item]:
    """Up to ``size`` matching items after ``start``, newest first, with their findings."""
    return pagination.ITEMS.ordered(item_query(filters), start).limit(size)


def read_page(
    session: Session, filters: ItemFilters, start: pagination.Key | None, limit: int
) -> ItemPage:
    page = pagination.ITEMS.read(session, item_query(filters), start, limit)
    return ItemPage(items=[ItemOut.of(row) for row in page.rows], next_cursor=page.next_cursor)


@router.get(
    "/items",
    response_model=ItemPage,
    summary="List items, newest first",
    responses={
        200: {
            "content": {"text/csv": {}},
            "description": "JSON page, or with format=csv every matching item",
        },
        400: {"description": "invalid cursor"},
        422: {"description": "invalid filter"},
    },
)
def list_items(
    request: Request,
    _principal: Reader,
    filters: Filters,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_LIMIT,
            description=f"page size (default {DEFAULT_LIMIT}); with csv, "
            "the most rows to export (default: every matching item)",
        ),
    ] = None,
    format: Annotated[
        Literal["json", "csv"],
        Query(description="csv: every matching item, newest first (the cursor is ignored)"),
    ] = "json",
) -> ItemPage | StreamingResponse:
    db = components(request).db
    if format == "csv":
        return csv_response(db, filters, limit)
    start = pagination.start_of(pagination.ITEMS, cursor)
    with db.reader() as session:
        return read_page(session, filters, start, limit or DEFAULT_LIMIT)


@router.get(
    "/items/{item_id}",
    response_model=ItemDetail,
    summary="One item with its findings, audits, Observations (and their write-back) and jobs",
    responses={404: {"description": "no such item"}},
)
def get_item(request: Request, _principal: Reader, item_id: RowId) -> ItemDetail:
    comps = components(request)
    with comps.db.reader() as session:
        item = session.scalars(
            select(Item).where(Item.id == item_id).options(selectinload(Item.findings))
        ).one_or_none()
        if item is None:
            raise HTTPException(http.HTTP_404_NOT_FOUND, f"item {item_id} does not exist")
        observations = session.scalars(
            select(Observation).where(Observation.item_id == item_id).order_by(Observation.id)
        ).all()
        jobs = session.scalars(select(Job).where(Job.item_id == item_id).order_by(Job.id)).all()
        states = writeback_states(
            session,
            [row.id for row in observations],
            enabled=bool(comps.settings.fhir_writeback_url),
        )
        audits = audits_of(session, item_id)
        return ItemDetail.build(item, list(observations), list(jobs), audits, states)


@router.post(
    "/items/{item_id}/reprocess",
    response_model=JobOut,
    status_code=http.HTTP_202_ACCEPTED,
    summary="Run QC on the item again (admin): its QC job is queued again",
    responses={
        404: {"description": "no such item"},
        409: {"description": "the image's stored file was removed by retention"},
    },
)
def reprocess_item(request: Request, _principal: Admin, item_id: RowId) -> JobOut:
    comps = components(request)
    with comps.db.transaction() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise HTTPException(http.HTTP_404_NOT_FOUND, f"item {item_id} does not exist")
        removed = item.instance.file_removed_at if item.instance is not None else None
        if removed is not None:
            raise HTTPException(http.HTTP_409_CONFLICT, str(FileRemovedError(item_id, removed)))
        key = f"item:{item_id}"  # the QC job ingest queued (service.ingest)
        queue.enqueue(
            session,
            queue.QC,
            key,
            item_id=item_id,
            max_attempts=comps.queue_options.max_attempts,
            requeue=True,
        )
        log.info("item %s queued for QC again", item_id)
        return JobOut.of(session.scalars(select(Job).where(Job.key == key)).one())


# -- CSV export -----------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    """A CSV cell; text a spreadsheet would run as a formula is prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


_CSV_ITEM_COLUMNS = (
    Item.id,
    Item.kind,
    Item.status,
    Item.flagged,
    Item.sop_instance_uid,
    Item.study_instance_uid,
    Item.accession,
    Item.report_id,
    Item.report_version,
    Item.received_at,
    Item.processed_at,
)
_RANK = {severity.value: severity.rank for severity in Severity}


def csv_row(item: Row[*tuple[Any, ...]], findings: list[tuple[str, str]]) -> list[str]:
    """One item's cells: its columns (``_CSV_ITEM_COLUMNS``), then its codes and worst
    severity from ``findings`` (code, severity)."""
    codes = sorted({code for code, _ in findings})
    worst = max((severity for _, severity in findings), key=_RANK.__getitem__, default=None)
    return [_cell(value) for value in (*item, ";".join(codes), worst)]


def csv_batch(
    session: Session, filters: ItemFilters, start: pagination.Key | None, size: int
) -> tuple[list[list[str]], pagination.Key | None]:
    """Up to ``size`` matching items after ``start`` as CSV rows, and the key of the last one.

    Two Core SELECTs (the items' columns in keyset order, then their findings' code and
    severity), no ORM objects: building 100,000 items with their findings as ORM objects was
    most of a 100,000-row export's time (bench/growth)."""
    stmt = select(*_CSV_ITEM_COLUMNS).where(*filters.conditions())
    rows = session.execute(pagination.ITEMS.ordered(stmt, start).limit(size)).all()
    if not rows:
        return [], None
    found: dict[int, list[tuple[str, str]]] = {}
    findings = select(FindingRow.item_id, FindingRow.code, FindingRow.severity).where(
        FindingRow.item_id.in_([row.id for row in rows])
    )
    for item_id, code, severity in session.execute(findings):
        found.setdefault(item_id, []).append((code, severity))
    return [csv_row(row, found.get(row.id, [])) for row in rows], pagination.ITEMS.key_of(rows[-1])


def csv_lines(
    db: Database, filters: ItemFilters, limit: int | None = None, batch: int = CSV_BATCH
) -> Iterator[str]:
    """The header, then every matching item (at most ``limit``), one short read transaction
    per batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    start: pagination.Key | None = None
    exported = 0
    while True:
        size = batch if limit is None else min(batch, limit - exported)
        with db.reader() as session:
            rows, start = csv_batch(session, filters, start, size)
        writer.writerows(rows)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        exported += len(rows)
        if len(rows) < size or exported == limit:
            log.info("CSV export of %d items finished", exported)
            return


def csv_response(db: Database, filters: ItemFilters, limit: int | None) -> StreamingResponse:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        csv_lines(db, filters, limit),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="radqc-items-{stamp}.csv"'},
    )
