"""The worklist says how many drawn items come from those the engines passed (issue 15: none
were ever drawn, so misses could never reach an auditor), in words a radiographer reads."""

from __future__ import annotations

import re

import httpx

from fhir_adapter.publisher import ObservationPublisher
from service.config import Settings
from service.db import Database
from service.loop.audit_draw import AuditSampler, SamplingPlan
from service.taxonomy import Severity
from tests.service.api.conftest import AUDITOR, make_app, make_components
from tests.service.api.support import ScriptedEngine, add_report, drain
from tests.support.servers import serve_app


def test_the_worklist_counts_passed_items_drawn(settings: Settings, db: Database) -> None:
    comps = make_components(settings, db)
    flagged = [add_report(comps, f"wl-f{i}", text=f"FINDINGS: {i}.") for i in range(6)]
    passed = [add_report(comps, f"wl-p{i}", text=f"FINDINGS: clear {i}.") for i in range(4)]
    engine = ScriptedEngine(script={i: [("report.typo", Severity.MAJOR)] for i in flagged})
    assert drain(comps, engine, ObservationPublisher(writeback_enabled=False)) == 10
    drawn = AuditSampler(comps.db, SamplingPlan()).run(seed=2)
    drawn_passed = [d for d in drawn if d.stratum == "passed"]
    assert {d.item_id for d in drawn_passed} == set(passed)  # fewer than the minimum: all
    with (
        serve_app(make_app(comps)) as url,
        httpx.Client(base_url=url, cookies={"radqc_token": AUDITOR}, timeout=10) as client,
    ):
        page = client.get("/ui/worklist").text
    summary = re.search(r'<p id="draw-summary">(.*?)</p>', page, re.S)
    assert summary is not None
    assert re.search(r'<b id="drawn-passed">4</b> drawn from items the engines passed', page)
    assert f"{len(drawn)} items listed" in summary.group(1)
    assert "passed (no finding)" in page and "rarely audited code" in page
    assert "rare_code" not in page and "P(drawn)" not in page


def test_a_wrong_token_is_told_so(settings: Settings, db: Database) -> None:
    """Issue 15: a wrong token returned to the same sign-in message as no token at all."""
    comps = make_components(settings, db)
    with serve_app(make_app(comps)) as url:
        with httpx.Client(base_url=url, timeout=10, follow_redirects=True) as anonymous:
            assert "please sign in" in anonymous.get("/ui/worklist").text
        with httpx.Client(
            base_url=url,
            cookies={"radqc_token": "not-a-token-0123456789"},
            timeout=10,
            follow_redirects=True,
        ) as wrong:
            page = wrong.get("/ui/worklist").text
    assert "that token is not valid" in page
