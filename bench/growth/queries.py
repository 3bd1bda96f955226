"""The dashboards' queries: each one as an HTTP request (what is timed) and as the same call
into radqc's own query functions (what is ``EXPLAIN ANALYZE``d, statement by statement).

Values that pick one row (a SOP Instance UID, an accession, a patient) change from call to call
(drawn from the data), so a lookup is not timed on one cached row; filters stay the same, as a
dashboard repeats them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from fhir_adapter.routes_observations import _run as run_search
from fhir_adapter.search import SORTS, parse_search
from service.api import items as items_api
from service.api import pagination
from service.loop.audited_sample import SampleQuery, load_sample
from service.loop.evaluation import load_verdicts
from service.models import ItemStatus
from service.taxonomy import Severity
from service.ui.worklist import WorklistFilters, progress, worklist

Params = list[tuple[str, str]]


@dataclass
class Samples:
    """Values drawn from the generated data for the queries to use."""

    newest: dt.datetime
    sops: list[str]
    studies: list[str]
    accessions: list[str]
    report_ids: list[str]
    report_refs: list[str]  # DiagnosticReport/<id>
    patients: list[str]  # Patient/p<n> of reports
    mrns: list[str]  # urn:radqc:dicom-patient-id|MRN... of images
    deep: dict[str, str] = field(default_factory=dict)  # name -> an items cursor
    fhir_deep: str = ""  # a _cursor half-way through code=cxr.exposure by _id
    csv_since: str = ""  # the receive time of the CSV export's oldest row

    def day(self, days_ago: int) -> str:
        return (self.newest - dt.timedelta(days=days_ago)).date().isoformat()

    def since(self, days: int) -> str:
        return (self.newest - dt.timedelta(days=days)).isoformat()


def _column(conn: Any, sql: str, **params: Any) -> list[str]:
    return [str(value) for value in conn.execute(text(sql), params).scalars()]


def draw_samples(engine: Engine, csv_rows: int, per_kind: int = 60, seed: float = 0.42) -> Samples:
    """Random rows by id (``setseed`` makes the draw the same for both phases)."""
    with engine.connect() as conn:
        conn.execute(text("SELECT setseed(:s)"), {"s": seed})
        top = int(conn.execute(text("SELECT max(id) FROM items")).scalar_one())
        newest = conn.execute(text("SELECT max(received_at) FROM items")).scalar_one()
        ids = [int(v) for v in conn.execute(
            text("SELECT (random() * :top)::int + 1 FROM generate_series(1, :n)"),
            {"top": top - 1, "n": per_kind * 8},
        ).scalars()]  # fmt: skip
        images = "SELECT {c} FROM items WHERE kind = 'image' AND id = ANY(:ids) LIMIT :n"
        reports = "SELECT {c} FROM items WHERE kind = 'report' AND id = ANY(:ids) LIMIT :n"
        subjects = (
            "SELECT DISTINCT o.subject FROM observations o JOIN items i ON i.id = o.item_id "
            "WHERE i.kind = :k AND i.id = ANY(:ids) AND o.code = 'qc.summary' LIMIT :n"
        )
        samples = Samples(
            newest=newest,
            sops=_column(conn, images.format(c="sop_instance_uid"), ids=ids, n=per_kind),
            studies=_column(conn, images.format(c="study_instance_uid"), ids=ids, n=per_kind),
            accessions=_column(conn, images.format(c="accession"), ids=ids, n=per_kind),
            report_ids=_column(conn, reports.format(c="report_id"), ids=ids, n=per_kind),
            report_refs=[
                f"DiagnosticReport/{r}"
                for r in _column(conn, reports.format(c="report_id"), ids=ids, n=per_kind)
            ],
            patients=_column(conn, subjects, k="report", ids=ids, n=per_kind),
            mrns=_column(conn, subjects, k="image", ids=ids, n=per_kind),
        )
        count = int(conn.execute(text("SELECT count(*) FROM items")).scalar_one())
        oldest = conn.execute(
            text("SELECT received_at FROM items ORDER BY received_at DESC, id DESC "
                 "OFFSET :d LIMIT 1"),
            {"d": min(csv_rows, count) - 1},
        ).scalar_one()  # fmt: skip
        samples.csv_since = oldest.astimezone(dt.UTC).isoformat()
        for name, share in (("10%", 0.1), ("50%", 0.5), ("90%", 0.9)):
            received, item_id = conn.execute(
                text("SELECT received_at, id FROM items ORDER BY received_at DESC, id DESC "
                     "OFFSET :d LIMIT 1"),
                {"d": int(count * share)},
            ).one()  # fmt: skip
            received = received.astimezone(dt.UTC)
            samples.deep[name] = pagination.ITEMS.encode((received, int(item_id)))
        exposure = int(
            conn.execute(
                text("SELECT count(*) FROM observations WHERE code = 'cxr.exposure'")
            ).scalar_one()
        )
        half = conn.execute(
            text("SELECT id FROM observations WHERE code = 'cxr.exposure' ORDER BY id "
                 "OFFSET :d LIMIT 1"),
            {"d": exposure // 2},
        ).scalar_one_or_none()  # fmt: skip
        if half is not None:
            samples.fhir_deep = SORTS["_id"].encode((str(half),))
    return samples


@dataclass
class Query:
    """One dashboard query: ``params(samples, call)`` makes the request of call number
    ``call``; ``explain(session, samples)`` runs radqc's own functions for the same query."""

    name: str
    path: str
    params: Callable[[Samples, int], Params]
    explain: Callable[[Session, Samples], object] | None = None
    method: str = "GET"
    body: Callable[[Samples], dict[str, Any]] | None = None
    role: str = "reader"  # reader | auditor | page (auditor token in the page cookie)
    calls: int | None = None  # None: the run's --calls
    stream: bool = False  # CSV: read the whole streamed body


