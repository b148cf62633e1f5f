"""The hold → confirm → reschedule → cancel path on every store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.errors import HoldNotYours, NoHoldFound, SlotAlreadyBooked, SlotLocked
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories


def _free_slots(clinic: Clinic, doctor_id: int, count: int) -> list[int]:
    now = clinic.now()
    return [
        s.id
        for s in doctors.free_slots(
            clinic, SYSTEM, [doctor_id], now, now + timedelta(days=7), limit=count
        )
    ]


def test_hold_confirm_reschedule_cancel(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk)
    first, second = _free_slots(clinic, doc.doctor_id, 2)

    hold = scheduling.hold_slot(clinic, desk, first, patient.id)
    assert scheduling.hold_slot(clinic, desk, first, patient.id).token == hold.token
    booked = scheduling.confirm_booking(clinic, desk, first, patient.id, token=hold.token)
    assert booked.status is AppointmentStatus.SCHEDULED and booked.slot_id == first
    assert clinic.locks.get(first) is None
    assert first not in _free_slots(clinic, doc.doctor_id, 50)

    moved = scheduling.reschedule_appointment(clinic, desk, booked.id, second)
    assert (moved.slot_id, moved.status) == (second, AppointmentStatus.RESCHEDULED)
    assert first in _free_slots(clinic, doc.doctor_id, 50)

    cancelled = scheduling.cancel_appointment(clinic, desk, booked.id)
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert second in _free_slots(clinic, doc.doctor_id, 50)


def test_other_patient_cannot_take_or_confirm_a_held_slot(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    alice, bob = factories.patient(clinic, desk), factories.patient(clinic, desk)
    (slot,) = _free_slots(clinic, doc.doctor_id, 1)

    hold = scheduling.hold_slot(clinic, desk, slot, alice.id)
    with pytest.raises(SlotLocked, match="Slot is temporarily locked."):
        scheduling.hold_slot(clinic, desk, slot, bob.id)
    with pytest.raises(HoldNotYours, match="Unauthorized access to the slot."):
        scheduling.confirm_booking(clinic, desk, slot, bob.id)
    with pytest.raises(NoHoldFound, match="No scheduled appointment found."):
        scheduling.confirm_booking(clinic, desk, slot, alice.id, token="stale-token")
    scheduling.confirm_booking(clinic, desk, slot, alice.id, token=hold.token)
    with pytest.raises(SlotAlreadyBooked, match="Slot is already booked."):
        scheduling.hold_slot(clinic, desk, slot, bob.id)
