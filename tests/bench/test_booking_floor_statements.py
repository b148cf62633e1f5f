"""The booking bench's floor is only a floor if it runs what the service runs: one service
hold + confirm on PostgreSQL sends exactly the floor's SQL text (the same statements, the
same number of them, in the same order: a statement added to the booking, as the reminders'
address look-up was, must be added to the floor too), and the same Redis commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from hms_desktop.bench import booking as bench
from hms_desktop.bench.common import NO_QUOTA
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Slot
from tests import factories


@contextmanager
def _redis_commands(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The Redis commands any client sends meanwhile (a script by its SHA: acquire and
    release are told apart)."""
    seen: list[str] = []
    send = redis.Redis.execute_command

    def record(self: redis.Redis, *args: Any, **options: Any) -> Any:
        name = str(args[0]).upper()
        seen.append(f"{name} {args[1]}" if name == "EVALSHA" else name)
        return send(self, *args, **options)

    run = redis.client.Pipeline.execute

    def record_pipeline(self: redis.client.Pipeline, *args: Any, **options: Any) -> Any:
        names = ",".join(str(command[0][0]).upper() for command in self.command_stack)
        seen.append(f"PIPELINE {names}")
        return run(self, *args, **options)

    with monkeypatch.context() as patch:
        patch.setattr(redis.Redis, "execute_command", record)
        patch.setattr(redis.client.Pipeline, "execute", record_pipeline)
        yield seen


@contextmanager
def _statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL statements sent meanwhile, recorded at the driver: the service runs its hot
    statements on psycopg's connection itself (store/sql.DriverStatement), past
    SQLAlchemy's execution events."""
    seen: list[str] = []
    execute = psycopg.Cursor.execute

    def record(self: psycopg.Cursor[Any], query: Any, *args: Any, **options: Any) -> Any:
        statement = str(query)
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH"):
            seen.append(statement)
        return execute(self, query, *args, **options)

    with monkeypatch.context() as patch:
        patch.setattr(psycopg.Cursor, "execute", record)
        yield seen


def test_the_floor_runs_the_services_statements(
    open_store: Callable[..., Clinic], monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = open_store(max_holds_per_patient=NO_QUOTA)
    if clinic.db.is_sqlite:
        pytest.skip("the booking bench runs on PostgreSQL")
    _, desk = factories.staff(clinic)
    doctor = factories.doctor(clinic)
    patient = factories.patient(clinic)
    with clinic.db.read() as session:
        slot_ids = [
            slot_id
            for (slot_id,) in session.query(Slot.id)
            .filter(Slot.doctor_id == doctor.doctor_id)
            .order_by(Slot.start_at)
            .limit(2)
        ]
    with _statements(monkeypatch) as seen, _redis_commands(monkeypatch) as service_commands:
        bench.ServiceBooking(clinic, desk)(0, slot_ids[0], patient.id)
    # The bench's patients have no e-mail address; this one neither, so no outbox INSERT.
    assert seen == [bench.SQL_HOLD_CHECK, bench.SQL_BOOK_AND_READ]
    assert seen[1].startswith("WITH booked AS")

    conninfo = (
        make_url(clinic.settings.database_url)
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )
    floor = bench.FloorBooking(
        conninfo,
        clinic.settings.redis_url,
        clinic.settings.redis_prefix,
        clinic.settings.hold_ttl_ms,
        desk,
        1,
    )
    try:
        with _statements(monkeypatch) as floor_sent, _redis_commands(monkeypatch) as floor_commands:
            floor(0, slot_ids[1], patient.id)
    finally:
        floor.close()
    assert floor_sent == seen
    assert floor_commands == service_commands
    assert [command.split()[0] for command in service_commands] == [
        "EVALSHA",  # acquire
        "PIPELINE",  # hold: the patient's change key and the event, one round trip
        "GET",  # confirm reads the hold
        "PIPELINE",  # book, once committed
        "EVALSHA",  # release
    ]
    assert service_commands[0] != service_commands[4]  # two scripts: acquire, release
