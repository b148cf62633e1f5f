"""change_events: the embedded store's change events, followed by every process on the file

Revision ID: 0006_live_events
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_live_events"
down_revision = "0006_admin_doctors"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("origin", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_events")),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("change_events")
