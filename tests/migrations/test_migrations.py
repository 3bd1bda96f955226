"""The Alembic revisions build exactly the schema the models describe, and downgrade cleanly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from service.migrate import downgrade, upgrade
from service.tables import metadata


def _diff(url: str) -> list[object]:
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    engine.dispose()
    return list(diff)


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    return names


def test_head_matches_models_and_downgrade_empties(database_url: str) -> None:
    # The fixture's database is already at head (migrated, not created from the models).
    assert _diff(database_url) == []
    assert {t.name for t in metadata.sorted_tables} <= _tables(database_url)
    downgrade(database_url, "base")
    assert _tables(database_url) <= {"alembic_version"}
    upgrade(database_url)
    assert _diff(database_url) == []
    engine = create_engine(database_url)
    with engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert version == "0007"
