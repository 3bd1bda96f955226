"""Champion and challenger: engine configurations, promotions, shadow and canary results;
the station and site of image items (evaluation slices).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".", 1)[0]
    return sa.ForeignKeyConstraint(
        [column], [target], name=op.f(f"fk_{table}_{column}_{referred}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "engine_configs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=True),
        sa.Column("llm_model", sa.String(length=160), nullable=True),
        sa.Column("prompt_version", sa.String(length=160), nullable=True),
        sa.Column("merge_policy", sa.String(length=16), nullable=True),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("engine_versions", sa.JSON(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_configs")),
        sa.UniqueConstraint("name", "fingerprint", name=op.f("uq_engine_configs_name_fingerprint")),
        sa.UniqueConstraint("name", "version", name=op.f("uq_engine_configs_name_version")),
    )
    op.create_index(op.f("ix_engine_configs_role"), "engine_configs", ["role"], unique=False)
    op.create_index(
        "uq_engine_configs_one_champion",
        "engine_configs",
        ["role"],
        unique=True,
        sqlite_where=sa.text("role = 'champion'"),
        postgresql_where=sa.text("role = 'champion'"),
    )
    op.create_table(
        "engine_promotions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("from_config_id", sa.Integer(), nullable=True),
        sa.Column("to_config_id", sa.Integer(), nullable=False),
        sa.Column("promoted_by", sa.String(length=128), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _fk("engine_promotions", "from_config_id", "engine_configs.id", "SET NULL"),
        _fk("engine_promotions", "to_config_id", "engine_configs.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_promotions")),
    )
    op.create_index(
        op.f("ix_engine_promotions_promoted_at"),
        "engine_promotions",
        ["promoted_at"],
        unique=False,
    )
    op.create_table(
        "shadow_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("config_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.JSON(), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("shadow_results", "config_id", "engine_configs.id", "CASCADE"),
        _fk("shadow_results", "item_id", "items.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shadow_results")),
        sa.UniqueConstraint(
            "config_id", "item_id", name=op.f("uq_shadow_results_config_id_item_id")
        ),
    )
    op.create_index(
        op.f("ix_shadow_results_config_id"), "shadow_results", ["config_id"], unique=False
    )
    op.create_index(op.f("ix_shadow_results_item_id"), "shadow_results", ["item_id"], unique=False)
    op.create_table(
        "canary_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("config_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("form", sa.String(length=32), nullable=False),
        sa.Column("caught", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("canary_results", "config_id", "engine_configs.id", "CASCADE"),
        _fk("canary_results", "item_id", "items.id", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canary_results")),
    )
    op.create_index(op.f("ix_canary_results_code"), "canary_results", ["code"], unique=False)
    op.create_index(
        op.f("ix_canary_results_config_id"), "canary_results", ["config_id"], unique=False
    )
    op.create_index(
        op.f("ix_canary_results_created_at"), "canary_results", ["created_at"], unique=False
    )
    op.create_table(
        "item_sites",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("station", sa.String(length=64), nullable=True),
        sa.Column("institution", sa.String(length=64), nullable=True),
        _fk("item_sites", "item_id", "items.id", "CASCADE"),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_sites")),
    )
    op.create_index(op.f("ix_item_sites_station"), "item_sites", ["station"], unique=False)
    op.create_index(op.f("ix_item_sites_institution"), "item_sites", ["institution"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_item_sites_institution"), table_name="item_sites")
    op.drop_index(op.f("ix_item_sites_station"), table_name="item_sites")
    op.drop_table("item_sites")
    op.drop_index(op.f("ix_canary_results_created_at"), table_name="canary_results")
    op.drop_index(op.f("ix_canary_results_config_id"), table_name="canary_results")
    op.drop_index(op.f("ix_canary_results_code"), table_name="canary_results")
    op.drop_table("canary_results")
    op.drop_index(op.f("ix_shadow_results_item_id"), table_name="shadow_results")
    op.drop_index(op.f("ix_shadow_results_config_id"), table_name="shadow_results")
    op.drop_table("shadow_results")
    op.drop_index(op.f("ix_engine_promotions_promoted_at"), table_name="engine_promotions")
    op.drop_table("engine_promotions")
    op.drop_index("uq_engine_configs_one_champion", table_name="engine_configs")
    op.drop_index(op.f("ix_engine_configs_role"), table_name="engine_configs")
    op.drop_table("engine_configs")
