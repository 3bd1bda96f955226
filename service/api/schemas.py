"""What the dashboard REST API returns (DESIGN §6).

These models are separate from the database models on purpose: only the fields named here leave
the service, so internal columns (file paths, hashes, patient ids, lease owners) never leak.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service import queue
from service.loop.models import Audit, AuditFinding, AuditMissed
from service.models import FindingRow, Item, Job, Observation
from service.outbox import WritebackState


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class FindingOut(_Out):
    """One QC finding on an item."""

    id: int
    code: str = Field(description="a code of the radqc taxonomy, e.g. cxr.exposure")
    severity: str = Field(description="critical | major | minor")
    message: str
    confidence: float = Field(ge=0, le=1)
    engine: str = Field(description="rules | llm")
    engine_version: str
    evidence: list[dict[str, Any]]
    scope: str = Field(description="item (the image or report alone) | study")

    @classmethod
    def of(cls, row: FindingRow) -> FindingOut:
        return cls.model_validate(row)


class ItemOut(_Out):
    """One image version or one report version, with its findings."""

    id: int
    kind: str = Field(description="image | report")
    status: str = Field(description="received | queued | processing | done | failed")
    flagged: bool = Field(description="true when the item has at least one finding")
    sop_instance_uid: str | None
    study_instance_uid: str | None
    accession: str | None
    report_id: str | None
    report_version: int | None
    received_at: dt.datetime
    processed_at: dt.datetime | None
    error: str | None = Field(description="why processing failed, when status is failed")
    conflict: bool = Field(description="an image re-sent under the same UID with other bytes")
    file_removed_at: dt.datetime | None = Field(
        default=None,
        description="an image's stored DICOM file was deleted by retention at this time: the "
        "item, its findings and Observations stay; the film can no longer be shown or "
        "processed again",
    )
    findings: list[FindingOut]

    @classmethod
    def of(cls, item: Item) -> ItemOut:
        out = cls.model_validate(item)
        if item.instance is not None:
            out.file_removed_at = item.instance.file_removed_at
        return out


class WritebackStateOut(_Out):
    """Where the current version of one Observation stands with the hospital FHIR server."""

    state: str = Field(
        description="off (write-back not configured) | not queued (published while write-back "
        "was off: see the outbox backfill) | waiting | retrying | delivered | refused | "
        "discarded | superseded"
    )
    version: int = Field(description="the Observation's current version")
    entry_id: int | None = Field(description="its outbox entry, for retry or discard (admin)")
    attempts: int
    refusals: int = Field(description="4xx answers counted towards refused")
    http_status: int | None = Field(description="the server's last answer, when not accepted")
    last_error: str | None
    delivered_at: dt.datetime | None

    @classmethod
    def of(cls, state: WritebackState) -> WritebackStateOut:
        return cls.model_validate(state)


class ObservationLink(_Out):
    """An Observation radqc published for the item, where to read it, and its write-back."""

    id: str
    code: str
    status: str = Field(description="preliminary | final | cancelled")
    url: str
    writeback: WritebackStateOut | None = Field(
        default=None, description="its current version's delivery to the hospital FHIR server"
    )

    @classmethod
    def of(cls, row: Observation, writeback: WritebackState | None = None) -> ObservationLink:
        return cls(
            id=row.id,
            code=row.code,
            status=row.status,
            url=f"/fhir/Observation/{row.id}",
            writeback=WritebackStateOut.of(writeback) if writeback is not None else None,
        )


class JobOut(_Out):
    """One of the item's jobs: a dead-lettered job shows here as status ``failed``."""

    kind: str = Field(description="qc (the rules), llm (the LLM reviewer), shadow, ...")
    status: str = Field(description="queued | running | done | failed")
    attempts: int
    last_error: str | None
    run_at: dt.datetime

    @classmethod
    def of(cls, row: Job) -> JobOut:
        return cls.model_validate(row)


class AuditedFindingOut(_Out):
    """A finding as it stood when audited, with the auditor's verdict (null: not judged)."""

    finding_id: int | None = Field(description="null once the finding itself is gone")
    code: str
    engine: str
    engine_version: str
    verdict: str | None = Field(description="confirmed | rejected | null")
    reason: str | None

    @classmethod
    def of(cls, row: AuditFinding) -> AuditedFindingOut:
        return cls.model_validate(row)


class MissedOut(_Out):
    """An error the engines did not flag, added by the auditor."""

    code: str
    evidence: Any = None

    @classmethod
    def of(cls, row: AuditMissed) -> MissedOut:
        return cls.model_validate(row)


class AuditOut(_Out):
    """One audit of an item: who (from their token), when (server time), which version."""

    id: int
    item_id: int
    version: int
    auditor: str
    created_at: dt.datetime
    verdicts: list[AuditedFindingOut]
    missed: list[MissedOut]

    @classmethod
    def of(cls, row: Audit) -> AuditOut:
        return cls(
            id=row.id,
            item_id=row.item_id,
            version=row.version,
            auditor=row.auditor,
            created_at=row.created_at,
            verdicts=[AuditedFindingOut.of(f) for f in row.findings],
            missed=[MissedOut.of(m) for m in row.missed],
        )


class ItemDetail(ItemOut):
    """An item with its audits, links to its Observations and the state of its jobs."""

    observations: list[ObservationLink]
    job: JobOut | None = Field(description="the QC job (the rules); see ``jobs`` for all")
    jobs: list[JobOut] = Field(
        description="every job of the item, oldest first: the item is done when the QC job "
        "and the LLM job (when an LLM reviews this kind) are"
    )
    audits: list[AuditOut] = Field(description="oldest first; the last one is current")

    @classmethod
    def build(
        cls,
        item: Item,
        observations: list[Observation],
        jobs: list[Job],
        audits: list[Audit] | None = None,
        writeback: Mapping[str, WritebackState] | None = None,
    ) -> ItemDetail:
        """``writeback``: each Observation's write-back state, by Observation id."""
        states = writeback or {}
        base = ItemOut.of(item)
        qc_job = next((job for job in jobs if job.kind == queue.QC), None)
        return cls(
            **base.model_dump(exclude={"findings"}),
            findings=base.findings,
            observations=[ObservationLink.of(row, states.get(row.id)) for row in observations],
            job=JobOut.of(qc_job) if qc_job is not None else None,
            jobs=[JobOut.of(job) for job in jobs],
            audits=[AuditOut.of(row) for row in audits or []],
        )


class ItemPage(BaseModel):
    """One page of items, newest first; pass ``next_cursor`` as ``cursor`` for the next page."""

    items: list[ItemOut]
    next_cursor: str | None = Field(description="null on the last page")
