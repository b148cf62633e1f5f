"""Two desks on one clinic, one local and one remote: each sees the other's holds and
bookings live, and neither can book a slot the other holds."""

from __future__ import annotations

import dataclasses
import queue
from datetime import timedelta

import pytest

from hms_desktop.domain.errors import HoldNotYours, SlotLocked
from hms_desktop.domain.models import SYSTEM, ChangeEvent, SlotState
from hms_desktop.services import doctors
from tests import factories
from tests.contract.conftest import World

WAIT = 5.0


def _next(events: queue.Queue[ChangeEvent], kind: str, slot_id: int) -> ChangeEvent:
    """The next event of this kind for this slot, within a bounded wait."""
    while True:
        event = events.get(timeout=WAIT)
        if event.kind == kind and event.slot_id == slot_id:
            return event


def test_local_and_remote_desks_see_each_other_and_respect_holds(world: World) -> None:
    local, _ = world.desk(kind="local")
    remote, _ = world.desk(kind="remote")
    doc = factories.doctor(world.clinic)
    alice, bob = factories.patient(world.clinic), factories.patient(world.clinic)
    now = world.clinic.now()
    first, second = (
        s.id
        for s in doctors.free_slots(
            world.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=2
        )
    )
    heard_locally: queue.Queue[ChangeEvent] = queue.Queue()
    heard_remotely: queue.Queue[ChangeEvent] = queue.Queue()
    local.subscribe(heard_locally.put)
    remote.subscribe(heard_remotely.put)
    window = (now, now + timedelta(days=7))

    local_hold = local.hold_slot(first, alice.id)
    assert _next(heard_remotely, "hold", first).doctor_id == doc.doctor_id
    seen = {c.slot.id: c for c in remote.calendar([doc.doctor_id], *window)}
    # Another desk's hold shows who holds it and where, never its token (the key to confirm
    # it) nor which log-in holds it.
    assert seen[first].state is SlotState.HELD
    assert seen[first].hold == dataclasses.replace(local_hold, token="", desk_session="")
    assert seen[first].hold.desk == local_hold.desk != ""
    with pytest.raises(SlotLocked, match="^Slot is temporarily locked.$"):
        remote.hold_slot(first, bob.id)
    with pytest.raises(HoldNotYours, match="^Unauthorized access to the slot.$"):
        remote.confirm_booking(first, bob.id, local_hold.token)

    remote_hold = remote.hold_slot(second, bob.id)
    assert _next(heard_locally, "hold", second).doctor_id == doc.doctor_id
    with pytest.raises(SlotLocked, match="^Slot is temporarily locked.$"):
        local.hold_slot(second, alice.id)

    booked_remotely = remote.confirm_booking(second, bob.id, remote_hold.token)
    assert _next(heard_locally, "book", second).appointment_id == booked_remotely.id
    booked_locally = local.confirm_booking(first, alice.id, local_hold.token)
    assert _next(heard_remotely, "book", first).appointment_id == booked_locally.id

    local_view = {c.slot.id: c for c in local.calendar([doc.doctor_id], *window)}
    remote_view = {c.slot.id: c for c in remote.calendar([doc.doctor_id], *window)}
    assert local_view == remote_view
    assert local_view[first].appointment == booked_locally
    assert remote_view[second].appointment == booked_remotely


def test_remote_records_equal_local_records(world: World) -> None:
    """Every record survives the trip through JSON unchanged (compared field by field)."""
    local, _ = world.desk(kind="local")
    remote, _ = world.desk(kind="remote")
    speciality = factories.speciality(world.clinic, "Dermatology")
    doc = factories.doctor(world.clinic, specialisation_ids=[speciality])
    patient = factories.patient(world.clinic, phone="+1 555 010 0100")
    now = world.clinic.now()
    (slot,) = (
        s.id
        for s in doctors.free_slots(
            world.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=2), limit=1
        )
    )
    booked = local.confirm_booking(slot, patient.id, local.hold_slot(slot, patient.id).token)
    window = (now, now + timedelta(days=2))

    assert remote.doctor_details(doc.doctor_id) == local.doctor_details(doc.doctor_id)
    assert remote.doctors() == local.doctors()
    assert remote.free_slots_by_speciality(
        "Dermatology", *window
    ) == local.free_slots_by_speciality("Dermatology", *window)
    assert remote.calendar([doc.doctor_id], *window) == local.calendar([doc.doctor_id], *window)
    assert remote.patient_history(patient.id) == local.patient_history(patient.id) == [booked]
    assert remote.search_patients("+1 555") == local.search_patients("+1 555")
