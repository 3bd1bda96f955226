"""Export of the curated set: every audited item with its truth, for offline benchmarking.

Three views of the same items (their latest audit each): ``curated.jsonl`` (one item per line:
identifiers, the findings as audited with their verdicts, the missed errors, the true codes, the
inclusion probability), ``bundle.json`` (a FHIR R4 ``collection`` Bundle of the reports as
received and the Observations radqc published for them, as stored) and ``dicom/`` (the DICOM
files, byte for byte). Patient names and report text stay inside the stored resources and files;
nothing here adds them to logs.

A film whose stored file ``radqc retention`` removed (``instances.file_removed_at``,
:mod:`service.retention`) stays in the set (its audit, findings and Observations are kept) without
its file: its record says ``"dicom_file": null`` and ``dicom_file_removed_at``, and the counts
returned (and printed by ``radqc export``) say how many files were left out
(``dicom_files_removed``).
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from service.db import Database
from service.loop.audit import true_codes
from service.loop.models import Audit, AuditSelection
from service.models import Item, Observation
from service.storage import FileStore

log = logging.getLogger(__name__)


def export_curated(db: Database, files: FileStore, out: Path) -> dict[str, int]:
    """Write the curated set into ``out``; returns how many of each thing were written."""
    (out / "dicom").mkdir(parents=True, exist_ok=True)
    latest = select(Audit.item_id, func.max(Audit.version).label("v")).group_by(Audit.item_id)
    entries: list[dict[str, Any]] = []
    counts = {"items": 0, "dicom_files": 0, "dicom_files_removed": 0, "bundle_entries": 0}
    with db.reader() as session, (out / "curated.jsonl").open("w", encoding="utf-8") as jsonl:
        wanted: dict[int, int] = {row[0]: row[1] for row in session.execute(latest).all()}
        weights = dict(
            session.execute(
                select(AuditSelection.item_id, AuditSelection.inclusion_probability)
            ).all()
        )
        audits = session.scalars(
            select(Audit)
            .where(Audit.item_id.in_(wanted))
            .options(selectinload(Audit.findings), selectinload(Audit.missed))
            .order_by(Audit.item_id, Audit.version)
        )
        for audit in audits:
            if wanted[audit.item_id] != audit.version:
                continue
            item = session.get(Item, audit.item_id)
            assert item is not None
            record = _record(item, audit, weights.get(item.id, 1.0))
            if item.instance is not None and item.instance.file_removed_at is not None:
                record["dicom_file"] = None  # removed by retention: never read
                record["dicom_file_removed_at"] = item.instance.file_removed_at.isoformat()
                counts["dicom_files_removed"] += 1
            elif item.instance is not None:
                name = f"{item.instance.sop_instance_uid}_v{item.instance.version}.dcm"
                shutil.copyfile(files.path(item.instance.path), out / "dicom" / name)
                record["dicom_file"] = f"dicom/{name}"
                counts["dicom_files"] += 1
            if item.report_version_row is not None:
                entries.append(_report_entry(item))
            jsonl.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")
            counts["items"] += 1
            for observation in session.scalars(
                select(Observation).where(Observation.item_id == item.id).order_by(Observation.id)
            ):
                entries.append(
                    {
                        "fullUrl": f"Observation/{observation.id}",
                        "resource": json.loads(observation.resource_json),
                    }
                )
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    (out / "bundle.json").write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    counts["bundle_entries"] = len(entries)
    log.info(
        "exported %d audited items to %s (%d DICOM files, %d left out: removed by retention)",
        counts["items"],
        out,
        counts["dicom_files"],
        counts["dicom_files_removed"],
    )
    return counts


def _record(item: Item, audit: Audit, probability: float) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "kind": item.kind,
        "sop_instance_uid": item.sop_instance_uid,
        "study_instance_uid": item.study_instance_uid,
        "accession": item.accession,
        "report_id": item.report_id,
        "report_version": item.report_version,
        "modality": item.instance.modality if item.instance else None,
        "received_at": item.received_at.isoformat(),
        "true_codes": sorted(true_codes(audit)),
        "findings": [
            {
                "code": f.code,
                "engine": f.engine,
                "engine_version": f.engine_version,
                "severity": f.severity,
                "confidence": f.confidence,
                "verdict": f.verdict,
                "reason": f.reason,
            }
            for f in audit.findings
        ],
        "missed": [{"code": m.code, "evidence": m.evidence} for m in audit.missed],
        "audit": {
            "version": audit.version,
            "auditor": audit.auditor,
            "created_at": audit.created_at.isoformat(),
        },
        "inclusion_probability": probability,
    }


def _report_entry(item: Item) -> dict[str, Any]:
    version = item.report_version_row
    assert version is not None
    resource = json.loads(version.resource_json)
    resource.setdefault("resourceType", "DiagnosticReport")
    resource["id"] = item.report_id
    resource.setdefault("meta", {})["versionId"] = str(version.version)
    return {
        "fullUrl": f"DiagnosticReport/{item.report_id}/_history/{version.version}",
        "resource": resource,
    }
