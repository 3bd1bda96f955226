"""Building items with findings for the FHIR adapter tests: reports, images, findings."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from fhir.resources.R4B.observation import Observation as R4BObservation
from sqlalchemy import update

from fhir_adapter import observations as obs
from service import queue
from service.db import Database
from service.engines.base import Finding
from service.findings import replace_findings
from service.ingest import (
    QueueOptions,
    ReceivedInstance,
    ReceivedReport,
    store_instance,
    store_report,
)
from service.models import Item, ItemStatus, Job, JobStatus
from service.pipeline import Publisher
from service.taxonomy import Severity

OPTIONS = QueueOptions(max_attempts=3, study_stable_seconds=3600)
PROCESSED_AT = dt.datetime(2024, 5, 1, 10, 20, 30, 123456, tzinfo=dt.UTC)
STUDY_UID = "1.2.826.0.1.3680043.8.498.10"
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


# -- shared helpers --------------------------------------------------------------------------
def finding(
    code: str,
    *,
    severity: Severity = Severity.MAJOR,
    message: str | None = None,
    confidence: float = 0.8,
    engine: str = "rules",
    scope: str = "item",
    evidence: list[dict[str, Any]] | None = None,
) -> Finding:
    return Finding(
        code=code,
        severity=severity,
        message=message or f"{code} found in the test",
        evidence=evidence
        if evidence is not None
        else [{"section": "impression", "start": 12, "end": 21, "quote": "left lung"}],
        confidence=confidence,
        engine=engine,
        engine_version=f"{engine}-1.0",
        scope=scope,
    )


def add_report_item(
    db: Database,
    report_id: str = "r1",
    *,
    subject: str | None = "Patient/p1",
    text: str = "FINDINGS: clear.\nIMPRESSION: normal.",
    times: dict[str, Any] | None = None,
    status: str = "final",
    contained: list[dict[str, Any]] | None = None,
) -> int:
    """A report version stored through ingest; its QC job is marked done (we play the worker).

    ``times``: the report's ``effectiveDateTime``, ``effectivePeriod`` or ``issued``;
    ``status``: its DiagnosticReport.status; ``contained``: its contained resources."""
    digest = hashlib.sha256(f"{report_id}|{text}|{status}".encode()).hexdigest()
    resource = {"resourceType": "DiagnosticReport", "id": report_id, **(times or {})}
    if contained:
        resource["contained"] = contained
        resource["subject"] = {"reference": subject}
    received = ReceivedReport(
        report_id=report_id,
        content_hash=digest,
        resource_json=json.dumps(resource),
        text=text,
        sections={},
        status=status,
        patient_sex="female",
        subject_reference=subject,
        exam_code="36643-5",
        exam_display="XR Chest 2 Views",
        accession=f"ACC-{report_id}",
        study_instance_uid=None,
    )
    with db.transaction() as session:
        item_id = store_report(session, received, OPTIONS).item_id
        _settle_jobs(session)
    return item_id


def add_image_item(
    db: Database,
    sop_uid: str = "1.2.826.0.1.3680043.8.498.11",
    *,
    patient_id: str | None = "PID-0001",
    study_uid: str = STUDY_UID,
    content: str = "a",
    path: str | None = None,
) -> int:
    """An image version stored through ingest (another ``content``: a new version of the UID);
    ``path``: where its file is, relative to the file store (none is written by default)."""
    received = ReceivedInstance(
        sop_instance_uid=sop_uid,
        sop_class_uid="1.2.840.10008.5.1.4.1.1.1.1",
        study_instance_uid=study_uid,
        series_instance_uid=study_uid + ".1",
        modality="DX",
        accession="ACC-IMG",
        patient_id=patient_id,
        transfer_syntax_uid="1.2.840.10008.1.2.1",
        path=path or f"ab/cd/{sop_uid}-{content}.dcm",
        sha256=hashlib.sha256(f"{sop_uid}|{content}".encode()).hexdigest(),
        size_bytes=1000,
        calling_ae="MODALITY",
    )
    with db.transaction() as session:
        item_id = store_instance(session, received, OPTIONS).item_id
        _settle_jobs(session)
    return item_id


def _settle_jobs(session: Any) -> None:
    session.execute(update(Job).where(Job.kind != queue.WRITEBACK).values(status=JobStatus.DONE))


def store_findings(
    db: Database,
    item_id: int,
    findings: Sequence[Finding],
    *,
    publisher: Publisher | None,
    done: bool = True,
    engine: str = "rules",
    scope: str = "item",
    processed_at: dt.datetime = PROCESSED_AT,
) -> None:
    """What the pipeline does in its last transaction: findings, status, then publish."""
    with db.transaction() as session:
        item = session.get(Item, item_id)
        assert item is not None
        replace_findings(session, item, engine, scope, findings)
        if done:
            item.status = ItemStatus.DONE
            item.processed_at = processed_at
        if publisher is not None:
            publisher.publish(session, item)


def build_all(db: Database, item_id: int) -> list[dict[str, Any]]:
    with db.reader() as session:
        item = session.get(Item, item_id)
        assert item is not None
        context = obs.item_context(item)
        built = [obs.build_finding_observation(context, f) for f in item.findings]
        return [*built, obs.build_summary_observation(context, item.findings)]


def validate(resource: dict[str, Any]) -> R4BObservation:
    return R4BObservation.model_validate(resource)


# -- tests -----------------------------------------------------------------------------------
