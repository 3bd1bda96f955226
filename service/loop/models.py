"""Tables of the closed loop (audits, evaluation runs, samples, engine configurations).

They share :class:`service.models.Base`; ``service.models`` imports this module so that the
metadata Alembic compares against always includes them. Existing tables are referred to by
ForeignKey strings only, so this module does not import the core models (no import cycle).

An audit keeps a snapshot of the item's findings as they were when the auditor judged them
(code, engine, version, confidence): findings are replaced when an item is processed again, and an
evaluation must still know what each engine had flagged at audit time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.models import Base, utcnow


class Audit(Base):
    """One auditor's review of one item; a later review of the same item is a new version."""

    __tablename__ = "audits"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    auditor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    findings: Mapped[list[AuditFinding]] = relationship(
        back_populates="audit", order_by="AuditFinding.id", cascade="all, delete-orphan"
    )
    missed: Mapped[list[AuditMissed]] = relationship(
        back_populates="audit", order_by="AuditMissed.id", cascade="all, delete-orphan"
    )


class AuditFinding(Base):
    """A finding as it stood at audit time, with the auditor's verdict (null: not judged)."""

    __tablename__ = "audit_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("findings.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(64), index=True)
    engine: Mapped[str] = mapped_column(String(32))
    engine_version: Mapped[str] = mapped_column(String(128))
    severity: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    verdict: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)

    audit: Mapped[Audit] = relationship(back_populates="findings")


class AuditMissed(Base):
    """An error the engines did not flag, added by the auditor."""

    __tablename__ = "audit_missed"

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(64), index=True)
    evidence: Mapped[Any] = mapped_column(JSON, nullable=True)

    audit: Mapped[Audit] = relationship(back_populates="missed")


class AuditSelection(Base):
    """An item drawn for audit, with the strategy and its inclusion probability (for weights)."""

    __tablename__ = "audit_selections"
    __table_args__ = (
        UniqueConstraint("item_id"),
        # The audit worklist's order (service/ui/worklist.py): read in order, not sorted.
        Index("ix_audit_selections_worklist", "selected_at", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    strategy: Mapped[str] = mapped_column(String(32), index=True)
    inclusion_probability: Mapped[float] = mapped_column(Float)
    selected_on: Mapped[str] = mapped_column(String(10), index=True)  # UTC day, for quotas
    selected_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EvaluationRun(Base):
    """A stored evaluation: what was evaluated (engine, kind, window) and the metrics found."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    engine: Mapped[str | None] = mapped_column(String(160))
    kind: Mapped[str | None] = mapped_column(String(16))
    since: Mapped[dt.datetime | None]
    until: Mapped[dt.datetime | None]
    weighted: Mapped[bool] = mapped_column(default=True)
    n_items: Mapped[int] = mapped_column(Integer)
    metrics: Mapped[dict[str, Any]]
    sample: Mapped[list[Any]]  # the audit ids evaluated


class EngineConfig(Base):
    """A versioned engine configuration: what a champion or a challenger runs.

    ``parameters`` is the whole configuration (see :mod:`service.loop.engine_configs`); the columns
    beside it repeat its headline values so they can be listed and filtered. ``fingerprint`` is
    the hash of the canonical parameters: recording the same parameters under the same name
    again returns the stored version instead of making a new one.
    """

    __tablename__ = "engine_configs"
    __table_args__ = (
        UniqueConstraint("name", "version"),
        UniqueConstraint("name", "fingerprint"),
        # At most one champion, even when two processes record one at the same moment.
        Index(
            "uq_engine_configs_one_champion",
            "role",
            unique=True,
            sqlite_where=text("role = 'champion'"),
            postgresql_where=text("role = 'champion'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    kinds: Mapped[list[Any]]
    rules_version: Mapped[str | None] = mapped_column(String(64))
    llm_model: Mapped[str | None] = mapped_column(String(160))
    prompt_version: Mapped[str | None] = mapped_column(String(160))
    merge_policy: Mapped[str | None] = mapped_column(String(16))
    parameters: Mapped[dict[str, Any]]
    engine_versions: Mapped[list[Any]]  # "engine@version" of the findings it produces
    role: Mapped[str] = mapped_column(String(16), index=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EnginePromotion(Base):
    """The audit trail of champion changes: who, when, from which configuration to which, why."""

    __tablename__ = "engine_promotions"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_config_id: Mapped[int | None] = mapped_column(
        ForeignKey("engine_configs.id", ondelete="SET NULL")
    )
    to_config_id: Mapped[int] = mapped_column(ForeignKey("engine_configs.id", ondelete="CASCADE"))
    promoted_by: Mapped[str] = mapped_column(String(128))
    promoted_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    reason: Mapped[str] = mapped_column(Text)


class ShadowResult(Base):
    """What one configuration found on one item in shadow or replay: stored here only, never
    in ``findings``, never published and never written back."""

    __tablename__ = "shadow_results"
    __table_args__ = (UniqueConstraint("config_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    config_id: Mapped[int] = mapped_column(
        ForeignKey("engine_configs.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))  # shadow | replay
    findings: Mapped[list[Any]]
    codes: Mapped[list[Any]]
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CanaryResult(Base):
    """A synthetic copy of a real item with one injected error, and whether a configuration
    caught it. The copy itself is never stored, published or written back."""

    __tablename__ = "canary_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    config_id: Mapped[int] = mapped_column(
        ForeignKey("engine_configs.id", ondelete="CASCADE"), index=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64), index=True)
    form: Mapped[str] = mapped_column(String(32))
    caught: Mapped[bool]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


class ItemSite(Base):
    """Where an image was made (DICOM StationName, InstitutionName), for evaluation slices.
    Recorded when the item's QC job completes; items processed before have none."""

    __tablename__ = "item_sites"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    station: Mapped[str | None] = mapped_column(String(64), index=True)
    institution: Mapped[str | None] = mapped_column(String(64), index=True)
