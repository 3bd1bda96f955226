"""Every page in real Chromium at desktop (1400x900) and phone (390x844) size, with screenshots
(test-artifacts/ui/), an axe-core accessibility check, the film's evidence overlay, keyboard
focus, and the responsive layout (issue 15 items 5, 8 and 11; the dashboard of issue 14)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.components import Components
from tests.service.api.conftest import AUDITOR, make_app
from tests.service.ui.browser import (
    PHONE,
    SIZES,
    TABLET,
    check_page,
    horizontal_overflow,
    open_page,
    signed_in,
)
from tests.service.ui.scenario import BOX, POINT
from tests.support.servers import serve_app

# Layout does not depend on the database: these run on SQLite only (the pages' queries are
# run on PostgreSQL too by test_pages_http.py).
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def base_url(pages_comps: Components, pages_ids: dict[str, int]) -> Iterator[str]:
    with serve_app(make_app(pages_comps)) as url:
        yield url


def _pages(pages_ids: dict[str, int]) -> dict[str, str]:
    return {
        "worklist": "/ui/worklist",
        "dashboard": "/ui/dashboard?flagged=any",
        "report": f"/ui/items/{pages_ids['report']}",
        "small-film": f"/ui/items/{pages_ids['small']}",
        "large-film": f"/ui/items/{pages_ids['large']}",
        "evaluations": "/ui/evaluations",
        "evaluation": f"/ui/evaluations/{pages_ids['run']}",
        "drift": "/ui/drift",
        "engines": f"/ui/engines?challenger={pages_ids['challenger']}",
        "canaries": "/ui/canaries",
        "missing-item": "/ui/items/999999",
        "bad-date": "/ui/worklist?since=yesterday",
    }


@pytest.mark.parametrize("size", sorted(SIZES))
def test_every_page_fits_and_passes_axe(
    browser: Any,
    base_url: str,
    pages_ids: dict[str, int],
    axe_source: str,
    artifacts: Path,
    size: str,
) -> None:
    with signed_in(browser, base_url, AUDITOR, SIZES[size]) as page:
        for n, (name, path) in enumerate(_pages(pages_ids).items()):
            open_page(page, path)
            check_page(page, axe_source, artifacts / f"{n:02d}-{name}.png")
        page.context.clear_cookies()
        page.goto("/ui/worklist")  # signed out: the sign-in page
        assert "/ui/login" in page.url
        check_page(page, axe_source, artifacts / "99-login.png")


def test_phone_and_tablet_layout(
    browser: Any, base_url: str, pages_ids: dict[str, int], artifacts: Path
) -> None:
    """Issue 15: at 390 px the film column was 0 px wide, the report wrapped a word a line and
    the worklist was 718 px wide."""
    with signed_in(browser, base_url, AUDITOR, PHONE) as page:
        open_page(page, f"/ui/items/{pages_ids['small']}")
        film = page.locator("#film").bounding_box()
        assert film["width"] > 330 and film["height"] > 330  # the whole column, square film
        panel = page.locator("section.panel").bounding_box()
        assert panel["width"] > 330 and panel["y"] >= film["y"] + film["height"]  # below
        page.screenshot(path=str(artifacts / "phone-small-film.png"), full_page=True)
        open_page(page, f"/ui/items/{pages_ids['report']}")
        report = page.locator("#report-text")
        assert report.bounding_box()["width"] > 330
        lines = page.evaluate(
            "() => { const r = document.getElementById('report-text');"
            " return r.getBoundingClientRect().height"
            " / parseFloat(getComputedStyle(r).lineHeight); }"
        )
        assert lines < 16  # 3 lines of text at 1400 px; one word a line would be 40+
        open_page(page, "/ui/worklist")
        assert page.locator("#worklist").bounding_box()["width"] <= PHONE["width"]
        assert horizontal_overflow(page) <= 0
        open_page(page, "/ui/dashboard?flagged=any")
        plot = page.locator("#counts-plot svg").bounding_box()
        assert 300 < plot["width"] <= PHONE["width"]
    with signed_in(browser, base_url, AUDITOR, TABLET) as page:
        open_page(page, f"/ui/items/{pages_ids['large']}")
        assert horizontal_overflow(page) <= 0
        film = page.locator("#film").bounding_box()
        assert film["y"] + film["height"] <= TABLET["height"]  # the whole film in view
        page.screenshot(path=str(artifacts / "tablet-large-film.png"), full_page=True)
        open_page(page, "/ui/dashboard?flagged=any")
        assert horizontal_overflow(page) <= 0
        page.screenshot(path=str(artifacts / "tablet-dashboard.png"), full_page=True)


def test_evidence_is_drawn_over_the_film(
    browser: Any, base_url: str, pages_ids: dict[str, int], artifacts: Path
) -> None:
    with signed_in(browser, base_url, AUDITOR, SIZES["desktop"]) as page:
        open_page(page, f"/ui/items/{pages_ids['small']}")
        film = page.locator("#film").bounding_box()
        scale = film["width"] / 440
        assert scale > 1.2  # a 440-pixel film is scaled up to the space it has
        assert film["y"] + film["height"] <= 900  # and is seen whole
        shapes = page.locator("svg.marks .mark")
        assert shapes.count() == 3  # box, band and point; the tag finding has no place
        box = page.locator("svg.marks .mark.box rect").bounding_box()
        assert box["x"] == pytest.approx(film["x"] + BOX[0] * scale, abs=3)
        assert box["y"] == pytest.approx(film["y"] + BOX[1] * scale, abs=3)
        assert box["width"] == pytest.approx((BOX[2] - BOX[0]) * scale, abs=4)
        band = page.locator("svg.marks .mark.band rect").bounding_box()
        assert band["width"] == pytest.approx(film["width"], abs=4)
        ring = page.locator("svg.marks .mark.point circle").bounding_box()
        centre = (ring["x"] + ring["width"] / 2, ring["y"] + ring["height"] / 2)
        assert centre[0] == pytest.approx(film["x"] + POINT[0] * scale, abs=3)
        assert centre[1] == pytest.approx(film["y"] + POINT[1] * scale, abs=3)
        page.screenshot(path=str(artifacts / "01-small-film-marks.png"))

        page.click("#zoom-in")  # the marks follow the film
        zoomed = page.locator("svg.marks .mark.box rect").bounding_box()
        assert zoomed["width"] == pytest.approx(box["width"] * 1.25, abs=4)
        page.click("#zoom-fit")

        exposure = page.locator("li.finding[data-code='cxr.exposure']")
        assert "measured mean brightness 0.81 (limit 0.7)" in exposure.inner_text()
        assert "marked on the film" in exposure.inner_text()
        page.locator("svg.marks .mark.point").click()  # a mark selects its finding
        assert "current" in page.locator("li.finding[data-code='cxr.centering']").get_attribute(
            "class"
        )
        assert page.locator("svg.marks .mark.active").count() == 1
        assert page.locator("svg.marks .mark.point").get_attribute("class").endswith("active")
        page.uncheck("#show-marks")
        assert not page.locator("svg.marks").is_visible()

        metadata = page.locator("li.finding[data-code='cxr.metadata']")
        message = metadata.locator(".msg").inner_text()
        assert message.startswith("View position (PA, AP, lateral) is missing")
        assert "ViewPosition" not in message
        assert (
            "DICOM: ViewPosition (0018,5101) = absent" in metadata.locator(".details").inner_text()
        )
        legend = "How likely an auditor is to confirm"
        assert legend in metadata.locator(".conf").get_attribute("title")  # on hover
        page.click("#legend summary")  # and in the legend
        assert legend in page.locator("#legend").inner_text()
        assert "rules-x.y.z" in page.locator("#legend").inner_text()

        open_page(page, f"/ui/items/{pages_ids['large']}")
        film = page.locator("#film").bounding_box()
        assert film["height"] < 1955 and film["y"] + film["height"] <= 900  # a large film fits
        band = page.locator("svg.marks .mark.band rect").bounding_box()
        assert band["y"] == pytest.approx(film["y"], abs=2)
        assert band["width"] == pytest.approx(film["width"], abs=4)
        related = page.locator("li.finding[data-code='cxr.artifact'] .related a")
        assert related.get_attribute("href") == f"/ui/items/{pages_ids['small']}"
        assert page.locator(f"#related a[href='/ui/items/{pages_ids['report']}']").count() == 1
        page.screenshot(path=str(artifacts / "02-large-film-marks.png"))


def test_keyboard_moves_the_focus(browser: Any, base_url: str, pages_ids: dict[str, int]) -> None:
    with signed_in(browser, base_url, AUDITOR, SIZES["desktop"]) as page:
        open_page(page, "/ui/worklist")
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.className") == "skip"
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "main"
        rows = page.locator("#worklist tbody tr[data-item]")
        page.keyboard.press("j")
        second = rows.nth(1).get_attribute("data-item")
        assert page.evaluate("() => document.activeElement.getAttribute('href')") == (
            f"/ui/items/{second}"
        )
        page.keyboard.press("k")
        first = rows.nth(0).get_attribute("data-item")
        assert page.evaluate("() => document.activeElement.getAttribute('href')") == (
            f"/ui/items/{first}"
        )
        page.keyboard.press("Enter")
        page.wait_for_url(f"**/ui/items/{first}")

        open_page(page, f"/ui/items/{pages_ids['small']}")
        page.keyboard.press("j")
        focused = page.evaluate("() => document.activeElement.dataset.finding")
        listed = page.locator("li.finding").nth(1).get_attribute("data-finding")
        assert focused == listed
        page.keyboard.press("Tab")  # from the focused finding to its own Confirm button
        assert page.evaluate("() => document.activeElement.className") == "confirm"
        assert page.locator("#zoom-in").get_attribute("aria-label") == "Zoom in"
        assert page.locator("#zoom-out").get_attribute("aria-label") == "Zoom out"
