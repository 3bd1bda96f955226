"""The Alembic revisions build exactly the schema the models describe, and downgrade cleanly."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from types import ModuleType

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from fhir_adapter.effective import effective_key
from service.migrate import downgrade, upgrade
from service.tables import metadata


def _load(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MIGRATION_0008 = _load("0008_observation_effective.py")


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
    assert version == "0010"


# -- 0008: Observation.effective_at filled from the stored JSON -------------------------------
_EFFECTIVE = [
    "2024-05-01T08:20:30.000Z",  # what radqc writes for a time
    "2024-05-01",  # a date without a time
    "2024-05",
    "2024",
    None,  # no effective[x]
    "2023-12-31T23:59:59.999Z",
    "2025-01-01T00:00:00.000Z",
]


def _observations_at_0007(url: str) -> dict[str, str]:
    """Rows of every effective[x] shape, stored before 0008; returns id -> resource JSON."""
    downgrade(url, "0007")
    engine = create_engine(url)
    resources: dict[str, str] = {}
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO items (id, kind, status, flagged, conflict, received_at) "
                "VALUES (1, 'report', 'done', false, false, :now)"
            ),
            {"now": dt.datetime(2024, 5, 1, tzinfo=dt.UTC)},
        )
        for n, effective in enumerate(_EFFECTIVE * 3):
            resource = {"resourceType": "Observation", "id": f"o{n:02d}", "status": "final"}
            if effective is not None:
                resource["effectiveDateTime"] = effective
            resources[f"o{n:02d}"] = json.dumps(resource)
            conn.execute(
                text(
                    "INSERT INTO observations (id, item_id, code, status, resource_json, "
                    "content_hash, version, updated_at) VALUES (:id, 1, 'qc.summary', 'final', "
                    ":json, 'h', 1, :now)"
                ),
                {"id": f"o{n:02d}", "json": resources[f"o{n:02d}"], "now": dt.datetime.now(dt.UTC)},
            )
    engine.dispose()
    return resources


def _effective_at(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, effective_at FROM observations")).all()
    engine.dispose()
    return {row[0]: row[1] for row in rows}


def test_0008_fills_effective_at_in_batches_and_downgrades(database_url: str) -> None:
    resources = _observations_at_0007(database_url)
    upgrade(database_url)
    expected = {oid: effective_key(text_) for oid, text_ in resources.items()}
    assert _effective_at(database_url) == expected
    assert expected["o00"] == "2024-05-01T08:20:30.000Z"
    assert expected["o01"] == expected["o02"] == "2024-05-01T00:00:00.000Z"
    assert expected["o04"] == "0000-01-01T00:00:00.000Z"
    # in batches smaller than the table, every row is filled once
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE observations SET effective_at = ''"))
        assert MIGRATION_0008.backfill_effective(conn, batch=4) == len(resources)
    engine.dispose()
    assert _effective_at(database_url) == expected
    assert _diff(database_url) == []
    downgrade(database_url, "0007")
    engine = create_engine(database_url)
    columns = {c["name"] for c in inspect(engine).get_columns("observations")}
    indexes = {i["name"] for i in inspect(engine).get_indexes("observations")}
    engine.dispose()
    assert not {"effective_at", "delivered_hash"} & columns
    assert "ix_observations_effective_at" not in indexes
    assert "observation_history" not in _tables(database_url)
    upgrade(database_url)
    assert _effective_at(database_url) == expected
