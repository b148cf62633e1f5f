"""doctors can be deactivated (kept, no longer bookable); contact messages can be handled

Revision ID: 0006_admin_doctors
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_admin_doctors"
down_revision = "0006_admin_leave"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("doctors") as table:
        table.add_column(
            sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("contacts") as table:
        table.add_column(sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as table:
        table.drop_column("handled_at")
    with op.batch_alter_table("doctors") as table:
        table.drop_column("is_active")
