"""Images whose stored file retention removed (``instances.file_removed_at``): the pipeline never
opens them. Their own QC job finishes without running an engine (no crash, no retry), study
checks and a report's checks leave them out, and re-runs read no input for them. Real pipeline,
real queue and worker, real SQLite and PostgreSQL, real files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select, update

from service import queue
from service.components import Components
from service.config import Settings
from service.db import Database
from service.engines.base import Finding, ReportInput, StudyInput
from service.errors import NotFoundError
from service.models import FindingRow, Item, Job, Study
from service.pipeline import NullPublisher, Pipeline
from service.storage import FileRemovedError
from service.taxonomy import Severity
from tests.service.api.conftest import make_components
from tests.service.api.support import (
    ScriptedEngine,
    add_image,
    add_report,
    drain,
    remove_file,
)

OTHER_FILE = "cxr/tfio_nih_dicom_00000001_000.dcm"  # other bytes: a file of its own


@dataclass
class StudyCheck:
    """A study engine that records the images it was given and finds one problem on each."""

    name: str = "rules"
    version: str = "study-1"
    seen: list[list[int]] = field(default_factory=list)

    def review_study(self, study: StudyInput) -> dict[int, list[Finding]]:
        ids = [item_id for item_id, _ in study.images]
        assert set(study.paths) == set(ids)
        self.seen.append(ids)
        finding = Finding(
            "cxr.metadata", Severity.MINOR, "Study check.", [], 0.9, self.name, self.version
        )
        return {item_id: [finding] for item_id in ids}


class MustNotRun:
    name = "rules"
    version = "never"
    kinds = frozenset({"image", "report"})

    def review(self, item: object) -> list[Finding]:
        raise AssertionError("an engine ran on an image whose file was removed")


@pytest.fixture
def comps(settings: Settings, db: Database) -> Components:
    return make_components(settings, db)


def findings_of(comps: Components, item_id: int) -> list[tuple[str, str]]:
    with comps.db.reader() as session:
        rows = session.execute(
            select(FindingRow.code, FindingRow.scope).where(FindingRow.item_id == item_id)
        ).all()
    return sorted((code, scope) for code, scope in rows)


def test_a_qc_job_on_a_removed_file_finishes_without_running_an_engine(
    comps: Components, shared_data: Path
) -> None:
    image = add_image(comps, shared_data, "1.2.840.77.1", "1.2.77.1", "ACC-77")
    drain(
        comps, ScriptedEngine(script={image: [("cxr.exposure", Severity.MAJOR)]}), NullPublisher()
    )
    remove_file(comps, image)
    with comps.db.transaction() as session:  # queued again, as a reprocess would
        queue.enqueue(session, queue.QC, f"item:{image}", item_id=image, requeue=True)

    pipeline = Pipeline(comps.db, comps.files, [MustNotRun()], [], NullPublisher())
    pipeline.process_item(image)  # no exception: the job is done, never retried

    with comps.db.reader() as session:
        item = session.get(Item, image)
        assert item is not None
        assert item.status == "done"  # as it was, not left processing
    assert findings_of(comps, image) == [("cxr.exposure", "item")]


def test_study_checks_leave_removed_images_out_and_keep_their_findings(
    comps: Components, shared_data: Path
) -> None:
    first = add_image(comps, shared_data, "1.2.840.78.1", "1.2.78.1", "ACC-78")
    second = add_image(comps, shared_data, "1.2.840.78.2", "1.2.78.1", "ACC-78", OTHER_FILE)
    drain(comps, ScriptedEngine(), NullPublisher())
    check = StudyCheck()
    pipeline = Pipeline(comps.db, comps.files, [], [check], NullPublisher())
    with comps.db.reader() as session:
        study_id = session.scalars(select(Study.id)).one()
    pipeline.process_study(study_id)
    assert check.seen == [[first, second]]

    remove_file(comps, first)
    pipeline.process_study(study_id)  # reads only the stored file
    assert check.seen[-1] == [second]
    assert findings_of(comps, first) == [("cxr.metadata", "study")]  # kept as it was

    remove_file(comps, second)
    pipeline.process_study(study_id)  # nothing left to read: no engine runs, the study is checked
    assert len(check.seen) == 2
    with comps.db.reader() as session:
        assert session.scalar(select(Study.checked_at).where(Study.id == study_id)) is not None
    assert findings_of(comps, second) == [("cxr.metadata", "study")]


def test_re_runs_read_no_input_for_a_removed_file(comps: Components, shared_data: Path) -> None:
    kept = add_image(comps, shared_data, "1.2.840.79.1", "1.2.79.1", "ACC-79")
    gone = add_image(comps, shared_data, "1.2.840.79.2", "1.2.79.1", "ACC-79", OTHER_FILE)
    report = add_report(comps, "rep-79", accession="ACC-79")
    drain(comps, ScriptedEngine(), NullPublisher())
    remove_file(comps, gone)
    pipeline = Pipeline(comps.db, comps.files, [], [], NullPublisher())

    with pytest.raises(FileRemovedError, match="removed by retention") as raised:
        pipeline.stored_input(gone)  # shadow runs, canaries, replay: skipped, not crashed
    assert isinstance(raised.value, NotFoundError)  # replay counts it and goes on
    assert raised.value.item_id == gone

    report_input = pipeline.stored_input(report)
    assert isinstance(report_input, ReportInput)
    assert len(report_input.image_headers) == 1  # the kept image's header only
    assert pipeline.stored_input(kept).item_id == kept


def test_a_worker_completes_the_job_of_a_removed_file_at_the_first_attempt(
    comps: Components, shared_data: Path
) -> None:
    image = add_image(comps, shared_data, "1.2.840.80.1", "1.2.80.1", None)
    drain(comps, ScriptedEngine(), NullPublisher())
    remove_file(comps, image)
    with comps.db.transaction() as session:
        queue.enqueue(session, queue.QC, f"item:{image}", item_id=image, requeue=True)
        session.execute(update(Job).where(Job.item_id == image).values(max_attempts=5))
    assert (
        drain(comps, ScriptedEngine(script={image: RuntimeError("opened")}), NullPublisher()) == 1
    )
    with comps.db.reader() as session:
        job = session.scalars(select(Job).where(Job.key == f"item:{image}")).one()
    assert (job.status, job.attempts, job.last_error) == ("done", 1, None)