def _fixed(*pairs: tuple[str, str]) -> Callable[[Samples, int], Params]:
    return lambda _s, _i: list(pairs)


def _items_explain(params: Callable[[Samples, int], Params], batch: int = 50) -> Callable[
    [Session, Samples], object
]:  # fmt: skip
    """radqc's item-list read for the same parameters (the first call's)."""

    def run(session: Session, samples: Samples) -> object:
        given = dict(params(samples, 0))
        cursor = given.pop("cursor", None)
        given.pop("format", None)
        given.pop("limit", None)
        typed: dict[str, Any] = dict(given)  # as FastAPI converts them
        if "flagged" in given:
            typed["flagged"] = given["flagged"] == "true"
        if "severity" in given:
            typed["severity"] = Severity(given["severity"])
        if "status" in given:
            typed["status"] = ItemStatus(given["status"])
        filters = items_api.item_filters(**typed)
        start = pagination.start_of(pagination.ITEMS, cursor)
        return items_api.read_page(session, filters, start, batch)

    return run


def _fhir_explain(params: Callable[[Samples, int], Params]) -> Callable[[Session, Samples], object]:
    def run(session: Session, samples: Samples) -> object:
        return run_search(session, parse_search(params(samples, 0)))

    return run


def _worklist_explain(state: str, code: str | None = None) -> Callable[[Session, Samples], object]:
    def run(session: Session, _samples: Samples) -> object:
        return worklist(session, WorklistFilters(code=code, state=state)), progress(session)

    return run


def _evaluation_explain(session: Session, samples: Samples) -> object:
    since = samples.newest - dt.timedelta(days=30)
    sample = load_sample(session, SampleQuery(since=since))
    return load_verdicts(session, sample)


def _pick(values: list[str], call: int) -> str:
    return values[call % len(values)]


def _items(name: str, make: Callable[[Samples, int], Params], calls: int | None = None) -> Query:
    return Query(f"items {name}", "/api/v1/items", make, _items_explain(make), calls=calls)


def _fhir(name: str, make: Callable[[Samples, int], Params]) -> Query:
    return Query(f"fhir {name}", "/fhir/Observation", make, _fhir_explain(make))


