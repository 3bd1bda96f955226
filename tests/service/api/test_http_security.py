"""The REST API and the audit pages against hostile or broken requests (issue 10), over real
HTTP on SQLite and PostgreSQL: ids beyond the database's integer, repeated JSON members, text no
database can store, what an error body or a log line may say, and the pages' security headers."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from service.api import pagination
from service.api.params import MAX_ROW_ID
from service.components import Components
from service.loop.models import Audit, EngineConfig, EvaluationRun
from service.models import Report
from service.ui import routes as ui_routes
from tests.service.api.conftest import ADMIN, AUDITOR, READER, make_app
from tests.service.api.log_support import every_log_record, rendered
from tests.service.api.support import add_report
from tests.support.servers import serve_app

TEMPLATES = Path(ui_routes.__file__).parent / "templates"
CANARY = "MRN-CANARY-4471093"
BAD_IDS = ("0", "-1", str(MAX_ROW_ID + 1), str(2**63), str(10**30))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def item_id(comps: Components) -> int:
    return add_report(comps, "rep-security")


@pytest.fixture
def http(base_url: str, item_id: int) -> Iterator[httpx.Client]:
    """One keep-alive connection for a whole test: a 500 that drops it would show."""
    with httpx.Client(base_url=base_url, timeout=10, cookies={"radqc_token": ADMIN}) as client:
        yield client


def _id_requests(bad: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", f"/api/v1/items/{bad}", None),
        ("POST", f"/api/v1/items/{bad}/audit", {}),
        ("GET", f"/api/v1/engines/{bad}", None),
        ("GET", f"/api/v1/engines/{bad}/results", None),
        ("POST", f"/api/v1/engines/{bad}/promote", {"reason": "test"}),
        ("GET", f"/api/v1/engines/compare?challenger={bad}", None),
        ("GET", f"/api/v1/engines/compare?challenger=1&champion={bad}", None),
        ("GET", f"/api/v1/engines/1/results?item_id={bad}", None),
        ("GET", f"/api/v1/evaluations/{bad}", None),
        ("GET", f"/ui/items/{bad}", None),
        ("GET", f"/ui/items/{bad}/image.png", None),
        ("GET", f"/ui/evaluations/{bad}", None),
    ]


def test_ids_beyond_the_integer_column_are_4xx_json_and_keep_the_connection(
    http: httpx.Client,
) -> None:
    """PostgreSQL's integer is 32-bit and SQLite's driver refuses ints above 64 bits: such an
    id used to reach the query and fail it (500, and on PostgreSQL a dropped connection)."""
    for bad in (*BAD_IDS, "%C2%B2"):  # a superscript two passes str.isdigit, not int()
        for method, path, body in _id_requests(bad):
            response = http.request(method, path, json=body, headers=bearer(ADMIN))
            assert response.status_code in (400, 404, 422), (method, path, response.text)
            if path.startswith("/ui/") and ".png" not in path:  # a page for a person (issue 15)
                assert response.headers["content-type"].startswith("text/html"), path
            else:
                assert response.json()["message"], (method, path)
    assert http.get("/healthz").status_code == 200
    for method, path, body in _id_requests(str(MAX_ROW_ID)):  # the largest id: a valid one
        response = http.request(method, path, json=body, headers=bearer(ADMIN))
        assert response.status_code in (200, 404), (method, path, response.text)


def test_a_forged_cursor_beyond_the_id_range_is_400(http: httpx.Client) -> None:
    key = (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 2**40)
    cursor = pagination.ITEMS.encode(key)  # the checksum is public: anyone can forge
    response = http.get("/api/v1/items", params={"cursor": cursor}, headers=bearer(READER))
    assert response.status_code == 400, response.text


def test_a_finding_id_beyond_the_range_is_422(http: httpx.Client, item_id: int) -> None:
    body = {"verdicts": [{"finding_id": 2**63, "verdict": "confirmed"}]}
    response = http.post(f"/api/v1/items/{item_id}/audit", json=body, headers=bearer(AUDITOR))
    assert response.status_code == 422, response.text
    assert "body.verdicts.0.finding_id" in response.text


def test_the_openapi_document_states_the_id_range(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    parameter = document["paths"]["/api/v1/items/{item_id}"]["get"]["parameters"][0]
    assert parameter["schema"]["minimum"] == 1
    assert parameter["schema"]["maximum"] == MAX_ROW_ID
    error = document["components"]["schemas"]["HTTPValidationError"]
    assert error["required"] == ["message"]  # the body radqc sends, not FastAPI's own


DUPLICATE_BODIES = [
    ("/api/v1/evaluations", AUDITOR, '{"kind": "image", "kind": "report"}', "body.kind"),
    ("/api/v1/engines", ADMIN, '{"name": "a", "parameters": {}, "name": "b"}', "body.name"),
    (
        "/api/v1/engines",
        ADMIN,
        '{"name": "a", "parameters": {"rules": {}, "rules": null}}',
        "body.parameters.rules",
    ),
    ("/api/v1/audit-samples", AUDITOR, '{"seed": 1, "seed": 2}', "body.seed"),
]


@pytest.mark.parametrize(("path", "token", "raw", "element"), DUPLICATE_BODIES)
def test_a_json_member_given_twice_is_400_naming_it(
    http: httpx.Client, comps: Components, path: str, token: str, raw: str, element: str
) -> None:
    headers = {**bearer(token), "Content-Type": "application/json"}
    response = http.post(path, content=raw.encode(), headers=headers)
    assert response.status_code == 400, response.text
    assert element in response.json()["message"] and "given twice" in response.text
    with comps.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(EvaluationRun)) == 0
        assert session.scalar(select(func.count()).select_from(EngineConfig)) == 1  # start-up's


def test_a_duplicate_in_an_audit_stores_no_audit(
    http: httpx.Client, comps: Components, item_id: int
) -> None:
    raw = b'{"verdicts": [], "missed": [], "verdicts": []}'
    headers = {**bearer(AUDITOR), "Content-Type": "application/json"}
    response = http.post(f"/api/v1/items/{item_id}/audit", content=raw, headers=headers)
    assert response.status_code == 400, response.text
    with comps.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Audit)) == 0


@pytest.mark.parametrize(
    ("raw", "element", "says"),
    [
        ('{"missed": [{"code": "report.typo", "evidence": "a\\u0000b"}]}', "missed.0", "NUL"),
        ('{"verdicts": [], "missed": [{"code": "report.typo\\u0000"}]}', "missed.0.code", "NUL"),
        ('{"missed": [{"code": "report.typo", "evidence": "\\ud800"}]}', "missed.0", "surrogate"),
    ],
)
def test_text_no_database_can_store_is_422(
    http: httpx.Client, comps: Components, item_id: int, raw: str, element: str, says: str
) -> None:
    """Was a 500 on PostgreSQL (NUL) and on both databases (an unpaired surrogate)."""
    headers = {**bearer(AUDITOR), "Content-Type": "application/json"}
    response = http.post(f"/api/v1/items/{item_id}/audit", content=raw.encode(), headers=headers)
    assert response.status_code == 422, response.text
    assert f"body.{element}" in response.json()["message"] and says in response.text
    with comps.db.reader() as session:
        assert session.scalar(select(func.count()).select_from(Audit)) == 0


@pytest.mark.parametrize(
    "query", ["accession=%00", "report_id=a%00b", "sop_instance_uid=1.2%00", "code=%00"]
)
def test_a_nul_in_the_url_is_400_not_a_database_error(http: httpx.Client, query: str) -> None:
    response = http.get(f"/api/v1/items?{query}", headers=bearer(READER))
    assert response.status_code == 400, response.text
    assert "NUL" in response.json()["message"]
    assert http.get("/api/v1/items/1%002", headers=bearer(READER)).status_code == 400


def test_validation_errors_name_the_element_not_the_value(http: httpx.Client) -> None:
    sent = [
        ("GET", f"/api/v1/items?since={CANARY}", READER, None),
        ("GET", f"/api/v1/items?code={CANARY}", READER, None),
        ("GET", f"/api/v1/items?accession={CANARY * 5}", READER, None),
        ("POST", "/api/v1/evaluations", AUDITOR, {"since": CANARY}),
        ("POST", "/api/v1/evaluations", AUDITOR, {"kind": CANARY}),
        ("POST", "/api/v1/engines", ADMIN, {"name": f"{CANARY} !", "parameters": {}}),
        ("POST", "/api/v1/audit-samples", AUDITOR, {"seed": CANARY}),
        ("GET", f"/ui/worklist?since={CANARY}", READER, None),
    ]
    for method, path, token, body in sent:
        response = http.request(method, path, json=body, headers=bearer(token))
        assert response.status_code == 422, (path, response.text)
        assert CANARY not in response.text, (path, response.text)
        if response.headers["content-type"].startswith("text/html"):
            continue  # the pages answer with a page (issue 15), which lists no details
        for detail in response.json().get("detail", []):
            assert set(detail) == {"loc", "msg"}, detail  # never pydantic's input or ctx


def test_an_unexpected_database_error_is_a_500_that_logs_no_value(comps: Components) -> None:
    """A database error's message quotes the statement's values (PostgreSQL: "Key
    (report_id)=(...) already exists"; SQLAlchemy: its [parameters: ...]). The 500 is logged
    by class, route and place, by radqc only: not the message, not uvicorn's traceback."""
    app = make_app(comps)

    def fail() -> None:
        with comps.db.transaction() as session:
            session.add_all([Report(report_id=CANARY), Report(report_id=CANARY)])

    app.add_api_route("/api/v1/test-failure/{report_id}", fail, methods=["POST"])
    with serve_app(app) as base, every_log_record() as records:
        response = httpx.post(f"{base}/api/v1/test-failure/{CANARY}", timeout=10)
    assert response.status_code == 500
    assert response.json() == {"message": "internal error"}
    failed = [r for r in records if r.name == "service.api.errors"]
    assert len(failed) == 1, rendered(records)
    message = failed[0].getMessage()
    assert "IntegrityError" in message and "/api/v1/test-failure/{report_id}" in message
    logged = [r for r in records if r.name not in ("httpx", "uvicorn.access")]  # request lines
    assert CANARY not in rendered(logged), rendered(logged)
    assert not any(r.name.startswith("uvicorn") and r.levelname == "ERROR" for r in records)


# -- security headers ------------------------------------------------------------------------


def test_pages_carry_a_strict_content_security_policy(http: httpx.Client) -> None:
    for path in ("/ui/login", "/ui/worklist", "/ui/static/ui.js", "/ui/items/999999"):
        response = http.get(path, follow_redirects=False)
        policy = response.headers["content-security-policy"]
        assert policy == ui_routes.CONTENT_SECURITY_POLICY, path
        assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
    api = http.get("/api/v1/items", headers=bearer(READER))
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["referrer-policy"] == "no-referrer"


def test_the_templates_need_no_inline_script_or_style() -> None:
    """What the policy forbids is absent: scripts only by src, no style attribute or element,
    no inline event handler, no javascript: URL. (The browser tests load every page.)"""
    for template in TEMPLATES.glob("*.html"):
        markup = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", markup), template.name
        assert not re.search(r"<style\b|\sstyle=", markup), template.name
        assert not re.search(r"\son[a-z]+\s*=", markup), template.name
        assert "javascript:" not in markup, template.name


def test_error_json_is_never_html(http: httpx.Client) -> None:
    response = http.get("/api/v1/items/0", headers=bearer(READER))
    assert response.headers["content-type"].startswith("application/json")
    json.loads(response.text)
