"""The rules engines as the pipeline uses them: protocol, dispatch, finding contract, and a run
through the real pipeline on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom import dcmread

from service import ingest
from service.db import Database
from service.engines.base import Engine, Finding, ImageInput, StudyEngine
from service.engines.rules import RULES_VERSION, RulesEngine, StudyRulesEngine
from service.errors import EngineError
from service.models import Item
from service.pipeline import NullPublisher, Pipeline
from service.reports.sections import sections_dict
from service.storage import FileStore
from service.taxonomy import CODES, Severity
from tests.service.engines.support import CXR_FILES, image_input, iu_rows, iu_text, report_input

OPTIONS = ingest.QueueOptions(max_attempts=3, study_stable_seconds=0)


def test_protocols_and_identity() -> None:
    engine: Engine = RulesEngine()
    study_engine: StudyEngine = StudyRulesEngine()
    assert (engine.name, engine.version, engine.kinds) == (
        "rules",
        RULES_VERSION,
        frozenset({"image", "report"}),
    )
    assert (study_engine.name, study_engine.version) == ("rules", RULES_VERSION)
    assert RULES_VERSION.startswith("rules-")


def _contract(finding: Finding, kind: str) -> None:
    assert finding.code in CODES
    assert CODES[finding.code].kind == kind
    assert (finding.engine, finding.engine_version) == ("rules", RULES_VERSION)
    assert isinstance(finding.severity, Severity)
    assert 0.3 <= finding.confidence <= 1.0
    assert finding.evidence
    assert json.dumps(finding.evidence)
    # one sentence: ends with a full stop, no line breaks, no second sentence
    assert finding.message.endswith(".")
    assert "\n" not in finding.message
    assert ". " not in finding.message.rstrip(".")


def test_every_image_finding_keeps_the_contract(shared_data: Path) -> None:
    engine = RulesEngine()
    for name in CXR_FILES:
        for finding in engine.review(image_input(shared_data / CXR_FILES[name])):
            _contract(finding, "image")
            for evidence in finding.evidence:
                assert {"tag", "keyword"} <= set(evidence)
                assert evidence["tag"].startswith("(")
                assert len(evidence["tag"]) == 11


def test_every_report_finding_keeps_the_contract(shared_data: Path) -> None:
    engine = RulesEngine()
    rows = iu_rows(shared_data)[:300]
    texts = [iu_text(r) for r in rows] + ["", "FINDINGS: a [***] and", "IMPRESSION:"]
    for text in texts:
        for finding in engine.review(report_input(text)):
            _contract(finding, "report")
            for evidence in finding.evidence:
                assert {"section", "start", "end", "quote"} <= set(evidence)
                assert text[evidence["start"] : evidence["end"]] == evidence["quote"]


def test_a_failing_check_names_itself(shared_data: Path) -> None:
    def check_broken(item: ImageInput) -> list[Finding]:
        raise ZeroDivisionError("boom")

    engine = RulesEngine(image_checks=[check_broken])
    with pytest.raises(EngineError, match="check_broken failed: ZeroDivisionError"):
        engine.review(image_input(shared_data / CXR_FILES["siim"]))


def _store_image(db: Database, files: FileStore, path: Path) -> int:
    header = dcmread(path, stop_before_pixels=True)
    stored = files.put([path.read_bytes()])
    received = ingest.ReceivedInstance(
        sop_instance_uid=str(header.SOPInstanceUID),
        sop_class_uid=str(header.SOPClassUID),
        study_instance_uid=str(header.StudyInstanceUID),
        series_instance_uid=str(header.get("SeriesInstanceUID", "")) or None,
        modality=str(header.get("Modality", "")) or None,
        accession=None,
        patient_id=None,
        transfer_syntax_uid=str(header.file_meta.TransferSyntaxUID),
        path=stored.relpath,
        sha256=stored.sha256,
        size_bytes=stored.size,
        calling_ae="TEST",
    )
    return ingest.ingest(db, ingest.store_instance, received, OPTIONS).item_id


def _store_report(db: Database, report_id: str, text: str) -> int:
    received = ingest.ReceivedReport(
        report_id=report_id,
        content_hash=report_id.ljust(64, "0"),
        resource_json="{}",
        text=text,
        sections=sections_dict(text),
        status="final",
        patient_sex=None,
        subject_reference=None,
        exam_code=None,
        exam_display=None,
        accession=None,
        study_instance_uid=None,
    )
    return ingest.ingest(db, ingest.store_report, received, OPTIONS).item_id


def _pipeline(db: Database, files: FileStore) -> Pipeline:
    return Pipeline(db, files, [RulesEngine()], [StudyRulesEngine()], NullPublisher())


def _stored(db: Database, *item_ids: int) -> dict[int, list[tuple[str, ...]]]:
    """Each item's findings: (code, severity, scope, problem key), one per problem."""
    with db.reader() as session:
        items = {item_id: session.get(Item, item_id) for item_id in item_ids}
        return {
            item_id: sorted((f.code, f.severity, f.scope, f.problem_key) for f in item.findings)
            for item_id, item in items.items()
            if item is not None
        }


