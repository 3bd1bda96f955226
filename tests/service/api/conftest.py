"""Fixtures for the dashboard API tests: the real routers under uvicorn on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from service.app import build_api
from service.components import Components
from service.config import Settings
from service.db import Database
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileStore
from tests.support.servers import serve_app

READER = "reader-token-0123456789"
INGEST = "ingest-token-0123456789"
AUDITOR = "auditor-token-0123456789"
ADMIN = "admin-token-01234567890"


def make_components(settings: Settings, db: Database) -> Components:
    files = FileStore(settings.dicom_dir)
    return Components(settings, db, files, Pipeline(db, files, [], [], NullPublisher()))


def make_app(comps: Components) -> FastAPI:
    """The application exactly as the composition root assembles it."""
    return build_api(comps)


@pytest.fixture
def comps(settings: Settings, db: Database) -> Components:
    return make_components(settings, db)


@pytest.fixture
def base_url(comps: Components) -> Iterator[str]:
    with serve_app(make_app(comps)) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    """A dashboard: the reader token."""
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {READER}"}, timeout=10
    ) as http:
        yield http
