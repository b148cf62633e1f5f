"""hms_meta: facts about the database kept by IT's commands

The oldest desktop version allowed to use the database (`hms-desktop db require-version`),
where IT puts new builds, and when the last backup was made (`hms-desktop check` shows it).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hms_meta",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_hms_meta")),
    )


def downgrade() -> None:
    op.drop_table("hms_meta")
