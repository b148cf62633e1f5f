"""Staff administration: a reset password to change at the next log-in; clinic settings

`users.must_change_password` is set when an admin resets a password; `clinic_settings`
holds what an admin sets for every desk (the clinic's name, the booking horizon).

Revision ID: 0006_admin_staff
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_admin_staff"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes it as is): rebuilding the table would drop its
    # expression indexes, which SQLite cannot reflect.
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "clinic_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_clinic_settings")),
    )


def downgrade() -> None:
    op.drop_table("clinic_settings")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
