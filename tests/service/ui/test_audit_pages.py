"""The audit pages in real headless Chromium: sign in, worklist with filters, a report with its
evidence highlighted, confirm one finding, reject another, add a missed error, submit; then the
database, the Observations and the hospital FHIR server are checked. The X-ray page renders the
image server-side and reacts to window/level and zoom."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from fhir_adapter.writeback import WritebackClient
from service import queue
from service.components import Components
from service.config import Settings
from service.db import Database
from service.loop.models import Audit, AuditFinding, AuditMissed
from service.models import FindingRow, Observation
from service.worker import Worker, WorkerConfig
from tests.fhir_adapter.fhir_server import RecordingFHIRServer, running_fhir_server
from tests.service.api.conftest import AUDITOR, make_app, make_components
from tests.service.ui.support import seed_audit_scenario
from tests.support.servers import serve_app


@pytest.fixture
def fhir() -> Iterator[RecordingFHIRServer]:
    with running_fhir_server() as server:
        yield server


@pytest.fixture
def comps(settings: Settings, db: Database, fhir: RecordingFHIRServer) -> Components:
    return make_components(settings.model_copy(update={"fhir_writeback_url": fhir.base_url}), db)


@pytest.fixture
def ids(comps: Components, shared_data: Path) -> dict[str, int]:
    return seed_audit_scenario(comps, shared_data)


@pytest.fixture
def base_url(comps: Components, ids: dict[str, int]) -> Iterator[str]:
    with serve_app(make_app(comps)) as url:
        yield url


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[Any]:
    """A tab that fails the test on a JavaScript error or on anything the pages' own
    Content-Security-Policy refused (Chromium reports each refusal on the console)."""
    context = browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    errors: list[str] = []
    refused: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield tab
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"
    assert refused == [], f"refused by the Content-Security-Policy: {refused}"


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression until it is true. Playwright's wait_for_function evaluates
    its predicate with eval inside the page, which the pages' CSP (rightly) forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


def _sign_in(page: Any, artifacts: Path) -> None:
    page.goto("/ui/worklist")
    assert "/ui/login" in page.url  # no token yet: the page asks for one
    page.fill("#token", AUDITOR)
    page.screenshot(path=str(artifacts / "01-login.png"))
    page.click("button[type=submit]")
    page.wait_for_url("**/ui/worklist")


def _findings(db: Database, item_id: int) -> dict[str, int]:
    with db.reader() as session:
        rows = session.scalars(select(FindingRow).where(FindingRow.item_id == item_id)).all()
        return {row.code: row.id for row in rows}


def test_audit_a_report_in_the_browser(
    page: Any, comps: Components, ids: dict[str, int], fhir: RecordingFHIRServer, artifacts: Path
) -> None:
    _sign_in(page, artifacts)
    rows = page.locator("#worklist tbody tr[data-item]")
    assert sorted(int(r) for r in rows.evaluate_all("rs => rs.map(r => r.dataset.item)")) == sorted(
        ids.values()
    )
    page.screenshot(path=str(artifacts / "02-worklist.png"), full_page=True)

    page.select_option("#f-kind", "report")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**kind=report**")
    assert rows.count() == 1
    page.select_option("#f-code", "cxr.exposure")
    page.click(".filters button[type=submit]")
    page.wait_for_url("**code=cxr.exposure**")
    assert page.locator("#worklist td.empty").count() == 1  # the report has no exposure finding
    page.goto("/ui/worklist?kind=report")

    page.keyboard.press("Enter")  # opens the current row
    page.wait_for_url(f"**/ui/items/{ids['report']}")
    found = _findings(comps.db, ids["report"])
    marks = page.locator("mark.evidence")
    assert sorted(marks.all_inner_texts()) == ["Hart", "Right lower lobe"]
    assert page.locator("#viewer").inner_text().endswith("auditor:" + _fingerprint())
    page.screenshot(path=str(artifacts / "03-report.png"), full_page=True)

    first = page.locator(f"li.finding[data-finding='{found['report.laterality']}']")
    second = page.locator(f"li.finding[data-finding='{found['report.typo']}']")
    first.click()
    assert page.locator("mark.evidence.active").inner_text() == "Right lower lobe"
    page.keyboard.press("c")  # confirm the current finding
    assert first.get_attribute("data-verdict") == "confirmed"
    second.locator("button.reject").click()
    second.locator("input.reason").fill("'Hart' is the speaker's name")
    page.keyboard.press("Escape")
    page.select_option("#missed-code", "report.omission")
    page.fill("#missed-evidence", "effusion missing from the impression")
    page.click("#missed-add")
    assert page.locator("#missed-list li").count() == 1
    page.screenshot(path=str(artifacts / "04-judged.png"), full_page=True)
    page.keyboard.press("s")
    page.wait_for_selector("#audit-saved")
    page.screenshot(path=str(artifacts / "05-saved.png"), full_page=True)

    with comps.db.reader() as session:
        audit = session.scalars(select(Audit).where(Audit.item_id == ids["report"])).one()
        assert audit.auditor == "auditor:" + _fingerprint()
        verdicts = {
            f.code: (f.verdict, f.reason)
            for f in session.scalars(select(AuditFinding).where(AuditFinding.audit_id == audit.id))
        }
        missed = session.scalars(select(AuditMissed).where(AuditMissed.audit_id == audit.id)).all()
        observations = {
            o.code: o
            for o in session.scalars(
                select(Observation).where(Observation.item_id == ids["report"])
            )
        }
    assert verdicts == {
        "report.laterality": ("confirmed", None),
        "report.typo": ("rejected", "'Hart' is the speaker's name"),
    }
    assert [(m.code, m.evidence) for m in missed] == [
        ("report.omission", "effusion missing from the impression")
    ]
    assert observations["report.laterality"].status == "final"
    assert observations["report.typo"].status == "cancelled"

    _deliver(comps)
    sent = {r.json()["id"]: r.json()["status"] for r in fhir.accepted_puts()}
    assert sent[observations["report.laterality"].id] == "final"
    assert sent[observations["report.typo"].id] == "cancelled"

    page.reload()  # the page shows the saved verdicts, missed errors and the history
    assert first.get_attribute("data-verdict") == "confirmed"
    assert "v1" in page.locator("ul.history").inner_text()
    # Issue 15: submitting again kept nothing of the missed errors; now they are on the page
    # and version 2 keeps them.
    assert page.locator("#missed-list li").count() == 1
    assert "report.omission" in page.locator("#missed-list").inner_text()
    page.keyboard.press("s")
    page.wait_for_selector("#audit-saved")
    with comps.db.reader() as session:
        latest = session.scalars(
            select(Audit).where(Audit.item_id == ids["report"]).order_by(Audit.version.desc())
        ).first()
        assert latest is not None and latest.version == 2
        again = session.scalars(select(AuditMissed).where(AuditMissed.audit_id == latest.id))
        assert [(m.code, m.evidence) for m in again] == [
            ("report.omission", "effusion missing from the impression")
        ]
    page.goto("/ui/worklist")
    assert rows.count() == 1  # only the X-ray is still waiting


def test_xray_window_level_and_zoom(page: Any, ids: dict[str, int], artifacts: Path) -> None:
    _sign_in(page, artifacts)
    page.goto(f"/ui/items/{ids['image']}")
    page.wait_for_selector("#xray[data-ready='1']")
    wait_until(page, "document.getElementById('xray').naturalWidth > 0")
    assert page.locator("li.finding .code-id").all_inner_texts() == ["cxr.exposure"]
    assert page.locator("li.finding .code").all_inner_texts() == ["Exposure"]  # plain words
    page.screenshot(path=str(artifacts / "01-xray.png"), full_page=True)
    before = _pixels(page)

    narrow = page.evaluate(
        "() => { const wc = document.getElementById('wc'), ww = document.getElementById('ww');"
        " ww.value = Number(ww.value) / 4; ww.dispatchEvent(new Event('input'));"
        " return ww.value; }"
    )
    wait_until(
        page,
        "document.getElementById('xray').src.includes('width=') && "
        "document.getElementById('xray').complete",
    )
    page.wait_for_timeout(300)
    assert f"width={narrow}" in page.locator("#xray").get_attribute("src")
    after = _pixels(page)
    assert after != before  # a narrower window changes the rendering
    fitted = page.locator("#film").bounding_box()
    assert page.locator("#zoom-val").inner_text() == "fit"
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert page.locator("#zoom-val").inner_text() == "156%"
    zoomed = page.locator("#film").bounding_box()
    assert zoomed["width"] == pytest.approx(fitted["width"] * 1.5625, abs=2)
    assert zoomed["height"] == pytest.approx(fitted["height"] * 1.5625, abs=2)
    page.keyboard.press("0")
    assert page.locator("#film").bounding_box()["width"] == pytest.approx(fitted["width"], abs=1)
    page.screenshot(path=str(artifacts / "02-xray-window-zoom.png"), full_page=True)


def _pixels(page: Any) -> list[int]:
    """A few grey values of the displayed image, read back from a canvas."""
    return list(
        page.evaluate(
            "() => { const img = document.getElementById('xray');"
            " const c = document.createElement('canvas'); c.width = 16; c.height = 16;"
            " const g = c.getContext('2d'); g.drawImage(img, 0, 0, 16, 16);"
            " return Array.from(g.getImageData(0, 0, 16, 16).data.filter((_, i) => i % 4 === 0)); }"
        )
    )


def _fingerprint() -> str:
    import hashlib

    return hashlib.sha256(AUDITOR.encode()).hexdigest()[:8]


def _deliver(comps: Components) -> None:
    url = comps.settings.fhir_writeback_url
    with WritebackClient(comps.db, url, timeout=5) as client:
        config = WorkerConfig(
            lease_seconds=5, poll_seconds=0.05, retry=queue.RetryPolicy(0.01, 0.01)
        )
        worker = Worker(comps.db, {queue.WRITEBACK: client.deliver}, config)
        while worker.run_once():
            pass
