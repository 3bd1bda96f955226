"""SQLAlchemy models. The schema is changed only through Alembic revisions in ``migrations/``."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class ItemStatus(StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSING = "processing"
    DONE = "done"
    FAILED = "failed"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Study(Base):
    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(primary_key=True)
    study_instance_uid: Mapped[str] = mapped_column(String(64), unique=True)
    accession: Mapped[str | None] = mapped_column(String(64), index=True)
    expected_instances: Mapped[int | None]
    first_received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[dt.datetime | None]


class Instance(Base):
    """One received DICOM object; a re-sent UID with different bytes is a new version."""

    __tablename__ = "instances"
    __table_args__ = (
        UniqueConstraint("sop_instance_uid", "version"),
        UniqueConstraint("sop_instance_uid", "sha256"),
        # Retention (service/retention.py): files still stored, oldest first; a shared file.
        Index(
            "ix_instances_retention",
            "received_at",
            "id",
            postgresql_where=text("file_removed_at IS NULL"),
            sqlite_where=text("file_removed_at IS NULL"),
        ),
        Index("ix_instances_path", "path", postgresql_ops={"path": "varchar_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sop_instance_uid: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(default=1)
    sha256: Mapped[str] = mapped_column(String(64))
    sop_class_uid: Mapped[str] = mapped_column(String(64))
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id"), index=True)
    series_instance_uid: Mapped[str | None] = mapped_column(String(64))
    modality: Mapped[str | None] = mapped_column(String(16))
    patient_id: Mapped[str | None] = mapped_column(String(64))
    transfer_syntax_uid: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    calling_ae: Mapped[str | None] = mapped_column(String(16))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    # When ``radqc retention`` deleted the stored file (:mod:`service.retention`): the row, its
    # item, findings and Observations stay; the film can no longer be shown or processed again.
    file_removed_at: Mapped[dt.datetime | None]

    study: Mapped[Study] = relationship()


def latest_versions(*where: ColumnElement[bool]) -> tuple[Subquery, ColumnElement[bool]]:
    """The latest version of each SOP Instance UID among the instances matching ``where``: a
    subquery to join, and the condition that joins it to :class:`Instance` (so that only each
    UID's latest version is kept)."""
    latest = (
        select(Instance.sop_instance_uid, func.max(Instance.version).label("version"))
        .where(*where)
        .group_by(Instance.sop_instance_uid)
        .subquery()
    )
    on = (latest.c.sop_instance_uid == Instance.sop_instance_uid) & (
        latest.c.version == Instance.version
    )
    return latest, on


class Report(Base):
    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[str] = mapped_column(String(64), unique=True)
    latest_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ReportVersion(Base):
    """One version of a DiagnosticReport as received: the JSON as sent, and what was parsed."""

    __tablename__ = "report_versions"
    __table_args__ = (UniqueConstraint("report_pk", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_pk: Mapped[int] = mapped_column(ForeignKey("reports.id"), index=True)
    version: Mapped[int]
    content_hash: Mapped[str] = mapped_column(String(64))
    resource_json: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    sections: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(32))
    patient_sex: Mapped[str | None] = mapped_column(String(16))
    subject_reference: Mapped[str | None] = mapped_column(String(255))
    exam_code: Mapped[str | None] = mapped_column(String(64))
    exam_display: Mapped[str | None] = mapped_column(String(255))
    accession: Mapped[str | None] = mapped_column(String(64), index=True)
    study_instance_uid: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship()


class Item(Base):
    """The unit of QC: one image version or one report version."""

    __tablename__ = "items"
    __table_args__ = (Index("ix_items_received_id", "received_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ItemStatus.QUEUED, index=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("instances.id"), unique=True)
    report_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_versions.id"), unique=True
    )
    study_id: Mapped[int | None] = mapped_column(ForeignKey("studies.id"), index=True)
    sop_instance_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    study_instance_uid: Mapped[str | None] = mapped_column(String(64), index=True)
    accession: Mapped[str | None] = mapped_column(String(64), index=True)
    report_id: Mapped[str | None] = mapped_column(String(64), index=True)
    report_version: Mapped[int | None]
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[dt.datetime | None]
    error: Mapped[str | None] = mapped_column(Text)

    instance: Mapped[Instance | None] = relationship()
    report_version_row: Mapped[ReportVersion | None] = relationship()
    findings: Mapped[list[FindingRow]] = relationship(
        back_populates="item", order_by="FindingRow.id", cascade="all, delete-orphan"
    )


class Job(Base):
    """A durable unit of work, claimed with a lease. ``key`` makes enqueueing idempotent.

    Two partial indexes serve the claim (:func:`service.queue.claim`), each holding only the
    jobs it looks for, so finished jobs cost the claim nothing: due jobs in claim order, and
    the leases of running jobs (a few per worker)."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index(
            "ix_jobs_due",
            "run_at",
            "id",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        Index(
            "ix_jobs_lease",
            "lease_expires_at",
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    study_id: Mapped[int | None] = mapped_column(ForeignKey("studies.id"))
    target: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int | None]
    rerun: Mapped[bool] = mapped_column(Boolean, default=False)
    run_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_by: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FindingRow(Base):
    """One QC finding: one per item, engine, code, scope (image-level or study-level) and
    problem: ``problem_key`` says where its evidence points (``service.findings.problem_key``)."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("item_id", "engine", "code", "scope", "problem_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    severity: Mapped[str] = mapped_column(String(16), index=True)
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]]
    confidence: Mapped[float] = mapped_column(Float)
    engine: Mapped[str] = mapped_column(String(32))
    engine_version: Mapped[str] = mapped_column(String(128))
    scope: Mapped[str] = mapped_column(String(16), default="item")
    problem_key: Mapped[str] = mapped_column(String(128), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship(back_populates="findings")


class Observation(Base):
    """A FHIR Observation radqc published; ``id`` is deterministic so write-back is idempotent."""

    __tablename__ = "observations"
    # derived-from=DiagnosticReport/r1 also matches r1/_history/<v> with LIKE 'prefix%': on
    # PostgreSQL with a non-C collation only a pattern_ops index serves both that and '='.
    __table_args__ = (
        Index(
            "ix_observations_derived_from",
            "derived_from",
            postgresql_ops={"derived_from": "varchar_pattern_ops"},
        ),
        Index("ix_observations_effective_at", "effective_at", "id"),
        # FHIR search by code and date together (migration 0010)
        Index("ix_observations_code_effective_at", "code", "effective_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    subject: Mapped[str | None] = mapped_column(String(255), index=True)
    derived_from: Mapped[str | None] = mapped_column(String(255))
    resource_json: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    # ``effectiveDateTime`` as text in time order (FHIR ``date`` search and ``_sort=date``): a
    # UTC instant, a partial date padded to its first instant (``fhir_adapter.effective``).
    effective_at: Mapped[str] = mapped_column(String(24), server_default="")
    # The ``content_hash`` of the version the hospital FHIR server last accepted (issue 11): a
    # cancelled or entered-in-error Observation it already holds is not sent again.
    delivered_hash: Mapped[str | None] = mapped_column(String(64))

    # Its past versions, as they were stored (FHIR vread of ``_history/{vid}``): one row per
    # version replaced by a newer one; the current version is the row above.
    history: ClassVar[Table] = Table(
        "observation_history",
        Base.metadata,
        Column(
            "observation_id",
            String(64),
            ForeignKey("observations.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        Column("version", Integer, primary_key=True),
        Column("status", String(16), nullable=False),
        Column("resource_json", Text, nullable=False),
        Column("updated_at", UTCDateTime(), nullable=False),
    )


class OutboxEntry(Base):
    """One Observation version waiting to be PUT to the hospital FHIR server.

    ``status``: ``pending`` (waiting or retrying), ``delivered``, ``refused`` (the server refused
    it ``RADQC_FHIR_WRITEBACK_MAX_REFUSALS`` times: ``http_status`` and ``outcome_json``, the
    server's OperationOutcome, say why), ``discarded`` (by an admin) or ``superseded`` (a later
    version was delivered instead). See :mod:`service.outbox`.
    """

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("observation_id", "observation_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    observation_id: Mapped[str] = mapped_column(ForeignKey("observations.id"), index=True)
    observation_version: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[dt.datetime | None]
    # Write-back refusals (issue 11): 4xx answers counted towards ``refused``, the last one's
    # HTTP status and OperationOutcome (which may quote report text: shown to admins, never
    # logged), and when the server was last tried.
    refusals: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    http_status: Mapped[int | None]
    outcome_json: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[dt.datetime | None]


class LLMCall(Base):
    """One call to an LLM endpoint for an item: its tokens, time, money and outcome."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    engine_version: Mapped[str] = mapped_column(String(160), index=True)
    tokens_in: Mapped[int] = mapped_column(Integer)
    tokens_out: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float)
    cost: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
