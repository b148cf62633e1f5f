"""0010_status_times: appointments get their arrived / in-progress times from the audit
trail's status entries (the first of each), only while their status is at or past the
step; downgrading drops the columns again."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime, timedelta

from alembic import command
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Table,
    create_engine,
    insert,
    inspect,
    pool,
    select,
)
from sqlalchemy.exc import SAWarning

from hms_desktop.store import schema
from tests.store.conftest import Blank

BEFORE = "0007_phone_e164"
AFTER = "0010_status_times"
T0 = datetime(2027, 3, 28, 9, 0, tzinfo=UTC)

# name: (current status, [(status set, minutes after T0), ...] as the audit trail has them)
HISTORIES: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "seen": ("completed", [("arrived", 0), ("in_progress", 12), ("completed", 30)]),
    # Marked arrived, taken back, then arrived for real: the first entry, as the report had.
    "arrived_twice": (
        "in_progress",
        [("arrived", 0), ("scheduled", 1), ("arrived", 5), ("in_progress", 20)],
    ),
    "waiting": ("arrived", [("arrived", 3)]),
    "left": ("no_show", [("arrived", 4), ("no_show", 40)]),
    "straight_in": ("completed", [("in_progress", 2), ("completed", 25)]),
    # Arrived by mistake and taken back: still scheduled, so no times.
    "undone": ("scheduled", [("arrived", 6), ("scheduled", 7)]),
    # Started by mistake and taken back to arrived: arrived, not started.
    "started_too_soon": ("arrived", [("arrived", 8), ("in_progress", 9), ("arrived", 10)]),
    "never_marked": ("scheduled", []),
}


def _tables(url: str) -> tuple[Engine, MetaData]:
    engine = create_engine(url, poolclass=pool.NullPool)
    meta = MetaData()
    with warnings.catch_warnings():  # expression indexes are not reflected; rows are
        warnings.simplefilter("ignore", SAWarning)
        meta.reflect(engine, only=["users", "patients", "doctors", "appointments", "audit_entries"])
    return engine, meta


def _user(connection: Connection, users: Table, name: str, role: str) -> int:
    made = connection.execute(
        insert(users)
        .values(
            username=name,
            email="",
            first_name="",
            last_name="",
            role=role,
            is_staff=False,
            is_active=True,
            date_joined=T0,
            failed_logins=0,
            must_change_password=False,
        )
        .returning(users.c.id)
    )
    return int(made.scalar_one())


def _add_history(url: str) -> dict[str, int]:
    engine, meta = _tables(url)
    t = meta.tables
    ids: dict[str, int] = {}
    try:
        with engine.begin() as connection:
            doctor_user = _user(connection, t["users"], "doc", "doctor")
            doctor_id = connection.execute(
                insert(t["doctors"])
                .values(user_id=doctor_user, meet_link="", description="", is_active=True)
                .returning(t["doctors"].c.id)
            ).scalar_one()
            for name, (status, steps) in HISTORIES.items():
                patient_user = _user(connection, t["users"], name, "patient")
                patient_id = connection.execute(
                    insert(t["patients"]).values(user_id=patient_user).returning(t["patients"].c.id)
                ).scalar_one()
                ids[name] = connection.execute(
                    insert(t["appointments"])
                    .values(
                        patient_id=patient_id,
                        doctor_id=doctor_id,
                        appointment_type="Offline",
                        symptoms="",
                        status=status,
                        decline_reason="",
                        created_at=T0 - timedelta(days=1),
                        updated_at=T0,
                    )
                    .returning(t["appointments"].c.id)
                ).scalar_one()
                for step, minutes in steps:
                    connection.execute(
                        insert(t["audit_entries"]).values(
                            at=T0 + timedelta(minutes=minutes),
                            actor="desk",
                            action="status",
                            entity="appointment",
                            entity_id=str(ids[name]),
                            detail=json.dumps({"status": step}),
                        )
                    )
            # Entries of other kinds and other records are left alone (a text id too).
            for entity_id, entity in (("not-a-number", "appointment"), (str(ids["undone"]), "x")):
                connection.execute(
                    insert(t["audit_entries"]).values(
                        at=T0,
                        actor="desk",
                        action="status",
                        entity=entity,
                        entity_id=entity_id,
                        detail=json.dumps({"status": "arrived"}),
                    )
                )
    finally:
        engine.dispose()
    return ids


def _times(url: str, ids: dict[str, int]) -> dict[str, tuple[int | None, int | None]]:
    """Each appointment's (arrived, in progress) as minutes after T0."""
    engine, meta = _tables(url)
    appointments = meta.tables["appointments"]
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(appointments.c.id, appointments.c.arrived_at, appointments.c.in_progress_at)
            ).all()
    finally:
        engine.dispose()

    def minutes(value: datetime | None) -> int | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return int((value - T0).total_seconds() // 60)

    by_id = {row[0]: (minutes(row[1]), minutes(row[2])) for row in rows}
    return {name: by_id[appointment_id] for name, appointment_id in ids.items()}


def test_status_times_come_from_the_first_audit_entries(blank: Blank) -> None:
    schema.upgrade(blank.url, BEFORE)
    ids = _add_history(blank.url)
    schema.upgrade(blank.url, AFTER)
    assert _times(blank.url, ids) == {
        "seen": (0, 12),
        "arrived_twice": (0, 20),
        "waiting": (3, None),
        "left": (4, None),
        "straight_in": (None, 2),
        "undone": (None, None),
        "started_too_soon": (8, None),
        "never_marked": (None, None),
    }


def test_downgrade_drops_the_columns(blank: Blank) -> None:
    schema.upgrade(blank.url, AFTER)
    command.downgrade(schema.alembic_config(blank.url), BEFORE)
    engine = create_engine(blank.url, poolclass=pool.NullPool)
    try:
        columns = {column["name"] for column in inspect(engine).get_columns("appointments")}
        indexes = {index["name"] for index in inspect(engine).get_indexes("appointments")}
    finally:
        engine.dispose()
    assert not {"arrived_at", "in_progress_at"} & columns
    assert "uq_appointments_live_slot" in indexes
