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
    # Plain ADD COLUMNs (SQLite takes them as they are): a batch would reflect the tables
    # and warn on every first start that SQLite cannot reflect the users' expression indexes.
    op.add_column(
        "doctors", sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.add_column("contacts", sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as table:
        table.drop_column("handled_at")
    with op.batch_alter_table("doctors") as table:
        table.drop_column("is_active")
