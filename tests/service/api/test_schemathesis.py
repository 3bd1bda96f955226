"""Schemathesis against the real app (uvicorn on loopback, SQLite with seeded items), with no
token and with a token of every role: no request may end in a 5xx, and every response must match
what the OpenAPI document says of it (JSON schema, content type). Bounded: a few hundred cases,
well under a minute. ``bench/fuzz/rest_api.py`` runs the same for longer, on PostgreSQL too."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.components import Components
from tests.service.api.conftest import make_app
from tests.service.api.fuzz_support import ROLE_TOKENS, FuzzReport, fuzz_api
from tests.service.api.support import seed_scenario
from tests.support.servers import serve_app

# the admin token reaches every route: it gets the boundary and negative cases too
# (max examples, seconds, phases); fuzzing repeats until its seconds are spent
BUDGET = dict.fromkeys(ROLE_TOKENS, (2, 4, ("examples", "fuzzing")))
BUDGET["admin"] = (4, 16, ("examples", "coverage", "fuzzing"))


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only (a copy of the migrated template): the PostgreSQL run is the bench's."""
    data_dir = tmp_path / "data"
    data_dir.mkdir(exist_ok=True)
    target = data_dir / "radqc.sqlite3"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def openapi_url(comps: Components, shared_data: Path) -> Iterator[str]:
    seed_scenario(comps, shared_data)
    with serve_app(make_app(comps)) as base:
        yield f"{base}/openapi.json"


@pytest.mark.timeout(180)
def test_no_server_error_and_responses_match_the_schema(openapi_url: str) -> None:
    total = FuzzReport()
    for role, token in ROLE_TOKENS.items():
        examples, seconds, phases = BUDGET[role]
        report = fuzz_api(
            openapi_url, token, max_examples=examples, max_time=seconds, phases=phases
        )
        print(f"{role}: {report.summary()}")
        total.add(report)
    print(f"all roles: {total.summary()}")
    assert total.server_errors == [], total.server_errors[:20]
    assert total.failures == {}, total.failures.most_common(20)
    assert total.cases >= 200, total.summary()
    assert total.by_class["2xx"] > 0 and total.by_class["4xx"] > 0, total.summary()
