"""The waitlist through the Backend contract, the same on LocalBackend and RemoteBackend: add,
list, the offer for a freed slot, take it (a hold), fill it (a booking and a filled entry),
withdraw; errors arrive as the same exceptions; other desks hear of waitlist changes."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from hms_desktop.domain.errors import PermissionDenied, SlotLocked, ValidationError
from hms_desktop.domain.models import SYSTEM, ChangeEvent
from hms_desktop.domain.waitlist import (
    WaitlistEntryClosed,
    WaitlistForm,
    WaitlistNoMatch,
    WaitlistPriority,
    WaitlistStatus,
)
from hms_desktop.services import doctors
from tests import factories
from tests.contract.conftest import World

WAIT = 10.0


def _slot_at(world: World, doctor_id: int, hour: int) -> int:
    clinic = world.clinic
    day = clinic.today() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, hour, tzinfo=clinic.settings.tz)
    (slot,) = doctors.free_slots(clinic, SYSTEM, [doctor_id], start, start + timedelta(minutes=1))
    return slot.id


def _form(world: World, patient_id: int, **more: object) -> WaitlistForm:
    today = world.clinic.today()
    return WaitlistForm(
        patient_id=patient_id,
        first_day=today,
        last_day=today + timedelta(days=10),
        **more,  # type: ignore[arg-type]
    )


def test_a_freed_slot_is_filled_from_the_waitlist(world: World) -> None:
    backend, _ = world.desk()
    other_desk, _ = world.desk()
    cardiology = factories.speciality(world.clinic)
    heart = factories.doctor(world.clinic, specialisation_ids=[cardiology])
    ann, bob, cy = (factories.patient(world.clinic) for _ in range(3))
    normal = backend.add_to_waitlist(_form(world, ann.id, doctor_id=heart.doctor_id, note="any"))
    urgent = backend.add_to_waitlist(
        _form(
            world,
            bob.id,
            specialisation_id=cardiology,
            priority=WaitlistPriority.URGENT,
            preferred_times="mornings",
        )
    )
    assert (urgent.wanted, urgent.priority) == (
        f"any {urgent.specialisation_name} doctor",
        WaitlistPriority.URGENT,
    )
    assert [e.id for e in backend.waitlist()] == [urgent.id, normal.id]
    assert [e.id for e in backend.waitlist(doctor_id=heart.doctor_id)] == [normal.id]
    assert [e.id for e in backend.waitlist(patient_id=bob.id)] == [urgent.id]

    slot = _slot_at(world, heart.doctor_id, 10)
    hold = backend.hold_slot(slot, cy.id)
    booked = backend.confirm_booking(slot, cy.id, hold.token)
    assert backend.waitlist_for_slot(slot) == [], "booked: nothing to offer"
    backend.cancel(booked.id)

    assert backend.waitlist_for_slot(slot) == [urgent, normal]
    start = datetime.combine(
        world.clinic.today() + timedelta(days=1), datetime.min.time(), world.clinic.settings.tz
    )
    offers = {
        o.slot_id: o
        for o in backend.waitlist_offers([heart.doctor_id], start, start + timedelta(days=1))
    }
    assert offers[slot].entries == (urgent, normal)
    assert offers[_slot_at(world, heart.doctor_id, 15)].entries == (normal,)

    with pytest.raises(WaitlistNoMatch):
        backend.take_waitlist_offer(urgent.id, _slot_at(world, heart.doctor_id, 15))
    taken = backend.take_waitlist_offer(urgent.id, slot)
    assert (taken.slot_id, taken.patient_id) == (slot, bob.id)
    with pytest.raises(SlotLocked):  # another desk, a moment later
        other_desk.take_waitlist_offer(normal.id, slot)
    record = backend.fill_from_waitlist(urgent.id, slot, taken.token, symptoms="follow-up")
    assert (record.slot_id, record.patient_id, record.symptoms) == (slot, bob.id, "follow-up")

    (filled,) = backend.waitlist(WaitlistStatus.FILLED)
    assert (filled.id, filled.appointment_id, filled.status) == (
        urgent.id,
        record.id,
        WaitlistStatus.FILLED,
    )
    assert filled.filled_at is not None
    assert [e.id for e in backend.waitlist()] == [normal.id]
    assert backend.withdraw_from_waitlist(normal.id).status is WaitlistStatus.WITHDRAWN
    with pytest.raises(WaitlistEntryClosed):
        backend.withdraw_from_waitlist(normal.id)
    assert {e.id for e in backend.waitlist(None)} == {normal.id, urgent.id}
    assert backend.waitlist() == []


def test_a_wrong_entry_is_refused_by_field_and_a_doctor_sees_no_waitlist(world: World) -> None:
    backend, _ = world.desk()
    doc = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    with pytest.raises(ValidationError) as raised:
        backend.add_to_waitlist(_form(world, patient.id))  # neither doctor nor speciality
    assert raised.value.field == "doctor_id"
    with pytest.raises(ValidationError) as raised:
        backend.add_to_waitlist(
            _form(world, patient.id, doctor_id=doc.doctor_id, preferred_times="soonish")
        )
    assert raised.value.field == "preferred_times"
    with pytest.raises(PermissionDenied):
        world.doctor_desk(doc).waitlist()


def test_other_desks_hear_of_waitlist_changes(world: World) -> None:
    backend, _ = world.desk()
    listening, _ = world.desk()
    doc = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    heard: list[ChangeEvent] = []
    withdrawn = threading.Event()

    def listener(event: ChangeEvent) -> None:
        if event.kind == "waitlist":
            heard.append(event)
            if event.extra.get("action") == "withdraw":
                withdrawn.set()

    subscription = listening.subscribe(listener)
    try:
        entry = backend.add_to_waitlist(_form(world, patient.id, doctor_id=doc.doctor_id))
        backend.withdraw_from_waitlist(entry.id)
        assert withdrawn.wait(WAIT), heard
    finally:
        subscription.close()
    assert [(e.extra["action"], e.extra["entry_id"], e.patient_id) for e in heard] == [
        ("create", entry.id, patient.id),
        ("withdraw", entry.id, patient.id),
    ]
