"""Two desks in two processes on one store (the embedded file, or PostgreSQL + Redis): each
hears the other's hold, booking, move and cancel within a second, with no refresh."""

from __future__ import annotations

import multiprocessing
import queue
import time
from datetime import timedelta
from typing import Any

import pytest

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, Actor, ChangeEvent
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services import desk_process
from tests.stores import StoreSpec

WITHIN = 1.0  # seconds from the change to the other process hearing of it
DESK = Actor(user_id=None, username="desk-parent", role=Role.RECEPTIONIST)


class Child:
    """The other desk's process: commands in, what it heard and did out."""

    def __init__(self, store: StoreSpec) -> None:
        context = multiprocessing.get_context("spawn")
        self.commands: Any = context.Queue()
        self.heard: Any = context.Queue()
        self.process = context.Process(
            target=desk_process.follow_and_act,
            args=(store.settings(), self.commands, self.heard),
        )
        self.process.start()
        assert self._next(lambda item: item[0] == "ready", timeout=60)[0] == "ready"

    def _next(self, wanted: Any, timeout: float = 10.0) -> tuple[Any, ...]:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            assert left > 0 and self.process.exitcode is None, "the other desk went quiet"
            try:
                item = self.heard.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            assert item[0] != "error", item
            if wanted(item):
                return tuple(item)

    def heard_within(self, kind: str, slot_id: int, since: float) -> float:
        item = self._next(lambda i: i[0] == "event" and i[1] == kind and i[2] == slot_id)
        return float(item[3]) - since

    def do(self, *command: Any) -> Any:
        self.commands.put(command)
        return self._next(lambda item: item[0] == "done" and item[1] == command[0])[2]

    def stop(self) -> None:
        self.commands.put(None)
        self.process.join(timeout=30)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)


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
