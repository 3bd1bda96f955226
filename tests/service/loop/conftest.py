"""Fixtures for the closed loop's tests: the core's components on the test database."""

from __future__ import annotations

import pytest

from service.components import Components
from service.config import Settings
from service.db import Database
from tests.service.api.conftest import make_components


@pytest.fixture
def comps(settings: Settings, db: Database) -> Components:
    return make_components(settings, db)
