"""free slots of a doctor in a time window answered from an index alone (PostgreSQL)

The speciality search reads thousands of slots per answer; with id and duration in the
(doctor_id, start_at) index PostgreSQL answers with an index-only scan instead of visiting
a heap page per slot (found with `hms-desktop bench availability` and EXPLAIN).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_slots_doctor_start_free ON slots (doctor_id, start_at) "
            "INCLUDE (id, duration)"
        )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_slots_doctor_start_free")
