"""The growth benchmark on a few hundred items: the generator's rows hang together and follow
its distributions, and the run measures through the API on both schemas."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from bench.growth import generate, queries, run, shapes
from fhir_adapter.effective import effective_key, fhir_instant
from service.engines.rules import RULES_VERSION
from service.migrate import alembic_config, upgrade


def _head() -> str:
    config = alembic_config("sqlite://")
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


@pytest.mark.timeout(240)
def test_tiny_growth_run(
    bench_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if bench_database != "postgres":
        pytest.skip("the growth benchmark needs PostgreSQL (COPY)")
    name = f"radqc_growth_test_{uuid.uuid4().hex[:8]}"
    argv = [
        "--items", "600", "--chunk", "250", "--database", name, "--keep", "--calls", "2",
        "--csv-rows", "100", "--only", "worklist pending", "--out", str(tmp_path),
    ]  # fmt: skip
    try:
        assert run.main(argv) == 0
        engine = create_engine(run.database_url(name))
        with engine.connect() as conn:
            one = lambda sql: conn.execute(text(sql)).scalar_one()  # noqa: E731
            assert one("SELECT count(*) FROM items") == 600
            assert 0.6 < one("SELECT avg((kind = 'image')::int) FROM items") < 0.8
            done = one("SELECT count(*) FROM items WHERE status = 'done'")
            findings = one("SELECT count(*) FROM findings")
            assert 2.4 < findings / 600 < 3.6
            # an Observation per finding and a summary per done item, each pointing home
            assert one("SELECT count(*) FROM observations") == findings + done
            assert one("SELECT count(*) FROM observations o LEFT JOIN findings f"
                       " ON f.id = o.finding_id WHERE o.code <> 'qc.summary'"
                       " AND (f.id IS NULL OR f.item_id <> o.item_id)") == 0  # fmt: skip
            # flagged: a finding at or above 0.5; unflagged: none
            assert (
                one(
                    "SELECT count(*) FROM items i WHERE i.flagged AND NOT EXISTS (SELECT 1"
                    " FROM findings f WHERE f.item_id = i.id AND f.confidence >= 0.5)"
                )
                == 0
            )
            assert (
                one(
                    "SELECT count(*) FROM items i WHERE NOT i.flagged AND EXISTS (SELECT 1"
                    " FROM findings f WHERE f.item_id = i.id AND f.confidence >= 0.5)"
                )
                == 0
            )
            assert (
                one(
                    "SELECT count(*) FROM items i JOIN instances s ON s.id = i.instance_id"
                    " WHERE i.sop_instance_uid <> s.sop_instance_uid"
                )
                == 0
            )
            assert one("SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')") >= 3
            assert one("SELECT count(*) FROM audits") >= 1
            assert one("SELECT version_num FROM alembic_version") == _head()  # after: head
        engine.dispose()
    finally:
        run.drop(name)
    out = capsys.readouterr().out
    assert "worklist pending" in out and "generated in" in out
    results = json.loads((tmp_path / "results.json").read_text())
    for phase in ("before", "after"):
        timing = results[phase]["queries"]["worklist pending"]
        assert timing["n"] == 2 and timing["p95_ms"] > 0
        assert results[phase]["plans"]["worklist pending"]  # its statements, explained


def _samples() -> queries.Samples:
    newest = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
    one = ["x"]
    samples = queries.Samples(newest, one, one, one, one, one, one, one)
    samples.deep = {"10%": "c", "50%": "c", "90%": "c"}
    samples.fhir_deep, samples.csv_since = "c", newest.isoformat()
    return samples


def test_stored_since_is_last_updated_not_date() -> None:
    """FHIR ``date`` is the study's or report's time (effective, issue 11): a query for what
    was stored lately uses ``_lastUpdated``, and no ``date`` query reaches the last day."""
    samples = _samples()
    for query in queries.all_queries(100):
        for name, value in query.params(samples, 0):
            if name != "date":
                continue
            day = value.lstrip("gelt")[:10]
            assert day < (samples.newest - dt.timedelta(days=1)).date().isoformat(), query.name
    stored_since = [q for q in queries.all_queries(100) if "ge<1 min ago>" in q.name]
    assert [q.name for q in stored_since] == ["fhir code=qc.summary&_lastUpdated=ge<1 min ago>"]


def test_generated_findings_carry_the_rules_engines_own_version() -> None:
    assert shapes.RULES_VERSION is RULES_VERSION


@pytest.mark.timeout(120)
def test_generated_observations_are_searchable_by_date(bench_database: str) -> None:
    """Generated at head, every Observation's ``effective_at`` is what the publisher stores
    (``effective_key`` of its resource), so FHIR ``date`` searches find what they should."""
    if bench_database != "postgres":
        pytest.skip("the growth benchmark needs PostgreSQL (COPY)")
    name = f"radqc_growth_test_{uuid.uuid4().hex[:8]}"
    url = run.database_url(name)
    run.create(name)
    try:
        upgrade(url, "head")
        plan = generate.Plan(items=300, chunk=120, days=30)
        generate.generate(url, plan, progress=lambda _line: None)
        engine = create_engine(url)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT resource_json, effective_at FROM observations"))
            stored = [(effective_key(resource), key) for resource, key in rows]
            one_day = (plan.now - dt.timedelta(days=10)).date().isoformat()
            found = conn.execute(
                text(
                    "SELECT count(*) FROM observations WHERE effective_at >= :a AND "
                    "effective_at < :b"
                ),
                {"a": f"{one_day}T00:00:00.000Z", "b": f"{one_day}T23:59:59.999Z~"},
            ).scalar_one()
        engine.dispose()
    finally:
        run.drop(name)
    assert len(stored) > 300
    assert all(wanted == key for wanted, key in stored)
    first = fhir_instant(plan.start)  # every item was processed after the plan's start
    assert all(key >= first for _, key in stored)
    assert found > 0  # a day of the month holds Observations
