"""A desk in a process of its own, for the multi-process race. A spawned child imports this
module, so it imports only what booking needs."""

from __future__ import annotations

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
