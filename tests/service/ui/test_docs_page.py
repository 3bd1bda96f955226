"""/docs on a network without internet (issue 14): Swagger UI's assets come from the package, so
the page renders in real Chromium with every request to another host refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from service.config import Settings
from service.db import Database
from tests.service.api.conftest import make_app, make_components
from tests.support.servers import serve_app


@pytest.fixture
def base_url(settings: Settings, db: Database) -> Iterator[str]:
    with serve_app(make_app(make_components(settings, db))) as url:
        yield url


def test_docs_render_with_no_internet(browser: Any, base_url: str) -> None:
    local = urlsplit(base_url).netloc
    outside: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).netloc == local:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context()
    page = context.new_page()
    page.route("**/*", only_loopback)
    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    assert "radqc" in page.inner_text(".swagger-ui .info .title")
    assert page.locator(".opblock").count() > 10  # the operations of the OpenAPI document
    context.close()
    assert outside == []
