"""A desk in a process of its own, for the multi-process race. A spawned child imports this
module, so it imports only what booking needs."""

from __future__ import annotations

import time
from typing import Any

from hms_desktop.config import Settings
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import Actor
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import open_clinic


def book(settings: Settings, slot_id: int, patient_id: int, barrier: Any, results: Any) -> None:
    """Open a Clinic, wait for the other desks, then hold and confirm; report the outcome."""
    clinic = open_clinic(settings, migrate=False)
    try:
        desk = Actor(user_id=None, username=f"desk-{patient_id}", role=Role.RECEPTIONIST)
        barrier.wait(timeout=120)
        try:
            hold = scheduling.hold_slot(clinic, desk, slot_id, patient_id)
            booked = scheduling.confirm_booking(clinic, desk, slot_id, patient_id, token=hold.token)
            results.put(("booked", booked.id))
        except DomainError as error:
            results.put(("error", type(error).__name__))
    finally:
        clinic.close()


def follow_and_act(settings: Settings, commands: Any, heard: Any) -> None:
    """A second desk: reports every change event it hears as (kind, slot id, time heard),
    and does what the test asks ((name, *args) on `commands`; None stops it)."""
    clinic = open_clinic(settings, migrate=False)
    desk = Actor(user_id=None, username="desk-child", role=Role.RECEPTIONIST)
    subscription = clinic.events.subscribe(
        lambda event: heard.put(("event", event.kind, event.slot_id, time.time()))
    )
    heard.put(("ready", None, None, time.time()))
    try:
        while (command := commands.get(timeout=120)) is not None:
            name, *args = command
            try:
                if name == "hold":
                    hold = scheduling.hold_slot(clinic, desk, *args)
                    heard.put(("done", name, hold.token, time.time()))
                elif name == "book":
                    slot_id, patient_id, token = args
                    done = scheduling.confirm_booking(
                        clinic, desk, slot_id, patient_id, token=token
                    )
                    heard.put(("done", name, done.id, time.time()))
                elif name == "move":
                    done = scheduling.reschedule_appointment(clinic, desk, *args)
                    heard.put(("done", name, done.id, time.time()))
                elif name == "cancel":
                    done = scheduling.cancel_appointment(clinic, desk, *args)
                    heard.put(("done", name, done.id, time.time()))
            except DomainError as error:
                heard.put(("error", name, type(error).__name__, time.time()))
    finally:
        subscription.close()
        clinic.close()
