"""Two desks in two processes on one store (the embedded file, or PostgreSQL + Redis): each
hears the other's hold, booking, move and cancel within a second, with no refresh."""

from __future__ import annotations

import queue
import time
from datetime import timedelta

import pytest

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, Actor, ChangeEvent
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.desk_process import Child
from tests.stores import StoreSpec

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency

WITHIN = 1.0  # seconds from the change to the other process hearing of it
DESK = Actor(user_id=None, username="desk-parent", role=Role.RECEPTIONIST)


def _heard_within(
    events: queue.Queue[tuple[ChangeEvent, float]], kind: str, slot_id: int, since: float
) -> float:
    deadline = time.monotonic() + 10
    while True:
        event, at = events.get(timeout=max(0.0, deadline - time.monotonic()))
        if event.kind == kind and event.slot_id == slot_id:
            return at - since


@pytest.mark.slow
def test_desks_in_two_processes_hear_each_others_changes_within_a_second(
    clinic: Clinic, store: StoreSpec
) -> None:
    doc = factories.doctor(clinic)
    alice, bob = factories.patient(clinic), factories.patient(clinic)
    now = clinic.now()
    slots = [
        s.id
        for s in doctors.free_slots(
            clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=4
        )
    ]
    heard: queue.Queue[tuple[ChangeEvent, float]] = queue.Queue()
    subscription = clinic.events.subscribe(lambda event: heard.put((event, time.time())))
    child = Child(store)
    delays: dict[str, float] = {}
    try:
        # This desk acts; the other process hears.
        start = time.time()
        hold = scheduling.hold_slot(clinic, DESK, slots[0], alice.id)
        delays["hold →"] = child.heard_within("hold", slots[0], start)
        start = time.time()
        booked = scheduling.confirm_booking(clinic, DESK, slots[0], alice.id, token=hold.token)
        delays["book →"] = child.heard_within("book", slots[0], start)
        start = time.time()
        scheduling.reschedule_appointment(clinic, DESK, booked.id, slots[1])
        delays["move →"] = child.heard_within("reschedule", slots[1], start)
        start = time.time()
        scheduling.cancel_appointment(clinic, DESK, booked.id)
        delays["cancel →"] = child.heard_within("cancel", slots[1], start)

        # The other process acts; this desk hears.
        start = time.time()
        token = child.do("hold", slots[2], bob.id)
        delays["hold ←"] = _heard_within(heard, "hold", slots[2], start)
        start = time.time()
        appointment_id = child.do("book", slots[2], bob.id, token)
        delays["book ←"] = _heard_within(heard, "book", slots[2], start)
        start = time.time()
        child.do("move", appointment_id, slots[3])
        delays["move ←"] = _heard_within(heard, "reschedule", slots[3], start)
        start = time.time()
        child.do("cancel", appointment_id)
        delays["cancel ←"] = _heard_within(heard, "cancel", slots[3], start)
    finally:
        child.stop()
        subscription.close()
    assert max(delays.values()) < WITHIN, delays
