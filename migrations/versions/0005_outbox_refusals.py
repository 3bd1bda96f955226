"""Write-back refusals (issue 11): an outbox entry counts the server's refusals and keeps the
last one's HTTP status and OperationOutcome; the ``refused``, ``discarded`` and ``superseded``
statuses need no schema change (``status`` is a short string).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refusals", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("http_status", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("outcome_json", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # Entries the new statuses describe have no meaning to the old code: a refused or discarded
    # entry is kept as pending (it is retried, as before), a superseded one as delivered.
    op.execute("UPDATE outbox SET status = 'pending' WHERE status IN ('refused', 'discarded')")
    op.execute("UPDATE outbox SET status = 'delivered' WHERE status = 'superseded'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("last_attempt_at")
        batch_op.drop_column("outcome_json")
        batch_op.drop_column("http_status")
        batch_op.drop_column("refusals")
