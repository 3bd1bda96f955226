"""Helpers for the page tests in Chromium: a signed-in tab at a given size that fails on a
JavaScript error or anything the pages' Content-Security-Policy refused, and page checks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DESKTOP = {"width": 1400, "height": 900}
TABLET = {"width": 820, "height": 1180}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}


@contextmanager
def signed_in(browser: Any, base_url: str, token: str, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(base_url=base_url, viewport=viewport)
    context.add_cookies([{"name": "radqc_token", "value": token, "url": base_url + "/ui/"}])
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on(
        "console",
        lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"JavaScript errors or CSP refusals: {errors}"


def wait_until(page: Any, expression: str, timeout: float = 10.0) -> None:
    """Poll a JavaScript expression (Playwright's wait_for_function uses eval, which the
    pages' CSP forbids)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        page.wait_for_timeout(50)


def open_page(page: Any, path: str) -> Any:
    response = page.goto(path)
    if page.locator("#xray").count():
        page.wait_for_selector("#xray[data-ready='1']")
        wait_until(page, "document.getElementById('xray').complete")
        wait_until(page, "document.getElementById('film').dataset.scale")
    return response


def horizontal_overflow(page: Any) -> int:
    """How many CSS pixels the page is wider than the window (0: it fits)."""
    return int(page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth"))


def check_page(page: Any, axe_source: str, shot: Path) -> None:
    """What every page must do at every size: fit the width, carry the navigation and the
    skip link, label every control, and pass axe without a serious or critical violation."""
    page.screenshot(path=str(shot), full_page=True)
    assert horizontal_overflow(page) <= 0, f"{page.url} is wider than the window"
    assert page.locator("a.skip[href='#main']").count() == 1
    assert page.locator("header.top nav a[href='/ui/dashboard']").count() == 1
    unlabelled = page.evaluate(
        """() => Array.from(document.querySelectorAll("input, select, textarea"))
            .filter(e => e.type !== "hidden" && !(e.labels && e.labels.length)
                && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
            .map(e => e.id || e.name || e.outerHTML.slice(0, 60))"""
    )
    assert unlabelled == [], f"{page.url}: controls without a label: {unlabelled}"
    violations = axe_violations(page, axe_source)
    assert violations == [], f"{page.url}: accessibility violations: {violations}"


AXE_URL = "/ui/static/__axe-core.js"  # served by the test's route, never by radqc
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


def axe_violations(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.x A/AA violations on the page as loaded. axe is loaded as a
    same-origin script (a test route answers it), so the page's own CSP stays in force."""
    page.route(
        "**" + AXE_URL,
        lambda route: route.fulfill(body=axe_source, content_type="application/javascript"),
    )
    page.add_script_tag(url=AXE_URL)
    result = page.evaluate(
        """async (TAGS) => {
            const r = await axe.run(document, {
                runOnly: {type: "tag", values: TAGS},
                resultTypes: ["violations"],
            });
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" "))}));
        }""",
        AXE_TAGS,
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]
