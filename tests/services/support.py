"""Helpers shared by the service tests: row counts, live appointments, waiting for events."""

from __future__ import annotations

import queue
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from hms_desktop.domain.enums import FREEING_STATUSES
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import SYSTEM, ChangeEvent
from hms_desktop.services import doctors
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Appointment, AuditEntry, Base

EVENT_WAIT_SECONDS = 5.0


def table_counts(clinic: Clinic) -> dict[str, int]:
    """Rows in every table: compared before and after a rejected write."""
    with clinic.db.read() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def live_appointments(clinic: Clinic, slot_ids: list[int] | None = None) -> list[tuple[int, int]]:
    """(appointment id, slot id) of every appointment that occupies a slot."""
    query = select(Appointment.id, Appointment.slot_id).where(
        Appointment.slot_id.is_not(None), Appointment.status.not_in(FREEING_STATUSES)
    )
    if slot_ids is not None:
        query = query.where(Appointment.slot_id.in_(slot_ids))
    with clinic.db.read() as session:
        return [(row.id, row.slot_id) for row in session.execute(query)]


def last_audit(clinic: Clinic) -> AuditEntry:
    with clinic.db.read() as session:
        entry = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
        assert entry is not None, "no audit entry was written"
        return entry


def audit_count(clinic: Clinic) -> int:
    with clinic.db.read() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def free_slot_ids(clinic: Clinic, doctor_id: int, count: int, *, days_ahead: int = 1) -> list[int]:
    """`count` free slots of a doctor, starting `days_ahead` days from now."""
    start = clinic.now() + timedelta(days=days_ahead)
    found = doctors.free_slots(
        clinic, SYSTEM, [doctor_id], start, start + timedelta(days=7), limit=count
    )
    assert len(found) == count
    return [slot.id for slot in found]


class EventRecorder:
    """Collects change events from a bus; `wait_for` blocks (bounded) for a matching one."""

    def __init__(self) -> None:
        self._queue: queue.Queue[ChangeEvent] = queue.Queue()
        self.seen: list[ChangeEvent] = []

    def __call__(self, event: ChangeEvent) -> None:
        self._queue.put(event)

    def wait_for(self, kind: str, timeout: float = EVENT_WAIT_SECONDS, **match: Any) -> ChangeEvent:
        def matches(event: ChangeEvent) -> bool:
            return event.kind == kind and all(
                getattr(event, key) == value for key, value in match.items()
            )

        for event in self.seen:
            if matches(event):
                self.seen.remove(event)
                return event
        remaining = timeout
        while remaining > 0:
            try:
                event = self._queue.get(timeout=min(remaining, 0.25))
            except queue.Empty:
                remaining -= 0.25
                continue
            if matches(event):
                return event
            self.seen.append(event)
        raise AssertionError(f"no {kind!r} event matching {match} within {timeout} s")


def attempt(call: Callable[[], Any]) -> Any:
    """Run a service call; return its result or the domain error it raised."""
    try:
        return call()
    except DomainError as error:
        return error
