"""Evaluation runs over audits stored in a real database (SQLite and PostgreSQL), through the
REST API and the CLI; the figures are checked against scikit-learn on the same truth."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sklearn.metrics import f1_score, precision_score, recall_score
from sqlalchemy import select, update

from service.components import Components
from service.config import Settings
from service.loop.audit import AuditRequest, AuditService, MissedIn, VerdictIn, audits_of
from service.loop.audited_sample import CODE_INDEX, CODE_LIST
from service.loop.evaluation import EvaluationRequest, EvaluationService
from service.loop.models import Audit, AuditFinding, AuditSelection, EvaluationRun
from service.models import Item
from tests.conftest import REPO
from tests.service.api.conftest import AUDITOR, READER, make_app
from tests.service.loop.support import REPORT_CODES, audited_reports
from tests.support.servers import serve_app


def _check_against_sklearn(
    metrics: dict, truth: np.ndarray, flags: np.ndarray, w: np.ndarray
) -> None:
    present = [
        CODE_INDEX[c]
        for c in REPORT_CODES
        if truth[:, CODE_INDEX[c]].any() or flags[:, CODE_INDEX[c]].any()
    ]
    for j in present:
        row = metrics["per_code"][CODE_LIST[j]]
        assert row["tp"] == int((truth[:, j] & flags[:, j]).sum())
        assert row["precision"]["value"] == pytest.approx(
            precision_score(truth[:, j], flags[:, j], sample_weight=w)
        )
        assert row["recall"]["value"] == pytest.approx(
            recall_score(truth[:, j], flags[:, j], sample_weight=w)
        )
        assert row["f1"]["value"] == pytest.approx(
            f1_score(truth[:, j], flags[:, j], sample_weight=w)
        )
        assert row["f1"]["low"] <= row["f1"]["value"] <= row["f1"]["high"]
    assert metrics["macro_f1"]["value"] == pytest.approx(
        f1_score(truth, flags, average="macro", labels=present, sample_weight=w)
    )
    assert metrics["micro_f1"]["value"] == pytest.approx(
        f1_score(truth, flags, average="micro", labels=present, sample_weight=w)
    )


def test_weighted_run_matches_sklearn_and_is_stored(comps: Components) -> None:
    known = audited_reports(comps, 40, seed=3)
    rng = np.random.default_rng(3)
    probabilities = rng.choice([1.0, 0.5, 0.1], size=len(known.item_ids))
    with comps.db.transaction() as session:
        for item_id, p in zip(known.item_ids, probabilities, strict=True):
            session.add(
                AuditSelection(
                    item_id=item_id,
                    strategy="test",
                    inclusion_probability=float(p),
                    selected_on="2024-01-01",
                )
            )
    service = EvaluationService(comps.db)
    weighted = service.run(EvaluationRequest(), "tester")
    _check_against_sklearn(weighted.metrics, known.truth, known.flags, 1 / probabilities)
    plain = service.run(EvaluationRequest(weighted=False), "tester")
    _check_against_sklearn(plain.metrics, known.truth, known.flags, np.ones(len(known.item_ids)))
    assert weighted.metrics["macro_f1"]["value"] != plain.metrics["macro_f1"]["value"]
    assert weighted.n_items == 40
    assert list(weighted.metrics["by_configuration"]) == ["rules@scripted-1"]
    assert sorted(weighted.sample) == sorted(weighted.sample) and len(weighted.sample) == 40
    assert service.get(weighted.id).metrics == weighted.metrics
    assert [r.id for r in service.list()] == [plain.id, weighted.id]


def test_an_audit_with_unjudged_findings_counts_nowhere(comps: Components) -> None:
    """Issue 15: a legacy audit (stored before every finding needed a verdict) whose findings
    were never judged made each of them a false positive; it is now left out."""
    known = audited_reports(comps, 10, seed=5)
    service = EvaluationService(comps.db)
    before = service.run(EvaluationRequest(weighted=False), "tester")
    flagged_row = next(r for r in range(10) if known.flags[r].any())
    with comps.db.transaction() as session:  # version 2 of one audit, its verdicts left out
        [audit] = audits_of(session, known.item_ids[flagged_row])[-1:]
        later = Audit(item_id=audit.item_id, version=audit.version + 1, auditor="legacy")
        later.findings = [
            AuditFinding(
                finding_id=f.finding_id,
                code=f.code,
                engine=f.engine,
                engine_version=f.engine_version,
                severity=f.severity,
                confidence=f.confidence,
                verdict=None,
            )
            for f in audit.findings
        ]
        session.add(later)
    after = service.run(EvaluationRequest(weighted=False), "tester")
    assert after.n_items == before.n_items - 1
    keep = [r for r in range(10) if r != flagged_row]
    _check_against_sklearn(after.metrics, known.truth[keep], known.flags[keep], np.ones(len(keep)))


def test_time_window_and_slices(comps: Components) -> None:
    known = audited_reports(comps, 12, seed=4)
    base = dt.datetime(2024, 1, 15, tzinfo=dt.UTC)
    with comps.db.transaction() as session:
        for i, item_id in enumerate(known.item_ids):  # half in January, half in February
            when = base + dt.timedelta(days=31 * (i % 2))
            session.execute(update(Item).where(Item.id == item_id).values(received_at=when))
    service = EvaluationService(comps.db)
    january = service.run(
        EvaluationRequest(
            since=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            until=dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
        ),
        "tester",
    )
    assert january.n_items == 6
    rows = [i for i in range(12) if i % 2 == 0]
    _check_against_sklearn(january.metrics, known.truth[rows], known.flags[rows], np.ones(6))
    everything = service.run(EvaluationRequest(), "tester")
    months = everything.metrics["slices"]["month"]
    assert sorted(months) == ["2024-01", "2024-02"]
    assert months["2024-01"]["micro_f1"]["value"] == pytest.approx(
        january.metrics["micro_f1"]["value"]
    )
    assert everything.metrics["slices"]["modality"]["report"]["n_items"] == 12


@pytest.fixture
def base_url(comps: Components) -> Iterator[str]:
    with serve_app(make_app(comps)) as url:
        yield url


def test_rest_api(comps: Components, base_url: str) -> None:
    known = audited_reports(comps, 15, seed=5)
    with httpx.Client(
        base_url=base_url, headers={"Authorization": f"Bearer {AUDITOR}"}, timeout=30
    ) as http:
        created = http.post("/api/v1/evaluations", json={"kind": "report"})
        assert created.status_code == 201, created.text
        run = created.json()
        for key in (
            "per_code",
            "macro_f1",
            "micro_f1",
            "detection_rate",
            "additional_discovery_rate",
            "n_items",
        ):
            assert key in run
        assert run["n_items"] == 15
        for figures in run["per_code"].values():
            for name in ("precision", "recall", "f1"):
                assert set(figures[name]) == {"value", "low", "high", "n"}
        _check_against_sklearn(run, known.truth, known.flags, np.ones(15))
        assert http.get(f"/api/v1/evaluations/{run['id']}").json() == run
        http.post("/api/v1/evaluations", json={"engine": "rules"})
        page = http.get("/api/v1/evaluations", params={"limit": 1}).json()
        assert len(page["runs"]) == 1 and page["next_cursor"]
        older = http.get("/api/v1/evaluations", params={"cursor": page["next_cursor"]}).json()
        assert [r["id"] for r in older["runs"]] == [run["id"]]
        assert http.get("/api/v1/evaluations/9999").status_code == 404
        bad = http.post("/api/v1/evaluations", json={"since": "yesterday"})
        assert bad.status_code == 422 and "since" in bad.json()["message"]
        bad = http.post("/api/v1/evaluations", json={"kind": "video"})
        assert bad.status_code == 422
        http.cookies.set("radqc_token", AUDITOR)
        report = http.get(f"/ui/evaluations/{run['id']}")
        assert report.status_code == 200 and report.text.count("<svg") >= 2
        assert "report.laterality" in report.text
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {READER}"}) as http:
        assert http.post("/api/v1/evaluations", json={}).status_code == 403
        assert http.get(f"/api/v1/evaluations/{run['id']}").status_code == 200


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "RADQC_DATABASE_URL": settings.effective_database_url,
        "RADQC_DATA_DIR": str(settings.data_dir),
        "RADQC_API_TOKENS": "admin:admin-token-01234567890",
    }
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_evaluate_sample_and_export(
    comps: Components, settings: Settings, tmp_path: Path
) -> None:
    known = audited_reports(comps, 10, seed=6)
    done = _cli(settings, "evaluate")
    assert done.returncode == 0, done.stderr
    assert "macro-F1" in done.stdout and "report.laterality" in done.stdout
    assert "[" in done.stderr  # the progress bar
    with comps.db.reader() as session:
        assert session.scalars(select(EvaluationRun.created_by)).all() == ["cli"]

    out = tmp_path / "curated"
    exported = _cli(settings, "export", "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    lines = (out / "curated.jsonl").read_text().splitlines()
    assert len(lines) == 10
    import json

    records = {json.loads(line)["item_id"]: json.loads(line) for line in lines}
    for row, item_id in enumerate(known.item_ids):
        expected = sorted(CODE_LIST[j] for j in np.nonzero(known.truth[row])[0])
        assert records[item_id]["true_codes"] == expected
    bundle = json.loads((out / "bundle.json").read_text())
    assert bundle["type"] == "collection"
    kinds = {e["resource"]["resourceType"] for e in bundle["entry"]}
    assert kinds == {"DiagnosticReport", "Observation"}

    sampled = _cli(settings, "sample", "--seed", "1", "--quota", "3")
    assert sampled.returncode == 0, sampled.stderr
    assert "drew 3 items" in sampled.stdout
    again = _cli(settings, "sample", "--seed", "2", "--quota", "3")
    assert "drew 0 items" in again.stdout  # today's quota is used
    with comps.db.reader() as session:
        drawn = session.scalars(select(AuditSelection)).all()
    assert len(drawn) == 3
    assert all(0 < row.inclusion_probability <= 1 for row in drawn)


def test_a_review_that_confirms_more_is_additional_discovery(comps: Components) -> None:
    known = audited_reports(comps, 6, seed=8)
    # item 0 is reviewed again: an error nobody had in the reference set is confirmed
    row = 0
    extra = next(c for c in REPORT_CODES if not known.truth[row, CODE_INDEX[c]])
    with comps.db.reader() as session:
        first = audits_of(session, known.item_ids[row])[0]
    keep = [m.code for m in first.missed]
    verdicts = [
        VerdictIn(f.finding_id, f.verdict, f.reason)
        for f in first.findings
        if f.finding_id is not None and f.verdict is not None
    ]
    AuditService(comps.db).submit(
        known.item_ids[row],
        "auditor:second",
        AuditRequest(verdicts, [*(MissedIn(c) for c in keep), MissedIn(extra)]),
    )
    run = EvaluationService(comps.db).run(EvaluationRequest(weighted=False), "tester")
    adr = run.metrics["additional_discovery_rate"]
    assert adr["additional"] == 1
    assert adr["n"] == int(known.truth.sum())  # the reference errors
    assert adr["value"] == pytest.approx(1 / known.truth.sum())
