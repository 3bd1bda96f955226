"""Real headless Chromium (Debian's, driven by Playwright) against radqc under uvicorn, and
axe-core (from npm) for the accessibility check.

Outside CI a missing browser or npm skips the browser tests with a message; in CI (``CI=true``)
it fails them. Screenshots are kept under ``test-artifacts/ui/`` (ignored by git); the folder is
printed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from service.components import Components
from service.config import Settings
from service.db import Database
from tests.conftest import IN_CI, REPO
from tests.service.api.conftest import make_components
from tests.service.ui.scenario import seed_loop, seed_pages
from tests.support.npm import npm_install

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


# -- axe-core, the accessibility checker, from the npm registry -----------------------------
AXE_VERSION = "4.10.3"


def _install_axe() -> Path:
    """axe-core's browser bundle, installed once with npm (:mod:`tests.support.npm`)."""
    bundle = npm_install("axe-core", AXE_VERSION) / "axe-core" / "axe.min.js"
    if not bundle.is_file():
        raise FileNotFoundError(f"npm did not install {bundle}")
    return bundle


@pytest.fixture(scope="session")
def axe_source() -> str:
    try:
        return _install_axe().read_text(encoding="utf-8")
    except (OSError, subprocess.SubprocessError) as exc:
        problem = f"axe-core could not be installed from npm: {exc}"
        if IN_CI:
            pytest.fail(problem + " (CI must run the accessibility check)")
        pytest.skip(problem)


# -- the scenario of the page tests (tests/service/ui/scenario.py) ----------------------------
@pytest.fixture
def pages_comps(settings: Settings, db: Database) -> Components:
    """Components whose drift alert needs one audited item (the scenario audits one)."""
    return make_components(settings.model_copy(update={"drift_min_count": 1}), db)


@pytest.fixture
def pages_ids(pages_comps: Components, shared_data: Path, tmp_path: Path) -> dict[str, int]:
    ids = seed_pages(pages_comps, shared_data, tmp_path)
    return ids | seed_loop(pages_comps, ids)
