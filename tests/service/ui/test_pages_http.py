"""The pages over HTTP on SQLite and PostgreSQL: errors a person can act on, the dashboard's
filters, counts and write-back state, the QC lead's pages, the worklist's words and order
(issue 15 items 7, 9 and 10; issue 14's dashboard)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select, update

from service.components import Components
from service.engines.base import Finding
from service.findings import replace_findings
from service.loop.models import AuditSelection, EvaluationRun
from service.models import Item, Observation, OutboxEntry
from service.taxonomy import Severity
from tests.service.api.conftest import ADMIN, AUDITOR, READER, make_app
from tests.service.api.support import add_report
from tests.support.servers import serve_app

NAV = '<nav aria-label="Pages">'


@pytest.fixture
def ui(pages_comps: Components, pages_ids: dict[str, int]) -> Iterator[httpx.Client]:
    with (
        serve_app(make_app(pages_comps)) as url,
        httpx.Client(base_url=url, cookies={"radqc_token": AUDITOR}, timeout=20) as client,
    ):
        yield client


def _is_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert NAV in response.text and 'href="#main"' in response.text
    return response.text


def test_errors_are_pages_a_person_can_act_on(ui: httpx.Client) -> None:
    """Issue 15: a missing item, a bad id, a bad date filter and a missing evaluation answered
    raw JSON on the pages."""
    page = _is_page(ui.get("/ui/items/999999"), 404)
    assert "There is no item 999999" in page and 'href="/ui/dashboard"' in page
    assert "whole number" in _is_page(ui.get("/ui/items/not-a-number"), 422)
    assert "whole number" in _is_page(ui.get("/ui/items/0"), 422)
    page = _is_page(ui.get("/ui/worklist?since=SECRET-VALUE-42"), 422)
    assert "“Received from” is not a date" in page and "YYYY-MM-DD" in page
    assert "SECRET-VALUE-42" not in page  # nothing the person sent is repeated
    assert "“until” is not a date" in _is_page(ui.get("/ui/dashboard?until=31/12/2024"), 422)
    assert "is not known" in _is_page(ui.get("/ui/dashboard?code=cxr.nope"), 422)
    assert "page link is broken" in _is_page(ui.get("/ui/dashboard?cursor=xyz"), 400)
    page = _is_page(ui.get("/ui/evaluations/4242"), 404)
    assert "no evaluation run 4242" in page and 'href="/ui/evaluations"' in page
    assert "no page at this address" in _is_page(ui.get("/ui/no-such-page"), 404)
    # the REST API, the film and the static files keep their JSON errors
    api = ui.get("/api/v1/items/999999", headers={"Authorization": f"Bearer {READER}"})
    assert api.status_code == 404 and api.json()["message"]
    assert ui.get("/ui/items/999999/image.png").headers["content-type"] == "application/json"
    bad_api = ui.get("/api/v1/items?since=x", headers={"Authorization": f"Bearer {READER}"})
    assert bad_api.status_code == 422 and "message" in bad_api.json()


def test_a_date_alone_means_that_whole_day(ui: httpx.Client, pages_ids: dict[str, int]) -> None:
    today = dt.datetime.now(dt.UTC).date().isoformat()
    page = ui.get(f"/ui/worklist?state=all&since={today}&until={today}").text
    assert f'href="/ui/items/{pages_ids["report"]}"' in page  # received today: within "until today"


def test_dashboard_filters_counts_and_writeback(
    ui: httpx.Client, pages_comps: Components, pages_ids: dict[str, int]
) -> None:
    page = ui.get("/ui/dashboard").text  # flagged items by default
    listed = {int(i) for i in re.findall(r'<tr data-item="(\d+)">', page)}
    assert listed == {pages_ids["report"], pages_ids["small"], pages_ids["large"]}
    assert "write-back off" in page
    today = dt.datetime.now(dt.UTC).date().isoformat()
    # the plot: one row per code, a bar per day with the count of items in its tooltip
    assert f"<title>Exposure, {today}: 1</title>" in page
    assert f"<title>Left/right confusion, {today}: 1</title>" in page
    assert len(re.findall(r"class='row-label'", page)) == 8

    page = ui.get("/ui/dashboard", params={"code": "cxr.exposure"}).text
    assert {int(i) for i in re.findall(r'<tr data-item="(\d+)">', page)} == {pages_ids["small"]}
    assert len(re.findall(r"class='row-label'", page)) == 1  # the plot follows the filter
    page = ui.get("/ui/dashboard", params={"flagged": "no"}).text
    assert {int(i) for i in re.findall(r'<tr data-item="(\d+)">', page)} == {pages_ids["clean"]}
    page = ui.get("/ui/dashboard", params={"flagged": "any", "severity": "critical"}).text
    assert {int(i) for i in re.findall(r'<tr data-item="(\d+)">', page)} == {pages_ids["report"]}
    page = ui.get("/ui/dashboard", params={"flagged": "any", "accession": "PG-2"}).text
    assert {int(i) for i in re.findall(r'<tr data-item="(\d+)">', page)} == {pages_ids["clean"]}
    long_ago = ui.get("/ui/dashboard", params={"since": "2001-01-01", "until": "2001-02-01"})
    assert "No items match these filters." in long_ago.text
    assert "No findings in this period." in long_ago.text

    # write-back state: one Observation delivered, one retrying after an error
    with pages_comps.db.transaction() as session:
        observations = session.scalars(
            select(Observation).where(Observation.item_id == pages_ids["report"])
        ).all()
        delivered, failing = observations[0], observations[1]
        session.add(
            OutboxEntry(
                observation_id=delivered.id,
                observation_version=delivered.version,
                status="delivered",
                delivered_at=dt.datetime.now(dt.UTC),
            )
        )
        session.add(
            OutboxEntry(
                observation_id=failing.id,
                observation_version=failing.version,
                attempts=2,
                last_error="HTTP 503 from the FHIR server (will retry)",
            )
        )
    page = ui.get("/ui/dashboard").text
    row = re.search(rf'<tr data-item="{pages_ids["report"]}">.*?</tr>', page, re.S)
    assert row is not None and "1 retrying" in row.group(0) and "1 delivered" in row.group(0)
    item = ui.get(f"/ui/items/{pages_ids['report']}").text
    assert 'data-state="retrying"' in item and "retrying (attempt 2)" in item
    assert 'data-state="delivered"' in item
    assert "HTTP 503 from the FHIR server" not in item  # the server's words: admins only
    ui.cookies.set("radqc_token", ADMIN)
    item = ui.get(f"/ui/items/{pages_ids['report']}").text
    assert "(attempt 2): HTTP 503 from the FHIR server" in item


def test_dashboard_pages_through_items(ui: httpx.Client, pages_ids: dict[str, int]) -> None:
    from service.ui import dashboard

    saved = dashboard.PAGE_SIZE
    dashboard.PAGE_SIZE = 2
    try:
        first = ui.get("/ui/dashboard?flagged=any").text
        older = re.search(r'href="(/ui/dashboard\?[^"]+)" id="older"', first)
        assert older is not None
        second = ui.get(older.group(1).replace("&amp;", "&")).text
    finally:
        dashboard.PAGE_SIZE = saved
    seen = re.findall(r'<tr data-item="(\d+)">', first) + re.findall(
        r'<tr data-item="(\d+)">', second
    )
    assert sorted(int(i) for i in seen) == sorted(
        pages_ids[k] for k in ("report", "small", "large", "clean")
    )


def test_worklist_words_and_next_item_down_the_list(
    ui: httpx.Client, pages_comps: Components, pages_ids: dict[str, int]
) -> None:
    page = ui.get("/ui/worklist").text
    for heading in ("Accession", "Report", "Why drawn", "Chance drawn", "Most serious"):
        assert f'<th scope="col">{heading}</th>' in page or f">{heading}</th>" in page
    assert "P(drawn)" not in page and "rare_code" not in page
    assert "PG-1" in page and "pg-rep-2" in page
    assert re.search(r'<b id="progress-done">1</b> audited, <b id="progress-left">3</b>', page)
    order = [int(i) for i in re.findall(r'<tr data-item="(\d+)"', page)]
    assert pages_ids["report"] not in order and len(order) == 3  # audited: no longer pending
    # make the list's order differ from the pages_ids' order: the second item drawn first
    with pages_comps.db.transaction() as session:
        first = session.scalar(select(AuditSelection.selected_at).order_by(AuditSelection.id))
        assert first is not None
        for n, item_id in enumerate(reversed(order)):
            session.execute(
                update(AuditSelection)
                .where(AuditSelection.item_id == item_id)
                .values(selected_at=first + dt.timedelta(seconds=n))
            )
    order = [int(i) for i in re.findall(r'<tr data-item="(\d+)"', ui.get("/ui/worklist").text)]
    for here, following in zip(order, [*order[1:], order[0]], strict=True):
        item = ui.get(f"/ui/items/{here}").text
        assert f'href="/ui/items/{following}" id="next-link"' in item  # down, then round
    report = ui.get(f"/ui/items/{pages_ids['report']}").text  # audited: next is the first pending
    assert f'href="/ui/items/{order[0]}" id="next-link"' in report


def test_evaluation_page_explains_and_clips(
    ui: httpx.Client, pages_comps: Components, pages_ids: dict[str, int]
) -> None:
    page = ui.get(f"/ui/evaluations/{pages_ids['run']}").text
    for words in ("harmonic mean", "each type counting the same", "can exceed 100%", "Wilson"):
        assert words in page
    # a stored run whose interval ends lie outside 0..1 (bootstrap and Wilson ends can)
    with pages_comps.db.transaction() as session:
        run = session.get(EvaluationRun, pages_ids["run"])
        assert run is not None
        metrics = dict(run.metrics)
        metrics["micro_f1"] = {"value": 0.9, "low": -0.08, "high": 1.2, "n": 3}
        code = next(iter(metrics["per_code"]))
        per_code = dict(metrics["per_code"])
        per_code[code] = dict(per_code[code]) | {
            "precision": {"value": 0.95, "low": 0.7, "high": 1.3, "n": 3}
        }
        metrics["per_code"] = per_code
        metrics["comparisons"] = [
            {"a": "x", "b": "y", "micro_f1_difference": 0.5, "low": -1.4, "high": 1.6}
        ]
        run.metrics = metrics
    page = ui.get(f"/ui/evaluations/{pages_ids['run']}").text
    assert '0.900</td><td data-label="95% interval">[0.000, 1.000]</td>' in page
    assert "0.950 [0.700, 1.000]" in page
    assert "0.500 [-1.000, 1.000]" in page
    assert "1.200" not in page and "-0.080" not in page and "1.300" not in page
    bars = re.search(r"<title>Precision, recall and F1 per code</title>.*?</svg>", page, re.S)
    assert bars is not None
    whiskers = re.findall(r"<line x1='([\d.]+)' y1='[\d.]+' x2='([\d.]+)'[^>]*whisker", bars[0])
    assert whiskers
    for x1, x2 in whiskers:
        assert 8 <= float(x1) <= float(x2) <= 8 + 420  # drawn within the 0..100% axis
    over_time = re.search(r"<title>F1 over time</title>.*?</svg>", page, re.S)
    assert over_time is not None
    for y1, y2 in re.findall(
        r"<line x1='[\d.]+' y1='([\d.]+)' x2='[\d.]+' y2='([\d.]+)'", over_time[0]
    ):
        assert 20 <= float(y2) <= float(y1) <= 220  # inside the 0..1 axis


def test_drift_engines_and_canaries(ui: httpx.Client, pages_ids: dict[str, int]) -> None:
    page = ui.get("/ui/drift").text
    laterality = re.search(r'<tr data-code="report.laterality">.*?</tr>', page, re.S)
    typo = re.search(r'<tr data-code="report.typo">.*?</tr>', page, re.S)
    assert laterality is not None and typo is not None
    assert "100.0%" in laterality.group(0) and "below floor" not in laterality.group(0)
    assert "0.0%" in typo.group(0) and "below floor" in typo.group(0)  # 0 of 1 confirmed
    assert "class='floor'" in page and "Rolling precision" in page
    assert "last <b>7</b> days" in ui.get("/ui/drift?days=7").text
    assert "days" in _is_page(ui.get("/ui/drift?days=0"), 422)

    page = ui.get("/ui/engines").text
    assert f'data-config="{pages_ids["champion"]}" data-role="champion"' in page
    assert f'data-config="{pages_ids["challenger"]}" data-role="challenger"' in page
    assert f'href="/ui/engines?challenger={pages_ids["challenger"]}#comparison"' in page
    assert "first champion: the configuration running at start-up" in page  # the trail
    page = ui.get(f"/ui/engines?challenger={pages_ids['challenger']}").text
    table = re.search(r'<table class="worklist" id="comparison-table">.*?</table>', page, re.S)
    assert table is not None and "Macro-F1" in table.group(0)
    assert "Typo or dictation error" in table.group(0)
    same = ui.get(f"/ui/engines?challenger={pages_ids['champion']}").text
    assert 'id="comparison-error"' in same and "two different configurations" in same

    page = ui.get("/ui/canaries").text
    rows = re.findall(r"<tr><td>([^<]+)</td><td>Left/right confusion.*?</tr>", page, re.S)
    assert len(rows) == 2
    assert "66.7%" in page and "100.0%" in page  # challenger caught 2 of 3, champion 3 of 3


def test_reader_sees_pages_without_audit_controls(
    pages_comps: Components, pages_ids: dict[str, int]
) -> None:
    with (
        serve_app(make_app(pages_comps)) as url,
        httpx.Client(base_url=url, cookies={"radqc_token": READER}, timeout=20) as client,
    ):
        for path in ("/ui/dashboard", "/ui/drift", "/ui/engines", "/ui/canaries"):
            assert client.get(path).status_code == 200, path
        item = client.get(f"/ui/items/{pages_ids['small']}").text
    assert "Submit audit" not in item and 'class="confirm"' not in item
    assert 'svg class="marks"' in item


def test_items_received_long_ago_are_counted_by_week(
    ui: httpx.Client, pages_comps: Components, pages_ids: dict[str, int]
) -> None:
    start = dt.datetime(2024, 1, 3, 10, tzinfo=dt.UTC)  # a Wednesday
    with pages_comps.db.transaction() as session:
        for n, key in enumerate(("report", "small", "large")):
            session.execute(
                update(Item)
                .where(Item.id == pages_ids[key])
                .values(received_at=start + dt.timedelta(days=7 * n))
            )
    page = ui.get("/ui/dashboard", params={"since": "2024-01-01", "until": "2024-06-30"}).text
    assert "(per week)" in page
    assert "<title>Left/right confusion, 2024-01-01: 1</title>" in page  # that week's Monday
    assert "<title>Exposure, 2024-01-08: 1</title>" in page
    assert "<title>Anatomy cut off, 2024-01-15: 1</title>" in page


def test_two_problems_of_one_code_are_two_findings_on_the_page(
    ui: httpx.Client, pages_comps: Components
) -> None:
    """Issue 15 item 6: each problem is its own finding with its own verdict and an accessible
    name of its own (code and message), not one Confirm/Reject for both."""
    text = "FINDINGS: Lft lung clear. Rt lung clear.\nIMPRESSION: normal."
    item_id = add_report(pages_comps, "pg-two-problems", text=text)
    found = [
        Finding(
            "report.typo",
            Severity.MINOR,
            f"“{word}” looks misspelt.",
            [evidence],
            0.7,
            "rules",
            "t",
        )
        for word, evidence in (
            ("Lft", {"section": "findings", "start": 10, "end": 13, "quote": "Lft"}),
            ("Rt", {"section": "findings", "start": 26, "end": 28, "quote": "Rt"}),
        )
    ]
    with pages_comps.db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        replace_findings(session, item, "rules", "item", found)
    page = ui.get(f"/ui/items/{item_id}").text
    rows = re.findall(
        r'<li class="finding[^"]*"[^>]*data-finding="(\d+)"[^>]*'
        r'aria-labelledby="f-title-(\d+) f-msg-(\d+)"',
        page,
    )
    assert len(rows) == 2 and len({r[0] for r in rows}) == 2
    assert all(a == b == c for a, b, c in rows)
    for finding_id, _, _ in rows:
        assert f'id="f-msg-{finding_id}"' in page
        assert f'for="reason-{finding_id}"' in page  # a verdict of its own
    assert "“Lft” looks misspelt." in page and "“Rt” looks misspelt." in page