def test_images_through_the_real_pipeline(db: Database, tmp_path: Path, shared_data: Path) -> None:
    files = FileStore(tmp_path / "files")
    pipeline = _pipeline(db, files)
    siim = _store_image(db, files, shared_data / CXR_FILES["siim"])
    # the same SOP Instance UID again, header now saying MONOCHROME1: a new version
    resent = _store_image(db, files, shared_data / CXR_FILES["siim_fake_mono1"])
    test1 = _store_image(db, files, shared_data / CXR_FILES["test1"])
    for item_id in (siim, resent, test1):
        pipeline.process_item(item_id)
    stored = _stored(db, siim, resent, test1)
    assert stored[siim] == []
    # One row per problem (issue 15): the new version of a known UID and the MONOCHROME1 label
    # on MONOCHROME2 pixels are two cxr.metadata findings, each judged on its own.
    assert stored[resent] == [
        (
            "cxr.metadata",
            "major",
            "item",
            "PhotometricInterpretation+PixelData@0,0,1024,1024[horizontal_contrast]",
        ),
        ("cxr.metadata", "major", "item", "SOPInstanceUID"),
    ]
    assert stored[test1] == [
        ("cxr.metadata", "minor", "item", "PixelSpacing+ImagerPixelSpacing"),
        ("cxr.metadata", "minor", "item", "ViewPosition+PatientPosition"),
    ]
    with db.reader() as session:
        item = session.get(Item, resent)
        assert item is not None
        assert item.flagged
        keywords = {e["keyword"] for f in item.findings for e in f.evidence}
        # a new version of a known UID, and a MONOCHROME1 label on MONOCHROME2 pixels
        assert keywords == {"SOPInstanceUID", "PhotometricInterpretation", "PixelData"}


def test_a_study_with_two_patients_through_the_real_pipeline(
    db: Database, tmp_path: Path, shared_data: Path
) -> None:
    files = FileStore(tmp_path / "files")
    pipeline = _pipeline(db, files)
    test1 = shared_data / CXR_FILES["test1"]
    refiled = dcmread(shared_data / CXR_FILES["test2"])  # another patient's image ...
    refiled.StudyInstanceUID = dcmread(test1, stop_before_pixels=True).StudyInstanceUID
    refiled.save_as(tmp_path / "refiled.dcm")  # ... filed under test1's study
    first = _store_image(db, files, test1)
    second = _store_image(db, files, tmp_path / "refiled.dcm")
    for item_id in (first, second):
        pipeline.process_item(item_id)
    with db.reader() as session:
        item = session.get(Item, first)
        assert item is not None
        assert item.study_id is not None
        study_id = item.study_id
    pipeline.process_study(study_id)
    stored = _stored(db, first, second)
    for item_id in (first, second):
        assert stored[item_id] == [
            ("cxr.metadata", "critical", "study", "PatientID"),
            ("cxr.metadata", "minor", "item", "PixelSpacing+ImagerPixelSpacing"),
            ("cxr.metadata", "minor", "item", "ViewPosition+PatientPosition"),
        ]


def test_reports_through_the_real_pipeline(db: Database, tmp_path: Path, shared_data: Path) -> None:
    pipeline = _pipeline(db, FileStore(tmp_path / "files"))
    row = next(r for r in iu_rows(shared_data) if r["findings"] and r["impression"])
    clean = _store_report(db, "clean", iu_text(row))
    cut = _store_report(db, "cut", iu_text({**row, "impression": "Opacity [***] consistent with"}))
    for item_id in (clean, cut):
        pipeline.process_item(item_id)
    stored = _stored(db, clean, cut)
    assert stored[clean] == []
    assert stored[cut] == [
        ("report.omission", "critical", "item", "impression@280-309"),
        ("report.terminology", "major", "item", "impression@288-293"),
    ]
