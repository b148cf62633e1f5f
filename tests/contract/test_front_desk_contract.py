"""The desk's arrivals list (every doctor's day) and a status set back, the same on
LocalBackend and RemoteBackend."""

from __future__ import annotations

from datetime import timedelta

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.models import SYSTEM, AppointmentRecord
from hms_desktop.domain.schedule import local_day_bounds
from hms_desktop.services import doctors
from hms_desktop.services.backend import Backend
from tests import factories
from tests.contract.conftest import World


def _book(backend: Backend, slot_id: int, patient_id: int) -> AppointmentRecord:
    hold = backend.hold_slot(slot_id, patient_id)
    return backend.confirm_booking(slot_id, patient_id, hold.token)


def test_the_arrivals_list_has_every_doctors_day_in_time_order(world: World) -> None:
    backend, _ = world.desk()
    first, second = factories.doctor(world.clinic), factories.doctor(world.clinic)
    ann, bob, cy = (factories.patient(world.clinic) for _ in range(3))
    day = world.clinic.today() + timedelta(days=2)
    start, end = local_day_bounds(day, world.clinic.settings.tz)

    def free(doctor_id: int) -> list[int]:
        found = doctors.free_slots(world.clinic, SYSTEM, [doctor_id], start, end, limit=4)
        return [slot.id for slot in found]

    late = _book(backend, free(first.doctor_id)[3], ann.id)
    early = _book(backend, free(second.doctor_id)[0], bob.id)
    middle = _book(backend, free(first.doctor_id)[1], cy.id)
    gone = _book(backend, free(second.doctor_id)[2], cy.id)
    backend.cancel(gone.id)
    backend.hold_slot(free(second.doctor_id)[0], ann.id)  # a hold is no appointment

    assert backend.clinic_day(day) == [early, middle, late]
    assert backend.clinic_day(day + timedelta(days=1)) == []
    # A doctor's desk sees their own part of the day only.
    assert world.doctor_desk(first).clinic_day(day) == [middle, late]


def test_a_status_set_by_mistake_is_set_back(world: World) -> None:
    backend, _ = world.desk()
    doc = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    start = world.clinic.now() + timedelta(hours=1)
    (slot,) = doctors.free_slots(
        world.clinic, SYSTEM, [doc.doctor_id], start, start + timedelta(days=7), limit=1
    )
    booked = _book(backend, slot.id, patient.id)
    for mistake in (AppointmentStatus.NO_SHOW, AppointmentStatus.ARRIVED):
        assert backend.set_status(booked.id, mistake).status is mistake
        back = backend.set_status(booked.id, AppointmentStatus.SCHEDULED)
        assert back.status is AppointmentStatus.SCHEDULED
