"""GET /api/v1/llm/usage: metering summed per engine configuration, reader role required."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from service.api.auth import resolve_tokens
from service.api.llm_usage import router
from service.components import Components
from service.config import Settings
from service.db import Database
from service.models import LLMCall
from tests.service.api.conftest import READER, make_components
from tests.service.test_worker import _report
from tests.support.servers import serve_app


def test_usage_sums_calls_per_engine_configuration(settings: Settings, db: Database) -> None:
    comps: Components = make_components(settings, db)
    a, b = _report(db, "u1", "x"), _report(db, "u2", "y")
    with db.transaction() as session:
        for item, version, t_in, t_out, cost, err in [
            (a, "m1+report_review.v2@abc+both", 100, 10, 0.5, None),
            (a, "m1+report_review.v2@abc+both", 120, 20, 0.25, "malformed"),
            (b, "m1+report_review.v2@abc+both", 80, 5, 0.25, None),
            (b, "m2+report_review.v2@abc+both", 50, 50, 1.0, None),
        ]:
            session.add(
                LLMCall(
                    item_id=item,
                    kind="report",
                    engine_version=version,
                    tokens_in=t_in,
                    tokens_out=t_out,
                    latency_ms=t_in * 1.0,
                    cost=cost,
                    error=err,
                )
            )
    app = FastAPI()
    app.state.components = comps
    app.state.tokens = resolve_tokens(settings)
    app.include_router(router)
    with serve_app(app) as url:
        assert httpx.get(f"{url}/api/v1/llm/usage").status_code == 401
        got = httpx.get(
            f"{url}/api/v1/llm/usage", headers={"Authorization": f"Bearer {READER}"}
        ).json()
        later = httpx.get(
            f"{url}/api/v1/llm/usage?since=2999-01-01",
            headers={"Authorization": f"Bearer {READER}"},
        ).json()
    m1, m2 = got["engines"]
    assert (m1["engine_version"], m1["calls"], m1["errors"], m1["items"]) == (
        "m1+report_review.v2@abc+both",
        3,
        1,
        2,
    )
    assert (m1["tokens_in"], m1["tokens_out"], m1["cost"]) == (300, 35, 1.0)
    assert m1["mean_latency_ms"] == 100.0
    assert (m2["calls"], m2["cost"]) == (1, 1.0)
    assert later["engines"] == []
