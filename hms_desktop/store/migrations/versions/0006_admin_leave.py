"""time_blocks: leave, public holidays and blocked time

A doctor's (or, with no doctor, the whole clinic's) range of time in which no slot can be
held or booked. Kept as ranges and checked when slots are read, so slots made later by
the top-up inside a block are blocked as well.

Revision ID: 0006_admin_leave
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_admin_leave"
down_revision = "0006_admin_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "time_blocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("created_by", sa.String(length=150), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_time_blocks_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_blocks")),
    )
    op.create_index("ix_time_blocks_end_doctor", "time_blocks", ["end_at", "doctor_id"])


def downgrade() -> None:
    op.drop_index("ix_time_blocks_end_doctor", table_name="time_blocks")
    op.drop_table("time_blocks")
