"""Revision 0004 (engine configurations) downgrades to 0003 without touching the closed loop's
earlier tables, and upgrades again to a schema that matches the models."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

from service.migrate import downgrade, upgrade
from tests.migrations.test_migrations import _diff

NEW = {"engine_configs", "engine_promotions", "shadow_results", "canary_results", "item_sites"}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_0004_downgrades_to_0003_and_back(database_url: str) -> None:
    assert _tables(database_url) >= NEW
    downgrade(database_url, "0003")
    left = _tables(database_url)
    assert not NEW & left
    assert {"audits", "evaluation_runs", "audit_selections"} <= left
    upgrade(database_url)
    assert _tables(database_url) >= NEW
    assert _diff(database_url) == []
