"""One problem, one verdict (issue 15): a finding row per distinct problem. The findings table
gains ``problem_key`` (where the finding's evidence points, see ``service.findings``) and its
unique constraint ends in it, so two problems of one code on one item (ViewPosition missing,
PatientSex missing) are two rows. Rows stored before keep the key "" and are matched as such.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "uq_findings_item_id_engine_code_scope"
NEW = "uq_findings_item_id_engine_code_scope_problem_key"


def upgrade() -> None:
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("problem_key", sa.String(length=128), server_default="", nullable=False)
        )
        batch_op.drop_constraint(OLD, type_="unique")
        batch_op.create_unique_constraint(
            NEW, ["item_id", "engine", "code", "scope", "problem_key"]
        )


def downgrade() -> None:
    # The old schema holds one row per item, engine, code and scope: the first problem of each
    # keeps its row (and its verdicts and Observation); the others are deleted, their verdicts'
    # and Observations' finding references set to NULL as their foreign keys say.
    op.execute(
        "UPDATE observations SET finding_id = NULL WHERE finding_id IN ("
        " SELECT f.id FROM findings f WHERE EXISTS (SELECT 1 FROM findings g"
        "  WHERE g.item_id = f.item_id AND g.engine = f.engine AND g.code = f.code"
        "  AND g.scope = f.scope AND g.id < f.id))"
    )
    op.execute(
        "UPDATE audit_findings SET finding_id = NULL WHERE finding_id IN ("
        " SELECT f.id FROM findings f WHERE EXISTS (SELECT 1 FROM findings g"
        "  WHERE g.item_id = f.item_id AND g.engine = f.engine AND g.code = f.code"
        "  AND g.scope = f.scope AND g.id < f.id))"
    )
    op.execute(
        "DELETE FROM findings WHERE EXISTS (SELECT 1 FROM findings g"
        " WHERE g.item_id = findings.item_id AND g.engine = findings.engine"
        " AND g.code = findings.code AND g.scope = findings.scope AND g.id < findings.id)"
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_constraint(NEW, type_="unique")
        batch_op.create_unique_constraint(OLD, ["item_id", "engine", "code", "scope"])
        batch_op.drop_column("problem_key")
