"""the built-in lock store keeps whom each hold is for, so holds per patient can be capped

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("slot_holds") as table:
        table.add_column(sa.Column("patient_id", sa.Integer(), nullable=True))
        table.create_index("ix_slot_holds_patient_id", ["patient_id"])


def downgrade() -> None:
    with op.batch_alter_table("slot_holds") as table:
        table.drop_index("ix_slot_holds_patient_id")
        table.drop_column("patient_id")