def all_queries(csv_rows: int = 100_000) -> list[Query]:
    day = lambda s, _i: [("since", s.day(100)), ("until", s.day(99))]  # noqa: E731
    return [
        _items("first page", _fixed()),
        _items("kind=image", _fixed(("kind", "image"))),
        _items("kind=report", _fixed(("kind", "report"))),
        _items("status=failed", _fixed(("status", "failed"))),
        _items("status=processing", _fixed(("status", "processing"))),
        _items("flagged=true", _fixed(("flagged", "true"))),
        _items("flagged=false", _fixed(("flagged", "false"))),
        _items("code=cxr.metadata (common)", _fixed(("code", "cxr.metadata"))),
        _items("code=cxr.scapula (middle)", _fixed(("code", "cxr.scapula"))),
        _items("code=report.sex (rare)", _fixed(("code", "report.sex"))),
        _items("severity=critical", _fixed(("severity", "critical"))),
        _items("code+severity", _fixed(("code", "cxr.exposure"), ("severity", "critical"))),
        _items("one day (since+until)", day),
        _items("last 30 days flagged images",
               lambda s, _i: [("since", s.since(30)), ("flagged", "true"), ("kind", "image")]),
        _items("sop_instance_uid=", lambda s, i: [("sop_instance_uid", _pick(s.sops, i))]),
        _items("study_instance_uid=", lambda s, i: [("study_instance_uid", _pick(s.studies, i))]),
        _items("accession=", lambda s, i: [("accession", _pick(s.accessions, i))]),
        _items("report_id=", lambda s, i: [("report_id", _pick(s.report_ids, i))]),
        _items("page at 10% depth", lambda s, _i: [("cursor", s.deep["10%"])]),
        _items("page at 50% depth", lambda s, _i: [("cursor", s.deep["50%"])]),
        _items("page at 90% depth", lambda s, _i: [("cursor", s.deep["90%"])]),
        _items("flagged=true at 50% depth",
               lambda s, _i: [("flagged", "true"), ("cursor", s.deep["50%"])]),
        _items("code=report.sex at 50% depth",
               lambda s, _i: [("code", "report.sex"), ("cursor", s.deep["50%"])]),
        # ``limit`` cannot ask for more than 500 rows (MAX_LIMIT applies to CSV too): the
        # export is of every item received since the csv_rows-th newest one.
        Query(f"items CSV {csv_rows:,} rows", "/api/v1/items",
              lambda s, _i: [("format", "csv"), ("since", s.csv_since)],
              _items_explain(lambda s, _i: [("since", s.csv_since), ("cursor", s.deep["10%"])],
                             batch=items_api.CSV_BATCH),
              calls=3, stream=True),
        _fhir("code=cxr.exposure", _fixed(("code", "cxr.exposure"))),
        _fhir("code=report.sex (rare)", _fixed(("code", "report.sex"))),
        _fhir("code=cxr.exposure _total=none",
              _fixed(("code", "cxr.exposure"), ("_total", "none"))),
        _fhir("date=one day", lambda s, _i: [("date", s.day(100))]),
        _fhir("date=ge/lt a week",
              lambda s, _i: [("date", f"ge{s.day(107)}"), ("date", f"lt{s.day(100)}")]),
        _fhir("_lastUpdated=one day", lambda s, _i: [("_lastUpdated", s.day(100))]),
        # "Stored since" (what a watcher polls for) is _lastUpdated: date means the study's or
        # report's time (effective, issue 11), not when radqc stored the Observation.
        _fhir("code=qc.summary&_lastUpdated=ge<1 min ago>",
              lambda s, _i: [("code", "qc.summary"),
                             ("_lastUpdated", "ge" + (s.newest - dt.timedelta(minutes=1)).strftime(
                                 "%Y-%m-%dT%H:%M:%SZ"))]),
        _fhir("patient=", lambda s, i: [("patient", _pick(s.patients, i))]),
        _fhir("subject:identifier= (image MRN)",
              lambda s, i: [("subject:identifier", _pick(s.mrns, i))]),
        _fhir("code+patient",
              lambda s, i: [("code", "qc.summary"), ("patient", _pick(s.patients, i))]),
        _fhir("code+date (a month)",
              lambda s, _i: [("code", "cxr.exposure"), ("date", s.day(100)[:7])]),
        _fhir("derived-from=DiagnosticReport/",
              lambda s, i: [("derived-from", _pick(s.report_refs, i))]),
        _fhir("code _sort=-_lastUpdated",
              _fixed(("code", "cxr.exposure"), ("_sort", "-_lastUpdated"))),
        _fhir("code at 50% depth (_cursor)",
              lambda s, _i: [("code", "cxr.exposure"), ("_cursor", s.fhir_deep)]),
        Query("worklist pending", "/ui/worklist", _fixed(), _worklist_explain("pending"),
              role="page"),
        Query("worklist all", "/ui/worklist", _fixed(("state", "all")),
              _worklist_explain("all"), role="page"),
        Query("worklist code=cxr.exposure all", "/ui/worklist",
              _fixed(("state", "all"), ("code", "cxr.exposure")),
              _worklist_explain("all", "cxr.exposure"), role="page"),
        Query("evaluation over 30 days", "/api/v1/evaluations", _fixed(), _evaluation_explain,
              method="POST", body=lambda s: {"since": s.since(30)}, role="auditor", calls=3),
    ]  # fmt: skip
