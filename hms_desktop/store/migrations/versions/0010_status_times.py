"""appointments.arrived_at and in_progress_at: when the patient arrived, when the doctor started

Revision ID: 0010_status_times
Revises: 0009_outbox

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
down_revision = "0009_outbox"
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


def _first(status: str) -> sa.ColumnElement[object]:
    """When an appointment's first audit entry setting `status` was written (what
    set_status wrote: `{"status": ...}`)."""
    detail = json.dumps({"status": status})
    return sa.func.min(sa.case((_audit.c.detail == detail, _audit.c.at)))


def _backfill() -> int:
    """Both columns of the appointments at or past arrival, in one UPDATE ... FROM an
    aggregate of the status entries (PostgreSQL, SQLite >= 3.33): a correlated lookup per
    appointment would scan the audit trail once per row, and one pass rewrites each row
    once. Joined on the text id, so no entity id can fail a cast."""
    first = (
        sa.select(
            _audit.c.entity_id,
            _first("arrived").label("arrived"),
            _first("in_progress").label("started"),
        )
        .where(
            _audit.c.action == "status",
            _audit.c.entity == "appointment",
            _audit.c.detail.in_([json.dumps({"status": s}) for s in ("arrived", "in_progress")]),
        )
        .group_by(_audit.c.entity_id)
        .subquery("first_entry")
    )
    status = _appointments.c.status
    result = op.get_bind().execute(
        sa.update(_appointments)
        .where(
            first.c.entity_id == sa.cast(_appointments.c.id, sa.String(60)),
            status.in_(_ARRIVED_OR_LATER),
        )
        .values(
            arrived_at=first.c.arrived,
            in_progress_at=sa.case((status.in_(_STARTED_OR_LATER), first.c.started)),
        )
    )
    return int(result.rowcount or 0)


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default): SQLite takes it as is, without rebuilding the
    # table (which would lose its partial unique index).
    op.add_column("appointments", sa.Column("arrived_at", sa.DateTime(timezone=True)))
    op.add_column("appointments", sa.Column("in_progress_at", sa.DateTime(timezone=True)))
    log.info("status times from the audit trail for %d appointments", _backfill())


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both stores (SQLite >= 3.35), for the same reason.
    op.execute("ALTER TABLE appointments DROP COLUMN in_progress_at")
    op.execute("ALTER TABLE appointments DROP COLUMN arrived_at")
