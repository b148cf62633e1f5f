"""messages: the outbox of confirmations, reminders and notices; patients' opt-out

Revision ID: 0009_outbox
Revises: 0008_waitlist
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_outbox"
down_revision = "0008_waitlist"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite has it for a column with a constant default): a batch
    # operation would reflect `patients` and the tables it refers to, and SQLite's
    # reflection warns about the users' expression indexes on a desktop's first start.
    op.add_column(
        "patients",
        sa.Column("messages_opt_out", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patient_id", sa.Integer(), nullable=False),
        sa.Column("appointment_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_try_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_messages_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_messages_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(op.f("ix_messages_patient_id"), "messages", ["patient_id"])
    op.create_index(op.f("ix_messages_appointment_id"), "messages", ["appointment_id"])
    op.create_index("ix_messages_state_next_try", "messages", ["state", "next_try_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_state_next_try", table_name="messages")
    op.drop_index(op.f("ix_messages_appointment_id"), table_name="messages")
    op.drop_index(op.f("ix_messages_patient_id"), table_name="messages")
    op.drop_table("messages")
    with op.batch_alter_table("patients") as batch:
        batch.drop_column("messages_opt_out")
