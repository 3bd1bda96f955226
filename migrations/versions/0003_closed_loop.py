"""The closed loop's tables (audits, evaluation runs, audit samples, engine configurations).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evaluation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("engine", sa.String(length=160), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("weighted", sa.Boolean(), nullable=False),
        sa.Column("n_items", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("sample", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_runs")),
    )
    op.create_index(
        op.f("ix_evaluation_runs_created_at"), "evaluation_runs", ["created_at"], unique=False
    )
    op.create_table(
        "audit_selections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(length=32), nullable=False),
        sa.Column("inclusion_probability", sa.Float(), nullable=False),
        sa.Column("selected_on", sa.String(length=10), nullable=False),
        sa.Column("selected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_audit_selections_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_selections")),
        sa.UniqueConstraint("item_id", name=op.f("uq_audit_selections_item_id")),
    )
    op.create_index(
        op.f("ix_audit_selections_selected_on"), "audit_selections", ["selected_on"], unique=False
    )
    op.create_index(
        op.f("ix_audit_selections_strategy"), "audit_selections", ["strategy"], unique=False
    )
    op.create_table(
        "audits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("auditor", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_audits_item_id_items"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audits")),
        sa.UniqueConstraint("item_id", "version", name=op.f("uq_audits_item_id_version")),
    )
    op.create_index(op.f("ix_audits_created_at"), "audits", ["created_at"], unique=False)
    op.create_index(op.f("ix_audits_item_id"), "audits", ["item_id"], unique=False)
    op.create_table(
        "audit_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("engine_version", sa.String(length=128), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_findings_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["findings.id"],
            name=op.f("fk_audit_findings_finding_id_findings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_findings")),
    )
    op.create_index(
        op.f("ix_audit_findings_audit_id"), "audit_findings", ["audit_id"], unique=False
    )
    op.create_index(op.f("ix_audit_findings_code"), "audit_findings", ["code"], unique=False)
    op.create_index(
        op.f("ix_audit_findings_finding_id"), "audit_findings", ["finding_id"], unique=False
    )
    op.create_table(
        "audit_missed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["audits.id"],
            name=op.f("fk_audit_missed_audit_id_audits"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_missed")),
    )
    op.create_index(op.f("ix_audit_missed_audit_id"), "audit_missed", ["audit_id"], unique=False)
    op.create_index(op.f("ix_audit_missed_code"), "audit_missed", ["code"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_missed_code"), table_name="audit_missed")
    op.drop_index(op.f("ix_audit_missed_audit_id"), table_name="audit_missed")
    op.drop_table("audit_missed")
    op.drop_index(op.f("ix_audit_findings_finding_id"), table_name="audit_findings")
    op.drop_index(op.f("ix_audit_findings_code"), table_name="audit_findings")
    op.drop_index(op.f("ix_audit_findings_audit_id"), table_name="audit_findings")
    op.drop_table("audit_findings")
    op.drop_index(op.f("ix_audits_item_id"), table_name="audits")
    op.drop_index(op.f("ix_audits_created_at"), table_name="audits")
    op.drop_table("audits")
    op.drop_index(op.f("ix_audit_selections_strategy"), table_name="audit_selections")
    op.drop_index(op.f("ix_audit_selections_selected_on"), table_name="audit_selections")
    op.drop_table("audit_selections")
    op.drop_index(op.f("ix_evaluation_runs_created_at"), table_name="evaluation_runs")
    op.drop_table("evaluation_runs")
