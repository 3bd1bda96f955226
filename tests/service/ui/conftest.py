"""Real headless Chromium (Debian's, driven by Playwright) against radqc under uvicorn.

Outside CI a missing browser skips the browser tests with a message; in CI (``CI=true``) it
fails them. Screenshots are kept under ``test-artifacts/ui/`` (ignored by git); the folder is
printed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI, REPO

CHROMIUM = os.environ.get("RADQC_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts" / "ui"


def _problem() -> str | None:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed: {exc}"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    problem = _problem()
    if problem is not None:
        if IN_CI:
            pytest.fail(problem + " (CI must run the browser tests)")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "_")
    folder = ARTIFACTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    print(f"screenshots: {folder}")
    return folder
