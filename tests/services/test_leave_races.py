"""Desks moving affected bookings at once, racing for too few free slots: never two in one
slot, never one appointment moved twice, and each one not moved is reported and left where
it was. Real threads, each desk with a Clinic (pools, lock store clients) of its own."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import time, timedelta

from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.models import SYSTEM, AppointmentRecord, MoveReport, TimeBlockForm
from hms_desktop.domain.schedule import local_day_bounds
from hms_desktop.services import doctors, leave, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import live_appointments

# Four 15-minute slots a day, five days ahead: two days on leave (8 bookings), after them
# one day with 4 free slots. Twice as many bookings as free slots.
HOURS = [factories.WorkingHours(day, time(9), time(10), 15) for day in range(7)]
HORIZON = 5


def _setup(
    open_store: Callable[..., Clinic],
) -> tuple[Clinic, list[AppointmentRecord], list[int]]:
    clinic = open_store(booking_horizon_days=HORIZON)
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic, hours=HOURS)
    first_day = clinic.today() + timedelta(days=2)
    tz = clinic.settings.tz
    leave_start, _ = local_day_bounds(first_day, tz)
    _, leave_end = local_day_bounds(first_day + timedelta(days=1), tz)
    booked = []
    for slot in doctors.free_slots(clinic, SYSTEM, [doc.doctor_id], leave_start, leave_end):
        patient = factories.patient(clinic)
        hold = scheduling.hold_slot(clinic, desk, slot.id, patient.id)
        booked.append(
            scheduling.confirm_booking(clinic, desk, slot.id, patient.id, token=hold.token)
        )
    assert len(booked) == 8
    later = doctors.free_slots(
        clinic, SYSTEM, [doc.doctor_id], leave_end, leave_end + timedelta(days=30)
    )
    assert len(later) == 4
    leave.add_block(
        clinic,
        SYSTEM,
        TimeBlockForm(doc.doctor_id, first_day, first_day + timedelta(days=1), "Conference"),
    )
    return clinic, booked, [slot.id for slot in later]


def _race(open_store: Callable[..., Clinic], batches: list[list[int]]) -> list[MoveReport]:
    barrier = threading.Barrier(len(batches))

    def move(ids: list[int]) -> MoveReport:
        desk_clinic = open_store(booking_horizon_days=HORIZON)
        _, desk = factories.staff(desk_clinic)
        barrier.wait(timeout=60)
        return leave.move_affected(desk_clinic, desk, ids)

    with ThreadPoolExecutor(len(batches)) as pool:
        futures = [pool.submit(move, ids) for ids in batches]
        return [future.result(timeout=120) for future in futures]


def _check(
    clinic: Clinic,
    booked: list[AppointmentRecord],
    free: list[int],
    reports: list[MoveReport],
) -> list[AppointmentRecord]:
    moved = [record for report in reports for record in report.moved]
    # Every free slot was taken, each by one appointment, and no appointment twice.
    assert sorted(record.slot_id for record in moved) == sorted(free)  # type: ignore[type-var]
    assert len({record.id for record in moved}) == len(moved) == len(free)
    occupied = [slot for _, slot in live_appointments(clinic)]
    assert len(occupied) == len(set(occupied)) == len(booked)
    # The rest are reported, and untouched.
    not_moved = {n.appointment_id for report in reports for n in report.not_moved}
    assert not_moved | {record.id for record in moved} == {b.id for b in booked}
    for record in booked:
        if record.id not in {m.id for m in moved}:
            now = scheduling.get_appointment(clinic, SYSTEM, record.id)
            assert (now.slot_id, now.status) == (record.slot_id, AppointmentStatus.SCHEDULED)
    return moved


def test_four_desks_moving_different_bookings_share_out_the_free_slots(
    open_store: Callable[..., Clinic],
) -> None:
    clinic, booked, free = _setup(open_store)
    ids = [record.id for record in booked]
    reports = _race(open_store, [ids[0:2], ids[2:4], ids[4:6], ids[6:8]])
    _check(clinic, booked, free, reports)
    assert sum(len(r.moved) + len(r.not_moved) for r in reports) == len(booked)
    assert leave.affected_bookings(clinic, SYSTEM) != []  # four still wait for the desk


def test_four_desks_moving_the_same_bookings_move_each_once(
    open_store: Callable[..., Clinic],
) -> None:
    clinic, booked, free = _setup(open_store)
    ids = [record.id for record in booked]
    reports = _race(open_store, [ids, ids, ids, ids])
    moved = _check(clinic, booked, free, reports)
    desk = factories.staff(clinic, Role.RECEPTIONIST)[1]
    remaining = {a.appointment.id for a in leave.affected_bookings(clinic, desk)}
    assert remaining == {b.id for b in booked} - {m.id for m in moved}
