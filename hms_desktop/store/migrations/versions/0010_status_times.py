"""appointments.arrived_at and in_progress_at: when the patient arrived, when the doctor started

Revision ID: 0010_status_times
Revises: 0007_phone_e164

The reports' waiting time (arrived to in progress) was found by scanning the audit trail's
status entries for every report; a year of a busy clinic made that most of a report's time.
The status use case now stamps these columns in its own transaction. Existing appointments
get them from the audit trail: the first time each was marked arrived / in progress, for
those whose status is still at or past that step (one marked arrived by mistake and taken
back to scheduled has none, as the use case leaves it).
"""

from __future__ import annotations

import json
import logging

import sqlalchemy as sa
from alembic import op

revision = "0010_status_times"
down_revision = "0007_phone_e164"
branch_labels = None
depends_on = None

log = logging.getLogger("hms_desktop.store.migrations.status_times")

# As they were when this revision was written (a migration does not follow later code).
_appointments = sa.table(
    "appointments",
    sa.column("id", sa.Integer),
    sa.column("status", sa.String(20)),
    sa.column("arrived_at", sa.DateTime(timezone=True)),
    sa.column("in_progress_at", sa.DateTime(timezone=True)),
)
_audit = sa.table(
    "audit_entries",
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("action", sa.String(60)),
    sa.column("entity", sa.String(60)),
    sa.column("entity_id", sa.String(60)),
    sa.column("detail", sa.Text),
)
# The statuses at or past each step (steps can be taken back: see domain/enums.py).
_ARRIVED_OR_LATER = ("arrived", "in_progress", "completed", "no_show")
_STARTED_OR_LATER = ("in_progress", "completed")


def _backfill(column: str, status: str, current: tuple[str, ...]) -> int:
    """`column` of each appointment in `current` statuses := the first audit entry that set
    `status` (what set_status wrote: `{"status": ...}`). One UPDATE ... FROM an aggregate
    (PostgreSQL, SQLite >= 3.33): a correlated lookup per appointment would scan the audit
    trail once per row. Joined on the text id, so no entity id can fail a cast."""
    first = (
        sa.select(_audit.c.entity_id, sa.func.min(_audit.c.at).label("at"))
        .where(
            _audit.c.action == "status",
            _audit.c.entity == "appointment",
            _audit.c.detail == json.dumps({"status": status}),
        )
        .group_by(_audit.c.entity_id)
        .subquery("first_entry")
    )
    result = op.get_bind().execute(
        sa.update(_appointments)
        .where(
            first.c.entity_id == sa.cast(_appointments.c.id, sa.String(60)),
            _appointments.c.status.in_(current),
        )
        .values({column: first.c.at})
    )
    return int(result.rowcount or 0)


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): SQLite takes it as is, without rebuilding the
    # table (which would lose its partial unique index).
    op.add_column("appointments", sa.Column("arrived_at", sa.DateTime(timezone=True)))
    op.add_column("appointments", sa.Column("in_progress_at", sa.DateTime(timezone=True)))
    arrived = _backfill("arrived_at", "arrived", _ARRIVED_OR_LATER)
    started = _backfill("in_progress_at", "in_progress", _STARTED_OR_LATER)
    log.info("status times from the audit trail: %d arrived, %d in progress", arrived, started)


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both stores (SQLite >= 3.35), for the same reason.
    op.execute("ALTER TABLE appointments DROP COLUMN in_progress_at")
    op.execute("ALTER TABLE appointments DROP COLUMN arrived_at")
