"""Doctors: listing and filters, details, free slots by speciality, weekly hours and DST."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    DoctorMissing,
    InvalidSpeciality,
    PermissionDenied,
    ValidationError,
)
from hms_desktop.domain.models import SYSTEM, WorkingHours
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import catalogue, doctors, reviews, scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.hours import top_up
from hms_desktop.store.tables import Slot
from tests import factories
from tests.services.support import free_slot_ids, table_counts

BERLIN = ZoneInfo("Europe/Berlin")
SPRING_FORWARD = date(2027, 3, 28)  # last Sunday of March: 02:00 -> 03:00
FALL_BACK = date(2027, 10, 31)  # last Sunday of October: 03:00 -> 02:00


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_list_and_filter_doctors(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic, Role.ADMIN)
    cardio, neuro = factories.speciality(clinic, "Cardiology"), factories.speciality(clinic)
    senior = factories.designation(clinic, "Senior Consultant")
    morning = catalogue.save_available_time(clinic, desk, "Mon 09:00-12:00").id
    ann = factories.doctor(
        clinic, specialisation_ids=[cardio, neuro], first_name="Ann", fee=80, hours=[]
    )
    bo = factories.doctor(clinic, specialisation_ids=[neuro], first_name="Bo", fee=50, hours=[])
    doctors.update_doctor(
        clinic, desk, bo.doctor_id, designation_ids=[senior], available_time_ids=[morning]
    )

    def ids(**filters: object) -> list[int]:
        return [d.id for d in doctors.list_doctors(clinic, SYSTEM, **filters)]  # type: ignore[arg-type]

    assert ids() == [ann.doctor_id, bo.doctor_id]  # by name
    assert ids(specialisation_id=cardio) == [ann.doctor_id]
    assert ids(specialisation_id=neuro) == [ann.doctor_id, bo.doctor_id]
    assert ids(designation_id=senior) == [bo.doctor_id]
    assert ids(available_time_id=morning) == [bo.doctor_id]
    assert ids(fee=80) == [ann.doctor_id]
    assert ids(fee=80, specialisation_id=neuro, ids=[bo.doctor_id]) == []
    summary = doctors.get_doctor_summary(clinic, SYSTEM, ann.doctor_id)
    assert summary.specialisations[0] == "Cardiology" and summary.speciality == "Cardiology"
    assert (summary.fee, summary.average_rating, summary.review_count) == (80, None, 0)
    with pytest.raises(DoctorMissing, match="Doctor does not exist."):
        doctors.get_doctor_summary(clinic, SYSTEM, 999_999)
    with pytest.raises(DoctorMissing):
        doctors.doctor_details(clinic, SYSTEM, 999_999)


def test_update_doctor_rejects_bad_input_and_strangers(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic, Role.ADMIN)
    doc, other = factories.doctor(clinic, hours=[]), factories.doctor(clinic, hours=[])
    before = table_counts(clinic)
    for call, error in (
        (lambda: doctors.update_doctor(clinic, desk, doc.doctor_id, fee=-1), ValidationError),
        (
            lambda: doctors.update_doctor(clinic, desk, doc.doctor_id, specialisation_ids=[999]),
            ValidationError,
        ),
        (
            lambda: doctors.update_doctor(clinic, desk, doc.doctor_id, picture=b"not a picture"),
            ValidationError,
        ),
        (
            lambda: doctors.update_doctor(clinic, other.actor, doc.doctor_id, fee=1),
            PermissionDenied,
        ),
        (lambda: doctors.update_doctor(clinic, desk, 999_999, fee=1), DoctorMissing),
    ):
        with pytest.raises(error):
            call()
    assert table_counts(clinic) == before
    assert doctors.update_doctor(clinic, doc.actor, doc.doctor_id, fee=95).fee == 95


def test_details_show_next_free_slots_and_reviews(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk, username="rev", password=factories.PASSWORD)
    first, second = free_slot_ids(clinic, doc.doctor_id, 2, days_ahead=0)
    hold = scheduling.hold_slot(clinic, desk, first, patient.id)
    scheduling.confirm_booking(clinic, desk, first, patient.id, token=hold.token)
    scheduling.hold_slot(clinic, desk, second, patient.id)
    author = factories.patient_actor(clinic, patient)
    reviews.write_review(clinic, author, doc.doctor_id, "Great", 4)
    reviews.write_review(clinic, author, doc.doctor_id, "Fine", "⭐⭐")

    details = doctors.doctor_details(clinic, SYSTEM, doc.doctor_id)
    free = [slot.id for slot in details.next_free_slots]
    assert len(free) == doctors.NEXT_FREE_SLOTS
    assert first not in free and second not in free
    assert all(slot.start > clinic.now() for slot in details.next_free_slots)
    assert [slot.start for slot in details.next_free_slots] == sorted(
        slot.start for slot in details.next_free_slots
    )
    assert [r.body for r in details.reviews] == ["Fine", "Great"]
    assert (details.summary.average_rating, details.summary.review_count) == (3.0, 2)
    assert len(details.working_hours) == 7


def test_free_slots_by_speciality_exclude_booked_and_held(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    cardio = factories.speciality(clinic, "Child Cardiology")
    heart = factories.doctor(clinic, specialisation_ids=[cardio], first_name="Heart", fee=120)
    factories.doctor(clinic)  # no speciality: never listed
    patient = factories.patient(clinic, desk).id
    booked, held = free_slot_ids(clinic, heart.doctor_id, 2)
    hold = scheduling.hold_slot(clinic, desk, booked, patient)
    scheduling.confirm_booking(clinic, desk, booked, patient, token=hold.token)
    scheduling.hold_slot(clinic, desk, held, patient)
    start = clinic.now() + timedelta(days=1)
    end = start + timedelta(days=1)

    for name in ("Child Cardiology", "child cardiology", "child-cardiology"):
        found = doctors.free_slots_by_speciality(clinic, SYSTEM, name, start, end)
        ids = [slot.slot_id for slot in found]
        assert ids and booked not in ids and held not in ids
    assert {(s.doctor_id, s.doctor_name, s.fee) for s in found} == {
        (heart.doctor_id, heart.user.full_name, 120)
    }
    assert all(start <= s.start < end for s in found)
    # 24 hours hold each of the 47 daily slots (00:00-23:30) once, less the booked and held.
    assert len(found) == 47 - 2
    # A window reaching into the past shows only what is still ahead.
    earlier = doctors.free_slots_by_speciality(
        clinic, SYSTEM, "Child Cardiology", clinic.now() - timedelta(days=3), clinic.now()
    )
    assert earlier == []


def test_free_slot_search_errors(clinic: Clinic) -> None:
    factories.speciality(clinic, "Dermatology")
    now = clinic.now()
    with pytest.raises(InvalidSpeciality, match="Invalid speciality of doctor requested."):
        doctors.free_slots_by_speciality(clinic, SYSTEM, "Astrology", now, now + timedelta(days=1))
    with pytest.raises(ValidationError, match="earlier than end"):
        doctors.free_slots_by_speciality(clinic, SYSTEM, "Dermatology", now, now)
    with pytest.raises(ValidationError, match="earlier than end"):
        doctors.free_slots(clinic, SYSTEM, [1], now, now - timedelta(hours=1))
    with pytest.raises(ValidationError, match="62 days"):
        doctors.free_slots_by_speciality(
            clinic, SYSTEM, "Dermatology", now, now + timedelta(days=63)
        )


def test_weekly_hours_generate_slots_ahead(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(booking_horizon_days=14)
    monday_morning = _utc(2027, 1, 4, 6, 0)  # a Monday, before opening hours
    clinic.clock = lambda: monday_morning
    _, desk = factories.staff(clinic, Role.ADMIN)
    doc = factories.doctor(clinic, hours=[])
    hours = [
        WorkingHours(0, time(9, 0), time(12, 0), 30),  # Monday: 6 slots
        WorkingHours(2, time(14, 0), time(15, 0), 20),  # Wednesday: 3 slots
    ]
    created = doctors.set_working_hours(clinic, desk, doc.doctor_id, hours)
    assert created == 2 * 6 + 2 * 3
    window = (monday_morning, monday_morning + timedelta(days=14))
    slots = doctors.free_slots(clinic, SYSTEM, [doc.doctor_id], *window)
    assert len(slots) == created
    assert slots[0].start == _utc(2027, 1, 4, 9, 0) and slots[0].duration == 30
    assert [s.start for s in slots if s.duration == 20][:3] == [
        _utc(2027, 1, 6, 14, 0),
        _utc(2027, 1, 6, 14, 20),
        _utc(2027, 1, 6, 14, 40),
    ]
    # Setting them again is idempotent; generating ahead adds nothing new either.
    doctors.set_working_hours(clinic, doc.actor, doc.doctor_id, hours)
    assert len(doctors.free_slots(clinic, SYSTEM, [doc.doctor_id], *window)) == created
    top_up(clinic, doctor_ids=[doc.doctor_id])
    assert len(doctors.free_slots(clinic, SYSTEM, [doc.doctor_id], *window)) == created


def test_new_hours_keep_booked_slots(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(booking_horizon_days=7)
    _, desk = factories.staff(clinic, Role.ADMIN)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk).id
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    hold = scheduling.hold_slot(clinic, desk, slot, patient)
    appointment = scheduling.confirm_booking(clinic, desk, slot, patient, token=hold.token)

    doctors.set_working_hours(clinic, desk, doc.doctor_id, [])
    with clinic.db.read() as session:
        remaining = session.scalars(
            select(Slot.id).where(Slot.doctor_id == doc.doctor_id, Slot.start_at > clinic.now())
        ).all()
    assert remaining == [slot]
    assert scheduling.get_appointment(clinic, desk, appointment.id).slot_id == slot


def test_bad_hours_are_rejected_and_change_nothing(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic, Role.ADMIN)
    doc = factories.doctor(clinic, hours=[WorkingHours(1, time(9), time(10), 30)])
    other = factories.doctor(clinic, hours=[])
    patient = factories.patient_actor(clinic, factories.patient(clinic))
    before = table_counts(clinic)
    good = [WorkingHours(3, time(9), time(10), 30)]
    for actor, doctor_id, hours, error in (
        (desk, doc.doctor_id, [WorkingHours(0, time(9), time(10), 0)], ValidationError),
        (desk, doc.doctor_id, [WorkingHours(0, time(9), time(10), -15)], ValidationError),
        (desk, doc.doctor_id, [WorkingHours(7, time(9), time(10), 30)], ValidationError),
        (desk, doc.doctor_id, [WorkingHours(0, time(10), time(9), 30)], ValidationError),
        (desk, doc.doctor_id, [WorkingHours(0, time(9), time(9), 30)], ValidationError),
        (desk, 999_999, good, DoctorMissing),
        (other.actor, doc.doctor_id, good, PermissionDenied),
        (patient, doc.doctor_id, good, PermissionDenied),
    ):
        with pytest.raises(error):
            doctors.set_working_hours(clinic, actor, doctor_id, hours)
        assert table_counts(clinic) == before, hours
    details = doctors.doctor_details(clinic, SYSTEM, doc.doctor_id)
    assert details.working_hours == (WorkingHours(1, time(9), time(10), 30),)


def test_working_hours_across_dst_in_the_clinic_zone(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(timezone="Europe/Berlin", booking_horizon_days=14)
    clinic.clock = lambda: _utc(2027, 3, 20, 12, 0)  # a Saturday, eight days before the change
    _, desk = factories.staff(clinic, Role.ADMIN)
    doc = factories.doctor(clinic, hours=[])
    hours = [
        WorkingHours(6, time(1, 0), time(4, 0), 30),  # Sunday nights
        WorkingHours(0, time(9, 0), time(10, 0), 60),  # Monday mornings
    ]
    doctors.set_working_hours(clinic, desk, doc.doctor_id, hours)
    with clinic.db.read() as session:
        starts = [
            as_utc(value)
            for value in session.scalars(
                select(Slot.start_at).where(Slot.doctor_id == doc.doctor_id).order_by(Slot.start_at)
            )
        ]
    mondays = [s for s in starts if s.astimezone(BERLIN).weekday() == 0]
    assert mondays == [_utc(2027, 3, 22, 8, 0), _utc(2027, 3, 29, 7, 0)]
    change_night = [s for s in starts if s.astimezone(BERLIN).date() == SPRING_FORWARD]
    assert change_night == [
        _utc(2027, 3, 28, 0, 0),
        _utc(2027, 3, 28, 0, 30),
        _utc(2027, 3, 28, 1, 0),
        _utc(2027, 3, 28, 1, 30),
    ]
    normal_night = [s for s in starts if s.astimezone(BERLIN).date() == date(2027, 3, 21)]
    assert len(normal_night) == 6


def test_many_held_slots_do_not_hide_the_next_free_ones(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    held = free_slot_ids(clinic, doc.doctor_id, 5 * doctors.NEXT_FREE_SLOTS, days_ahead=0)
    per_patient = clinic.settings.max_holds_per_patient
    patients = [factories.patient(clinic, desk).id for _ in range(len(held) // per_patient + 1)]
    for number, slot in enumerate(held):
        scheduling.hold_slot(clinic, desk, slot, patients[number // per_patient])
    free = doctors.doctor_details(clinic, SYSTEM, doc.doctor_id).next_free_slots
    assert len(free) == doctors.NEXT_FREE_SLOTS
    assert not {slot.id for slot in free} & set(held)
    now = clinic.now()
    (first,) = doctors.free_slots(
        clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=1
    )
    assert first == free[0]
