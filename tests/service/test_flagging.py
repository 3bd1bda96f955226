"""Precision first (issue 9): a finding below RADQC_FLAG_MIN_CONFIDENCE is stored and shown but
does not flag its item or fail its qc.summary; the worker's log counts the findings the API shows
(issue 14). Real pipeline, real database, the real Observation publisher."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from fhir_adapter.publisher import ObservationPublisher
from service.config import Settings
from service.db import Database
from service.engines.base import Finding, QCInput
from service.models import Item, Observation
from service.pipeline import Pipeline
from service.storage import FileStore
from service.taxonomy import SUMMARY_CODE, Severity
from tests.service.api.conftest import READER, make_app, make_components
from tests.service.test_worker import _report
from tests.support.servers import serve_app


@dataclass
class OneFinding:
    """Finds one typo at the confidence the report text names ("conf=0.35")."""

    name: str = "rules"
    version: str = "t"
    kinds: frozenset[str] = frozenset({"report"})

    def review(self, item: QCInput) -> list[Finding]:
        text = getattr(item, "text", "")
        confidence = float(text.split("conf=")[1].split()[0])
        return [Finding("report.typo", Severity.MINOR, "A typo.", [], confidence, "rules", "t")]


def _summary(db: Database, item_id: int) -> str:
    with db.reader() as session:
        row = session.scalars(
            select(Observation).where(
                Observation.item_id == item_id, Observation.code == SUMMARY_CODE
            )
        ).one()
    resource = json.loads(row.resource_json)
    return str(resource["valueCodeableConcept"]["coding"][0]["code"])


@pytest.mark.parametrize(
    ("confidence", "flagged", "summary"), [(0.35, False, "pass"), (0.5, True, "fail")]
)
def test_low_confidence_findings_are_kept_but_flag_nothing(
    db: Database, tmp_path: Path, confidence: float, flagged: bool, summary: str
) -> None:
    pipeline = Pipeline(
        db,
        FileStore(tmp_path),
        [OneFinding()],
        [],
        ObservationPublisher(writeback_enabled=False),
        flag_min_confidence=0.5,
    )
    item_id = _report(db, "r-floor", f"FINDINGS: conf={confidence} clear.")
    pipeline.process_item(item_id)
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        assert [(f.code, f.confidence) for f in item.findings] == [("report.typo", confidence)]
        assert item.flagged is flagged
    assert _summary(db, item_id) == summary


def test_the_default_floor_is_a_setting() -> None:
    assert Settings().flag_min_confidence == 0.5
    assert Settings(flag_min_confidence=0.0).flag_min_confidence == 0.0


@dataclass
class ThreeTypos:
    """Finds three typos, each at its own place in the text: three problems of one code."""

    name: str = "rules"
    version: str = "t"
    kinds: frozenset[str] = frozenset({"report"})

    def review(self, item: QCInput) -> list[Finding]:
        return [
            Finding(
                "report.typo",
                Severity.MINOR,
                f"Typo {n}.",
                [{"section": "findings", "start": 10 * n, "end": 10 * n + 4, "quote": "tyop"}],
                0.8,
                "rules",
                "t",
            )
            for n in range(3)
        ]


def test_the_done_log_counts_the_findings_the_api_shows(
    settings: Settings, db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 14: the worker said "item 3 done: 3 findings" where the API showed one merged
    finding. The log counts what is stored and shown: one finding per problem (issue 15), so
    three here once the findings table keeps one row per problem, one merged until then."""
    pipeline = Pipeline(
        db, FileStore(tmp_path), [ThreeTypos()], [], ObservationPublisher(writeback_enabled=False)
    )
    item_id = _report(db, "r-three", "FINDINGS: tyop tyop tyop.")
    with caplog.at_level(logging.INFO, logger="service.pipeline"):
        pipeline.process_item(item_id)
    [logged] = [
        int(m.group(1))
        for r in caplog.records
        if (m := re.search(rf"item {item_id} done: (\d+) findings", r.getMessage()))
    ]
    with serve_app(make_app(make_components(settings, db))) as url:
        shown = httpx.get(
            f"{url}/api/v1/items/{item_id}", headers={"Authorization": f"Bearer {READER}"}
        ).json()["findings"]
    assert logged == len(shown) == 3
    assert len({f["id"] for f in shown}) == len(shown)
