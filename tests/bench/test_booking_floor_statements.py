"""The booking bench's floor is only a floor if it runs what the service runs: one service
hold + confirm on PostgreSQL issues the floor's statements, the same number of them, in the
same order (so a statement added to the booking, as the reminders' address look-up was,
must be added to the floor too)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import event

from hms_desktop.bench import booking as bench
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Slot
from tests import factories

# What the floor runs per booking, in its order (FloorBooking.__call__).
FLOOR = [
    bench.SQL_HOLD_CHECK,
    bench.SQL_BOOK,
    bench.SQL_AUDIT,
    bench.SQL_RECORD,
    bench.SQL_ADDRESSES,
]


def _shape(statement: str) -> tuple[str, str]:
    words = statement.split()
    verb = words[0].upper()
    if verb == "INSERT":
        return verb, words[2].strip('"')
    # The table of the outermost FROM (the hold check has sub-selects before it).
    depth = 0
    for index, word in enumerate(words):
        if depth == 0 and word.upper() == "FROM":
            return verb, words[index + 1].strip('"')
        depth += word.count("(") - word.count(")")
    raise AssertionError(f"no FROM in {statement}")


def test_the_floor_runs_the_services_statements(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store()
    if clinic.db.is_sqlite:
        pytest.skip("the booking bench runs on PostgreSQL")
    _, desk = factories.staff(clinic)
    doctor = factories.doctor(clinic)
    patient = factories.patient(clinic)
    with clinic.db.read() as session:
        slot_id = session.query(Slot.id).filter(Slot.doctor_id == doctor.doctor_id).first()[0]
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.split()[0].upper() in ("SELECT", "INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    engines = {clinic.db.writer}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        bench.ServiceBooking(clinic, desk)(0, slot_id, patient.id)
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)
    assert [_shape(statement) for statement in seen] == [_shape(sql) for sql in FLOOR]
    assert [_shape(sql) for sql in FLOOR] == [
        ("SELECT", "slots"),
        ("INSERT", "appointments"),
        ("INSERT", "audit_entries"),
        ("SELECT", "appointments"),
        ("SELECT", "patients"),
    ]
