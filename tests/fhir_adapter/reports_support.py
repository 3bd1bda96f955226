"""Helpers for the DiagnosticReport tests: real reports wrapped as FHIR, the app, row counts."""

from __future__ import annotations

import base64
import csv
import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from service.components import Components
from service.config import Settings
from service.db import Database
from service.models import Item, Job, Report, ReportVersion
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from tests.support.servers import serve_app

INGEST = {"Authorization": "Bearer ingest-token-0123456789"}
READER = {"Authorization": "Bearer reader-token-0123456789"}
FHIR = {"Content-Type": "application/fhir+json"}
LOINC_CXR = {"system": "http://loinc.org", "code": "36643-5", "display": "XR Chest 2 Views"}
ACSN_TYPE = {
    "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN"}]
}


@dataclass(frozen=True)
class RealReport:
    """A published radiology report: its source and id there, its text, the sections it has."""

    source: str
    key: str
    text: str
    has_findings: bool
    has_impression: bool


def iu_reports(data: Path) -> list[RealReport]:
    """Open-i reports, laid out as a radiologist would write them, one heading a line."""
    reports = []
    with (data / "reports" / "iu_openi_cxr_reports.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            parts = [
                f"{name.upper()}: {row[name].strip()}"
                for name in ("comparison", "indication", "findings", "impression")
                if row[name].strip()
            ]
            reports.append(
                RealReport(
                    "iu",
                    row["uid"],
                    "\n".join(parts),
                    bool(row["findings"].strip()),
                    bool(row["impression"].strip()),
                )
            )
    return reports


def mt_reports(data: Path) -> list[RealReport]:
    """MTSamples transcriptions, whole (their ``HEADER:,`` style)."""
    reports = []
    with (data / "reports" / "mtsamples_radiology.csv").open(newline="") as handle:
        for row in csv.DictReader(handle):
            headers = row["section_headers"].split("|")
            reports.append(
                RealReport(
                    "mt",
                    row["note_id"],
                    row["transcription"],
                    "FINDINGS" in headers,
                    "IMPRESSION" in headers,
                )
            )
    return reports


def b64(text: str, encoding: str = "utf-8") -> str:
    return base64.b64encode(text.encode(encoding)).decode("ascii")


def report(**elements: Any) -> dict[str, Any]:
    """A valid DiagnosticReport with the given elements (status and code by default)."""
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "status": "final",
        "code": {"coding": [dict(LOINC_CXR)]},
    }
    resource.update(elements)
    return resource


def plain(text: str, **elements: Any) -> dict[str, Any]:
    form = [{"contentType": "text/plain; charset=utf-8", "data": b64(text)}]
    return report(presentedForm=form, **elements)


def narrative(text: str, **elements: Any) -> dict[str, Any]:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n"))
    div = f'<div xmlns="http://www.w3.org/1999/xhtml">{paragraphs}</div>'
    return report(text={"status": "generated", "div": div}, **elements)


def conclusion(text: str, **elements: Any) -> dict[str, Any]:
    return report(conclusion=text, **elements)


def contained_patient(resource: dict[str, Any], gender: str) -> dict[str, Any]:
    resource = dict(resource)
    resource["contained"] = [{"resourceType": "Patient", "id": "pat", "gender": gender}]
    resource["subject"] = {"reference": "#pat"}
    return resource


def entry(
    resource: dict[str, Any],
    method: str = "POST",
    url: str = "DiagnosticReport",
    full_url: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"resource": resource, "request": {"method": method, "url": url}}
    if full_url:
        result["fullUrl"] = full_url
    return result


def bundle(entries: list[dict[str, Any]], kind: str = "transaction") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def minimal_pdf(lines: list[str]) -> bytes:
    """A one-page PDF whose text layer holds ``lines`` (Helvetica, one line each)."""

    def escape(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    shown = " ".join(f"({escape(line)}) Tj T*" for line in lines)
    content = f"BT /F1 10 Tf 40 800 Td 12 TL {shown} ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 842] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content.encode('latin-1'))} >>\nstream\n{content}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


# -- the running service -----------------------------------------------------------------------


def make_app(settings: Settings, db: Database) -> tuple[FastAPI, bool]:
    """The app as deployed (``service.app.build_api``) when it can be built, else this router on
    a bare FastAPI with the app's error handlers and body limit when those exist. The flag says
    whether the app-level handlers (OperationOutcome for 401/403/413 on /fhir) are there."""
    files = FileStore(settings.dicom_dir)
    components = Components(settings, db, files, Pipeline(db, files, [], [], NullPublisher()))
    try:
        from service.app import build_api
    except ImportError:  # the composition root is not complete yet
        app = _bare_app(components)
        return app, bool(app.state.handlers)
    return build_api(components), True


def _bare_app(components: Components) -> FastAPI:
    from fhir_adapter.routes_reports import router

    app = FastAPI()
    app.state.components = components
    app.state.tokens = dict(components.settings.api_tokens)
    app.state.handlers = _install_handlers(app, components.settings.max_body_bytes)
    app.include_router(router, prefix="/fhir")
    return app


def _install_handlers(app: FastAPI, limit: int) -> bool:
    try:
        from fhir_adapter.outcome import error_response
        from service.api.errors import BodySizeLimit, install_error_handlers
    except ImportError:
        return False
    install_error_handlers(app, {"/fhir": error_response})
    app.add_middleware(BodySizeLimit, limit=limit, renderers={"/fhir": error_response})
    return True


@dataclass
class Service:
    client: httpx.Client
    db: Database
    full_app: bool

    def send(
        self,
        method: str,
        path: str,
        body: Any,
        *,
        headers: dict[str, str] | None = None,
        token: dict[str, str] | None = None,
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent = {**(INGEST if token is None else token), **(FHIR if headers is None else headers)}
        return self.client.request(method, path, content=content, headers=sent)

    def post(self, body: Any, path: str = "/fhir/DiagnosticReport", **kw: Any) -> httpx.Response:
        return self.send("POST", path, body, **kw)

    def put(self, report_id: str, body: Any, **kw: Any) -> httpx.Response:
        return self.send("PUT", f"/fhir/DiagnosticReport/{report_id}", body, **kw)

    def counts(self) -> dict[str, int]:
        return row_counts(self.db)


@contextmanager
def running(settings: Settings, db: Database) -> Iterator[Service]:
    """radqc's HTTP API under uvicorn on a free loopback port, with an httpx client."""
    app, full = make_app(settings, db)
    with serve_app(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield Service(client, db, full)


def row_counts(db: Database) -> dict[str, int]:
    with db.reader() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("reports", Report),
                ("versions", ReportVersion),
                ("items", Item),
                ("jobs", Job),
            )
        }


NOTHING = {"reports": 0, "versions": 0, "items": 0, "jobs": 0}


def assert_outcome(
    response: httpx.Response,
    status: int,
    expression: str | None,
    code: str | None = None,
    *,
    says: str | None = None,
) -> dict[str, Any]:
    """The response is an OperationOutcome with ``status`` naming ``expression``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issues = outcome["issue"]
    if expression is not None:
        named = [i for i in issues if expression in i.get("expression", [])]
        assert named, f"no issue names {expression}: {issues}"
        issues = named
    if code is not None:
        assert any(i["code"] == code for i in issues), issues
    if says is not None:
        assert any(says in i["diagnostics"] for i in issues), issues
    assert all(i["severity"] == "error" and i["diagnostics"] for i in issues)
    return dict(outcome)
