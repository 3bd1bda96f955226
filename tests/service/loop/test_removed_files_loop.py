"""Audited films whose stored file retention removed (``instances.file_removed_at``) in the
closed loop: ``radqc replay`` counts them as removed by policy, not as missing from the
database, and ``radqc export`` leaves their DICOM file out with a count instead of failing.
Real pipeline, worker, audits and files, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from fhir_adapter.publisher import ObservationPublisher
from service.components import Components
from service.config import Settings
from service.loop.audit import AuditRequest, AuditService, VerdictIn
from service.loop.curation import export_curated
from service.loop.engine_configs import EngineRegistry
from service.loop.models import ShadowResult
from service.loop.replay import curated_item_ids, replay
from service.loop.shadow import ShadowRunner
from service.models import FindingRow
from service.pipeline import NullPublisher, Pipeline
from service.taxonomy import Severity
from tests.service.api.support import ScriptedEngine, add_image, add_report, drain, remove_file

RULES = {"rules": {"min_confidence": 0.0}}
OTHER_FILE = "cxr/tfio_nih_dicom_00000001_000.dcm"  # other bytes: a stored file of its own


def _audit_all(comps: Components, item_ids: list[int]) -> None:
    """Each item audited once: every finding confirmed."""
    service = AuditService(comps.db)
    for item_id in item_ids:
        with comps.db.reader() as session:
            ids = session.scalars(select(FindingRow.id).where(FindingRow.item_id == item_id))
            verdicts = [VerdictIn(finding_id, "confirmed", "t") for finding_id in ids]
        service.submit(item_id, "auditor:t", AuditRequest(verdicts))


def _audited_items(comps: Components, shared_data: Path) -> dict[str, int]:
    """An audited report, an audited film kept and an audited film whose file is removed."""
    ids = {
        "report": add_report(comps, "rep-91", text="FINDINGS: clear.\nIMPRESSION: normal."),
        "kept": add_image(comps, shared_data, "1.2.840.91.1", "1.2.91.1", "ACC-91"),
        "removed": add_image(comps, shared_data, "1.2.840.91.2", "1.2.91.1", "ACC-91", OTHER_FILE),
    }
    script = {item_id: [("cxr.exposure", Severity.MAJOR)] for item_id in ids.values()}
    script[ids["report"]] = [("report.typo", Severity.MINOR)]
    engine = ScriptedEngine(script=script)  # type: ignore[arg-type]
    assert drain(comps, engine, ObservationPublisher(writeback_enabled=False)) == 3
    _audit_all(comps, list(ids.values()))
    return ids


def test_replay_counts_a_removed_film_as_removed_not_missing(
    comps: Components, settings: Settings, shared_data: Path
) -> None:
    ids = _audited_items(comps, shared_data)
    remove_file(comps, ids["removed"])
    config = EngineRegistry(comps.db).record("replayed", RULES, "t")
    runner = ShadowRunner(
        comps.db, Pipeline(comps.db, comps.files, [], [], NullPublisher()), settings
    )
    try:
        summary = replay(runner, config.id, [ids["report"], ids["removed"], 10_000])
    finally:
        runner.close()
    assert (summary.ran, summary.failed, summary.removed, summary.missing) == (1, 0, 1, 1)
    assert summary.errors == []
    line = summary.describe(3)
    assert "1 ran" in line and "1 removed by retention" in line
    assert "1 not in this database" in line
    with comps.db.reader() as session:
        stored = set(session.scalars(select(ShadowResult.item_id)))
    assert stored == {ids["report"]}  # nothing stored for the removed film


def test_export_leaves_a_removed_file_out_and_counts_it(
    comps: Components, shared_data: Path, tmp_path: Path
) -> None:
    ids = _audited_items(comps, shared_data)
    remove_file(comps, ids["removed"])
    out = tmp_path / "curated"

    written = export_curated(comps.db, comps.files, out)

    assert written["items"] == 3  # the removed film's audit is still part of the set
    assert written["dicom_files"] == 1
    assert written["dicom_files_removed"] == 1
    records = {
        r["item_id"]: r for r in map(json.loads, (out / "curated.jsonl").read_text().splitlines())
    }
    assert set(records) == set(ids.values())
    kept, removed = records[ids["kept"]], records[ids["removed"]]
    assert (out / kept["dicom_file"]).is_file()
    assert "dicom_file_removed_at" not in kept
    assert removed["dicom_file"] is None
    assert removed["dicom_file_removed_at"]  # when retention removed it
    assert sorted(p.name for p in (out / "dicom").iterdir()) == ["1.2.840.91.1_v1.dcm"]
    bundle = json.loads((out / "bundle.json").read_text())
    assert written["bundle_entries"] == len(bundle["entry"]) > 0  # its Observations stay
    assert sorted(curated_item_ids(out)) == sorted(ids.values())  # replay still reads it
