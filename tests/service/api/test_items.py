"""GET /api/v1/items and /api/v1/items/{id} over real HTTP, on real SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from service import queue
from service.api import items
from service.api.items import ItemFilters
from service.components import Components
from service.models import Item
from tests.service.api.conftest import ADMIN, AUDITOR, INGEST
from tests.service.api.support import BASE_TIME, ORDER, add_report, seed_scenario, set_received_at

FINDING_KEYS = {
    "id",
    "code",
    "severity",
    "message",
    "confidence",
    "engine",
    "engine_version",
    "evidence",
    "scope",
}
ITEM_KEYS = {
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
    "error",
    "conflict",
    "file_removed_at",
    "findings",
}


@pytest.fixture
def scenario(comps: Components, shared_data: Path) -> dict[str, int]:
    return seed_scenario(comps, shared_data)


def _names(ids: dict[str, int], body: dict[str, Any]) -> list[str]:
    by_id = {item_id: name for name, item_id in ids.items()}
    return [by_id[item["id"]] for item in body["items"]]


NEWEST_FIRST = list(reversed(ORDER))

FILTER_CASES: list[tuple[dict[str, str], list[str]]] = [
    ({}, NEWEST_FIRST),
    ({"kind": "image"}, ["i_queued", "i_minor", "i_flagged"]),
    ({"kind": "report"}, ["r_queued", "r_failed", "r_clean", "r_flagged"]),
    ({"status": "done"}, ["i_minor", "i_flagged", "r_clean", "r_flagged"]),
    ({"status": "queued"}, ["i_queued", "r_queued"]),
    ({"status": "failed"}, ["r_failed"]),
    ({"status": "processing"}, []),
    ({"status": "received"}, []),
    ({"flagged": "true"}, ["i_minor", "i_flagged", "r_flagged"]),
    ({"flagged": "false"}, ["i_queued", "r_queued", "r_failed", "r_clean"]),
    ({"code": "cxr.exposure"}, ["i_minor", "i_flagged"]),
    ({"code": "report.typo"}, ["r_flagged"]),
    ({"code": "cxr.rotation"}, []),
    ({"severity": "critical"}, ["i_flagged"]),
    ({"severity": "minor"}, ["i_minor", "r_flagged"]),
    ({"severity": "major"}, ["r_flagged"]),
    # code and severity together: one finding must have both
    ({"code": "report.laterality", "severity": "minor"}, []),
    ({"code": "report.typo", "severity": "minor"}, ["r_flagged"]),
    ({"code": "cxr.exposure", "severity": "critical"}, ["i_flagged"]),
    ({"since": "2024-03-01T11:00:00Z"}, ["i_queued", "r_queued", "i_minor", "i_flagged"]),
    ({"since": "2024-03-01T11:00:00"}, ["i_queued", "r_queued", "i_minor", "i_flagged"]),
    ({"since": "2024-03-01T12:00:00+01:00"}, ["i_queued", "r_queued", "i_minor", "i_flagged"]),
    ({"since": "2024-03-01"}, NEWEST_FIRST),
    ({"until": "2024-03-01T10:00:00Z"}, ["r_clean", "r_flagged"]),
    ({"since": "2024-03-01T09:00:00Z", "until": "2024-03-01T11:00:00Z"}, ["r_failed", "r_clean"]),
    (
        {"since": "2024-03-01T09:00:00.000001Z"},
        ["i_queued", "r_queued", "i_minor", "i_flagged", "r_failed"],
    ),
    ({"sop_instance_uid": "1.2.840.9.1"}, ["i_flagged"]),
    ({"study_instance_uid": "1.2.3.1"}, ["i_flagged", "r_flagged"]),
    ({"accession": "ACC-2"}, ["i_minor", "r_clean"]),
    ({"report_id": "rep-3"}, ["r_failed"]),
    ({"report_id": "rep-unknown"}, []),
    ({"kind": "image", "flagged": "true", "accession": "ACC-1"}, ["i_flagged"]),
]


def test_every_filter(client: httpx.Client, scenario: dict[str, int]) -> None:
    for params, expected in FILTER_CASES:
        response = client.get("/api/v1/items", params=params)
        assert response.status_code == 200, (params, response.text)
        body = response.json()
        assert _names(scenario, body) == expected, params
        assert body["next_cursor"] is None, params


def test_item_json_has_the_contract_fields_and_nothing_internal(
    client: httpx.Client, scenario: dict[str, int]
) -> None:
    listed = client.get("/api/v1/items", params={"report_id": "rep-1"}).json()["items"]
    assert len(listed) == 1
    item = listed[0]
    assert set(item) == ITEM_KEYS
    assert item["kind"] == "report"
    assert item["status"] == "done"
    assert item["flagged"] is True
    assert item["report_version"] == 1
    assert item["accession"] == "ACC-1"
    assert dt.datetime.fromisoformat(item["received_at"]) == BASE_TIME
    assert item["processed_at"] is not None
    assert item["error"] is None
    assert [f["code"] for f in item["findings"]] == ["report.laterality", "report.typo"]
    finding = item["findings"][0]
    assert set(finding) == FINDING_KEYS
    assert finding["severity"] == "major"
    assert finding["engine"] == "rules"
    assert finding["engine_version"] == "scripted-1"
    assert finding["confidence"] == 0.8
    assert finding["evidence"] == [{"section": "IMPRESSION", "start": 0, "end": 4, "text": "test"}]

    detail = client.get(f"/api/v1/items/{scenario['r_flagged']}").json()
    assert set(detail) == ITEM_KEYS | {"observations", "job", "jobs", "audits"}
    assert {k: v for k, v in detail.items() if k in ITEM_KEYS} == item
    assert detail["job"]["kind"] == "qc"
    assert detail["job"]["status"] == "done"
    assert detail["job"]["attempts"] == 1
    assert detail["jobs"] == [detail["job"]]
    assert len(detail["observations"]) == 3

    image = client.get(f"/api/v1/items/{scenario['i_flagged']}").json()
    assert image["kind"] == "image"
    assert image["sop_instance_uid"] == "1.2.840.9.1"
    assert image["study_instance_uid"] == "1.2.3.1"
    assert image["conflict"] is False
    assert [(f["code"], f["severity"]) for f in image["findings"]] == [("cxr.exposure", "critical")]


def test_dead_lettered_job_is_visible_on_the_item(
    client: httpx.Client, scenario: dict[str, int]
) -> None:
    detail = client.get(f"/api/v1/items/{scenario['r_failed']}").json()
    assert detail["status"] == "failed"
    assert "boom: the engine fell over" in detail["error"]
    assert detail["job"]["status"] == "failed"
    assert detail["job"]["attempts"] == 1
    assert "boom: the engine fell over" in detail["job"]["last_error"]
    assert detail["findings"] == []
    assert detail["processed_at"] is None

    queued = client.get(f"/api/v1/items/{scenario['r_queued']}").json()
    assert queued["job"]["status"] == "queued"
    assert queued["job"]["attempts"] == 0


def test_every_job_of_the_item_is_listed_with_its_kind(
    client: httpx.Client, comps: Components, scenario: dict[str, int]
) -> None:
    """The rules job is done but the LLM part still waits: both show, the LLM one queued."""
    item_id = scenario["r_flagged"]
    with comps.db.transaction() as session:
        queue.enqueue(session, "llm", f"llm:{item_id}", item_id=item_id, max_attempts=10)

    detail = client.get(f"/api/v1/items/{item_id}").json()

    assert [(job["kind"], job["status"]) for job in detail["jobs"]] == [
        ("qc", "done"),
        ("llm", "queued"),
    ]
    assert detail["job"]["kind"] == "qc"


def test_observations_are_linked(client: httpx.Client, scenario: dict[str, int]) -> None:
    detail = client.get(f"/api/v1/items/{scenario['r_flagged']}").json()
    links = detail["observations"]
    assert sorted(link["code"] for link in links) == [
        "qc.summary",
        "report.laterality",
        "report.typo",
    ]
    for link in links:
        assert link["status"] == "preliminary"
        assert link["url"] == f"/fhir/Observation/{link['id']}"
        resource = client.get(link["url"])  # the link resolves on radqc's own FHIR API
        assert resource.status_code == 200, resource.text
        assert resource.json()["id"] == link["id"]
    assert client.get(f"/api/v1/items/{scenario['r_queued']}").json()["observations"] == []


def test_unknown_item_is_404_json(client: httpx.Client, scenario: dict[str, int]) -> None:
    response = client.get("/api/v1/items/999999")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["message"] == "item 999999 does not exist"
    assert client.get("/api/v1/items/not-a-number").status_code == 422


@pytest.mark.parametrize("path", ["/api/v1/items", "/api/v1/items/1"])
def test_tokens_and_roles(base_url: str, scenario: dict[str, int], path: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as http:
        missing = http.get(path)
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"] == "Bearer"
        assert "token" in missing.json()["message"]
        unknown = http.get(path, headers={"Authorization": "Bearer not-a-known-token-000000"})
        assert unknown.status_code == 401
        ingest = http.get(path, headers={"Authorization": f"Bearer {INGEST}"})
        assert ingest.status_code == 403
        assert "ingest" in ingest.json()["message"]
        for token in (AUDITOR, ADMIN):
            assert http.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200


BAD_FILTERS: list[tuple[dict[str, str], str]] = [
    ({"kind": "ct"}, "kind"),
    ({"status": "bogus"}, "status"),
    ({"flagged": "perhaps"}, "flagged"),
    ({"code": "cxr.nonsense"}, "code: unknown finding code"),
    ({"code": "qc.summary"}, "code: unknown finding code"),
    ({"severity": "high"}, "severity"),
    ({"since": "yesterday"}, "since: not an ISO 8601 date-time"),
    ({"until": "2024-13-01"}, "until: not an ISO 8601"),
    ({"since": "0001-01-01T00:00:00+01:00"}, "since: not an ISO 8601"),
    ({"since": "2024-03-02", "until": "2024-03-01"}, "since must be earlier than until"),
    ({"limit": "0"}, "limit"),
    ({"limit": "501"}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"format": "xml"}, "format"),
    ({"accession": "A" * 65}, "accession"),
]


def test_bad_filters_are_422_with_a_message(client: httpx.Client) -> None:
    for params, message in BAD_FILTERS:
        response = client.get("/api/v1/items", params=params)
        assert response.status_code == 422, params
        assert message in response.json()["message"], (params, response.json())
        for value in params.values():  # the element is named, the value sent is not repeated
            assert len(value) < 4 or value not in response.text, (params, response.text)


def test_tampered_cursor_is_400(client: httpx.Client, comps: Components) -> None:
    for n in range(3):
        add_report(comps, f"rep-{n}")
    cursor = client.get("/api/v1/items", params={"limit": 1}).json()["next_cursor"]
    assert cursor
    assert client.get("/api/v1/items", params={"limit": 1, "cursor": cursor}).status_code == 200
    flipped = cursor[:5] + ("A" if cursor[5] != "A" else "B") + cursor[6:]
    for bad in (flipped, cursor[:-2], "garbage", "", "!!!!", cursor + "AAAA"):
        response = client.get("/api/v1/items", params={"cursor": bad})
        assert response.status_code == 400, bad
        assert "invalid cursor" in response.json()["message"]


def _all_pages(
    client: httpx.Client, limit: int, params: dict[str, str] | None = None
) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor: str | None = None
    for _ in range(100):  # a cursor that never ends is a failure, not a hang
        query: dict[str, Any] = {"limit": limit, **(params or {})}
        if cursor:
            query["cursor"] = cursor
        body = client.get("/api/v1/items", params=query).json()
        pages.append([item["id"] for item in body["items"]])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
    raise AssertionError("pagination did not end")


def test_pages_have_no_duplicates_or_gaps_with_equal_times(
    client: httpx.Client, comps: Components
) -> None:
    ids = [add_report(comps, f"rep-{n}", accession="ACC-P" if n % 2 else None) for n in range(23)]
    # groups of up to four items share one received_at, in an order unlike their ids
    set_received_at(
        comps,
        {item_id: BASE_TIME + dt.timedelta(seconds=(n * 7 % 6)) for n, item_id in enumerate(ids)},
    )
    with comps.db.reader() as session:
        rows = session.execute(select(Item.id, Item.received_at, Item.accession)).all()
    expected = [r.id for r in sorted(rows, key=lambda r: (r.received_at, r.id), reverse=True)]
    assert len(set(expected)) == 23
    for limit in (1, 4, 5, 22, 23, 50):
        pages = _all_pages(client, limit)
        assert [item_id for page in pages for item_id in page] == expected, limit
        assert all(len(page) == limit for page in pages[:-1])
        assert 1 <= len(pages[-1]) <= limit
    odd = [
        r.id
        for r in sorted(rows, key=lambda r: (r.received_at, r.id), reverse=True)
        if r.accession == "ACC-P"
    ]
    assert [i for page in _all_pages(client, 3, {"accession": "ACC-P"}) for i in page] == odd


def test_new_items_do_not_shift_the_pages_being_read(
    client: httpx.Client, comps: Components
) -> None:
    first_ids = [add_report(comps, f"rep-{n}") for n in range(6)]
    first = client.get("/api/v1/items", params={"limit": 3}).json()
    add_report(comps, "rep-late")  # newer than everything: must not appear in later pages
    second = client.get("/api/v1/items", params={"limit": 3, "cursor": first["next_cursor"]})
    seen = [i["id"] for i in first["items"]] + [i["id"] for i in second.json()["items"]]
    assert seen == list(reversed(first_ids))
    assert second.json()["next_cursor"] is None


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.text)))


def test_csv_export(client: httpx.Client, comps: Components, scenario: dict[str, int]) -> None:
    response = client.get("/api/v1/items", params={"format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="radqc-items-')
    assert disposition.endswith('.csv"')
    rows = _csv(response)
    assert tuple(csv.reader(io.StringIO(response.text)).__next__()) == items.CSV_COLUMNS
    assert [int(row["id"]) for row in rows] == [scenario[name] for name in NEWEST_FIRST]
    flagged = next(row for row in rows if int(row["id"]) == scenario["r_flagged"])
    assert flagged == {
        "id": str(scenario["r_flagged"]),
        "kind": "report",
        "status": "done",
        "flagged": "true",
        "sop_instance_uid": "",
        "study_instance_uid": "1.2.3.1",
        "accession": "ACC-1",
        "report_id": "rep-1",
        "report_version": "1",
        "received_at": BASE_TIME.isoformat(),
        "processed_at": flagged["processed_at"],
        "codes": "report.laterality;report.typo",
        "worst_severity": "major",
    }
    assert flagged["processed_at"]
    image = next(row for row in rows if int(row["id"]) == scenario["i_flagged"])
    assert image["codes"] == "cxr.exposure"
    assert image["worst_severity"] == "critical"
    failed = next(row for row in rows if int(row["id"]) == scenario["r_failed"])
    assert failed["status"] == "failed"
    assert failed["codes"] == ""
    assert failed["worst_severity"] == ""

    only_images = _csv(client.get("/api/v1/items", params={"format": "csv", "kind": "image"}))
    assert [row["id"] for row in only_images] == [
        str(scenario[name]) for name in ("i_queued", "i_minor", "i_flagged")
    ]
    bad = client.get("/api/v1/items", params={"format": "csv", "code": "nope"})
    assert bad.status_code == 422
    # issue 14: the limit was ignored; it is the most rows to export, newest first
    first_two = _csv(client.get("/api/v1/items", params={"format": "csv", "limit": 2}))
    assert [int(row["id"]) for row in first_two] == [scenario[n] for n in NEWEST_FIRST[:2]]


def test_csv_cells_cannot_become_spreadsheet_formulas(
    client: httpx.Client, comps: Components
) -> None:
    item_id = add_report(comps, "rep-x", accession='=HYPERLINK("http://x")')
    rows = _csv(client.get("/api/v1/items", params={"format": "csv"}))
    assert rows[0]["id"] == str(item_id)
    assert rows[0]["accession"] == '\'=HYPERLINK("http://x")'
    as_json = client.get(f"/api/v1/items/{item_id}").json()
    assert as_json["accession"] == '=HYPERLINK("http://x")'


def test_csv_is_read_in_keyset_batches(comps: Components, scenario: dict[str, int]) -> None:
    chunks = list(items.csv_lines(comps.db, ItemFilters(), batch=2))
    assert len(chunks) == 4  # 7 items: batches of 2, 2, 2 and 1
    rows = list(csv.DictReader(io.StringIO("".join(chunks))))
    assert [row["id"] for row in rows] == [str(scenario[name]) for name in NEWEST_FIRST]
    exactly = list(items.csv_lines(comps.db, ItemFilters(kind="report"), batch=2))
    assert len(exactly) == 3  # 4 reports: 2, 2, then an empty batch ends the export
    assert len(list(csv.DictReader(io.StringIO("".join(exactly))))) == 4


def test_csv_batches_are_core_rows_two_selects_each(
    comps: Components, scenario: dict[str, int]
) -> None:
    """An export builds no ORM item (100,000 of them with their findings were most of a large
    export's time, bench/growth): per batch, one SELECT of the items' columns and one of their
    findings' code and severity."""
    loaded: list[object] = []
    statements: list[str] = []

    def on_load(target: object, _context: Any) -> None:
        loaded.append(target)

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(Item, "load", on_load)
    event.listen(comps.db.engine, "before_cursor_execute", record)
    try:
        text = "".join(items.csv_lines(comps.db, ItemFilters(), batch=4))
    finally:
        event.remove(comps.db.engine, "before_cursor_execute", record)
        event.remove(Item, "load", on_load)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["id"] for row in rows] == [str(scenario[name]) for name in NEWEST_FIRST]
    assert loaded == []
    assert len(statements) == 4  # 7 items: a batch of 4 and one of 3, two SELECTs each


def test_empty_database(client: httpx.Client) -> None:
    assert client.get("/api/v1/items").json() == {"items": [], "next_cursor": None}
    response = client.get("/api/v1/items", params={"format": "csv"})
    assert response.text.strip() == ",".join(items.CSV_COLUMNS)


def test_a_page_costs_two_selects_however_many_items(
    client: httpx.Client, comps: Components, scenario: dict[str, int]
) -> None:
    """Findings are loaded for the whole page at once (no query per item)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(comps.db.engine, "before_cursor_execute", record)
    try:
        body = client.get("/api/v1/items").json()
    finally:
        event.remove(comps.db.engine, "before_cursor_execute", record)
    assert len(body["items"]) == 7
    assert sum(len(item["findings"]) for item in body["items"]) == 4
    assert len(statements) == 2, statements
