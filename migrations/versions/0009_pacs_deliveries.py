"""``pacs_deliveries``: what the PACS answered for each QC document radqc sent it (issue 12
part 4, :mod:`service.pacs.models`): one row per SR or KOS SOP Instance UID, ``delivered`` or
``refused`` with the DIMSE status and comment.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pacs_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("study_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.String(length=8), nullable=False),
        sa.Column("sop_instance_uid", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("dimse_status", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sop_instance_uid"),
    )
    op.create_index("ix_pacs_deliveries_study_id", "pacs_deliveries", ["study_id"])
    op.create_index("ix_pacs_deliveries_status", "pacs_deliveries", ["status"])


def downgrade() -> None:
    op.drop_index("ix_pacs_deliveries_status", table_name="pacs_deliveries")
    op.drop_index("ix_pacs_deliveries_study_id", table_name="pacs_deliveries")
    op.drop_table("pacs_deliveries")
