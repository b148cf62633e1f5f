"""Scheduling use cases and each documented error: holds, bookings, moves, cancellations,
the doctor's day, status changes, the request queue and the desk calendar."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.errors import (
    AppointmentMissing,
    DoctorMissing,
    HoldNotYours,
    InvalidTransition,
    MissingSlot,
    NotFound,
    NotYourAppointment,
    PatientMissing,
    PatientNotFound,
    PermissionDenied,
    SlotAlreadyBooked,
    SlotInPast,
    SlotLocked,
    ValidationError,
)
from hms_desktop.domain.models import SYSTEM, Actor, PatientRecord, SlotState
from hms_desktop.services import catalogue, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import free_slot_ids, last_audit, live_appointments, table_counts


@dataclass
class Desk:
    clinic: Clinic
    desk: Actor
    doc: factories.DoctorFixture
    alice: PatientRecord
    bob: PatientRecord
    slots: list[int]

    def book(self, slot: int, patient: PatientRecord | None = None) -> int:
        patient_id = (patient or self.alice).id
        hold = scheduling.hold_slot(self.clinic, self.desk, slot, patient_id)
        return scheduling.confirm_booking(
            self.clinic, self.desk, slot, patient_id, token=hold.token
        ).id


@pytest.fixture
def desk(clinic: Clinic) -> Desk:
    _, actor = factories.staff(clinic)
    doc = factories.doctor(clinic)
    alice = factories.patient(
        clinic, actor, username=factories.unique("alice"), password="pw-12345678"
    )
    bob = factories.patient(clinic, actor, username=factories.unique("bob"), password="pw-12345678")
    return Desk(clinic, actor, doc, alice, bob, free_slot_ids(clinic, doc.doctor_id, 6))


def test_confirm_records_type_and_symptoms_and_patients_book_for_themselves(desk: Desk) -> None:
    clinic, slot = desk.clinic, desk.slots[0]
    alice = factories.patient_actor(clinic, desk.alice)
    hold = scheduling.hold_slot(clinic, alice, slot)
    assert (hold.patient_id, hold.holder_user_id) == (desk.alice.id, alice.user_id)
    # Asking again, she gets the same hold back; a desk asking for her is told it is locked
    # (a hold's token is its holder's alone).
    assert scheduling.hold_slot(clinic, alice, slot).token == hold.token
    with pytest.raises(SlotLocked):
        scheduling.hold_slot(clinic, desk.desk, slot, desk.alice.id)
    booked = scheduling.confirm_booking(
        clinic, alice, slot, appointment_type=AppointmentType.ONLINE, symptoms="cough"
    )
    assert (booked.patient_id, booked.doctor_id) == (desk.alice.id, desk.doc.doctor_id)
    assert (booked.appointment_type, booked.symptoms) == (AppointmentType.ONLINE, "cough")
    assert booked.start is not None and booked.start > clinic.now()
    assert scheduling.get_appointment(clinic, alice, booked.id) == booked


def test_missing_unknown_and_past_slots(desk: Desk) -> None:
    clinic, actor, patient = desk.clinic, desk.desk, desk.alice.id
    appointment = desk.book(desk.slots[0])
    request = scheduling.request_appointment(
        clinic, actor, doctor_id=desk.doc.doctor_id, patient_id=patient
    )
    before = table_counts(clinic)
    for call in (
        lambda: scheduling.hold_slot(clinic, actor, None, patient),
        lambda: scheduling.confirm_booking(clinic, actor, None, patient),
        lambda: scheduling.reschedule_appointment(clinic, actor, appointment, None),
        lambda: scheduling.assign_request(clinic, actor, request.id, None),
    ):
        with pytest.raises(MissingSlot, match="Missing slot ID."):
            call()
    with pytest.raises(NotFound, match="Slot does not exist."):
        scheduling.hold_slot(clinic, actor, 999_999, patient)
    with pytest.raises(PatientMissing, match="Patient does not exist."):
        scheduling.hold_slot(clinic, actor, desk.slots[1], 999_999)
    with pytest.raises(PatientMissing):
        scheduling.hold_slot(clinic, actor, desk.slots[1])  # the desk must name the patient

    real_clock = clinic.clock
    clinic.clock = lambda: real_clock() + timedelta(days=30)
    with pytest.raises(SlotInPast, match="Slot is in the past."):
        scheduling.hold_slot(clinic, actor, desk.slots[1], patient)
    with pytest.raises(SlotInPast):
        scheduling.reschedule_appointment(clinic, actor, appointment, desk.slots[1])
    clinic.clock = real_clock
    assert table_counts(clinic) == before
    assert clinic.locks.get(desk.slots[1]) is None


def test_who_may_hold_for_whom(desk: Desk) -> None:
    clinic, slot = desk.clinic, desk.slots[0]
    alice = factories.patient_actor(clinic, desk.alice)
    with pytest.raises(HoldNotYours, match="Unauthorized access to the slot."):
        scheduling.hold_slot(clinic, alice, slot, desk.bob.id)
    with pytest.raises(PermissionDenied):
        scheduling.hold_slot(clinic, desk.doc.actor, slot, desk.alice.id)
    hold = scheduling.hold_slot(clinic, desk.desk, slot, desk.bob.id)
    with pytest.raises(HoldNotYours):
        scheduling.confirm_booking(clinic, alice, slot, token=hold.token)
    with pytest.raises(HoldNotYours):
        scheduling.confirm_booking(clinic, alice, slot, desk.bob.id)
    assert clinic.locks.get(slot) == hold
    assert live_appointments(clinic, [slot]) == []


def test_release_needs_the_owners_token(desk: Desk) -> None:
    clinic, slot = desk.clinic, desk.slots[0]
    hold = scheduling.hold_slot(clinic, desk.desk, slot, desk.alice.id)
    assert scheduling.release_hold(clinic, desk.desk, slot, "someone-elses-token") is False
    assert clinic.locks.get(slot) == hold
    assert scheduling.release_hold(clinic, desk.desk, slot, hold.token) is True
    assert clinic.locks.get(slot) is None
    assert scheduling.hold_slot(clinic, desk.desk, slot, desk.bob.id).patient_id == desk.bob.id


def test_reschedule_guards_the_new_slot(desk: Desk) -> None:
    clinic, actor = desk.clinic, desk.desk
    first, taken, held, free = desk.slots[:4]
    mine = desk.book(first)
    desk.book(taken, desk.bob)
    scheduling.hold_slot(clinic, actor, held, desk.bob.id)
    with pytest.raises(SlotAlreadyBooked):
        scheduling.reschedule_appointment(clinic, actor, mine, taken)
    with pytest.raises(SlotAlreadyBooked):
        scheduling.reschedule_appointment(clinic, actor, mine, first)
    with pytest.raises(SlotLocked, match="Slot is temporarily locked."):
        scheduling.reschedule_appointment(clinic, actor, mine, held)
    with pytest.raises(AppointmentMissing, match="Appointment does not exist."):
        scheduling.reschedule_appointment(clinic, actor, 999_999, free)
    moved = scheduling.reschedule_appointment(clinic, actor, mine, free)
    assert (moved.slot_id, moved.status) == (free, AppointmentStatus.RESCHEDULED)
    assert clinic.locks.get(free) is None  # the move's own guard is gone
    assert sorted(slot for _, slot in live_appointments(clinic, desk.slots)) == sorted(
        [taken, free]
    )
    scheduling.cancel_appointment(clinic, actor, mine)
    with pytest.raises(InvalidTransition):
        scheduling.reschedule_appointment(clinic, actor, mine, first)


def test_a_cancellation_keeps_its_optional_reason_on_the_appointment_and_in_the_audit(
    desk: Desk,
) -> None:
    clinic = desk.clinic
    with_reason, without = desk.book(desk.slots[0]), desk.book(desk.slots[1], desk.bob)
    with pytest.raises(ValidationError, match="at most 300 characters"):
        scheduling.cancel_appointment(clinic, desk.desk, with_reason, reason="x" * 301)
    cancelled = scheduling.cancel_appointment(
        clinic, desk.desk, with_reason, reason="  Patient is travelling  "
    )
    assert cancelled.decline_reason == "Patient is travelling"
    entry = last_audit(clinic)
    assert (entry.action, entry.entity_id) == ("cancel", str(with_reason))
    assert json.loads(entry.detail) == {"reason": "Patient is travelling"}
    assert scheduling.cancel_appointment(clinic, desk.desk, without).decline_reason == ""


def test_patients_change_only_their_own_appointments(desk: Desk) -> None:
    clinic = desk.clinic
    alices = desk.book(desk.slots[0])
    bob = factories.patient_actor(clinic, desk.bob)
    other_doctor = factories.doctor(clinic)
    for call in (
        lambda: scheduling.cancel_appointment(clinic, bob, alices),
        lambda: scheduling.reschedule_appointment(clinic, bob, alices, desk.slots[1]),
        lambda: scheduling.get_appointment(clinic, bob, alices),
        lambda: scheduling.set_status(
            clinic, other_doctor.actor, alices, AppointmentStatus.ARRIVED
        ),
    ):
        with pytest.raises(NotYourAppointment):
            call()
    with pytest.raises(AppointmentMissing):
        scheduling.cancel_appointment(clinic, bob, 999_999)
    alice = factories.patient_actor(clinic, desk.alice)
    moved = scheduling.reschedule_appointment(clinic, alice, alices, desk.slots[1])
    assert moved.slot_id == desk.slots[1]
    assert scheduling.cancel_appointment(clinic, alice, alices).status is (
        AppointmentStatus.CANCELLED
    )
    # Cancelling again changes nothing and is not an error.
    assert scheduling.cancel_appointment(clinic, alice, alices).status is (
        AppointmentStatus.CANCELLED
    )
    assert live_appointments(clinic, desk.slots) == []


def test_visibility_of_appointments(desk: Desk) -> None:
    clinic = desk.clinic
    alices, bobs = desk.book(desk.slots[0]), desk.book(desk.slots[1], desk.bob)
    other_doctor = factories.doctor(clinic)
    alice = factories.patient_actor(clinic, desk.alice)

    def seen(actor: Actor) -> set[int]:
        return {a.id for a in scheduling.list_appointments(clinic, actor).items}

    assert seen(desk.desk) == {alices, bobs}
    assert seen(alice) == {alices}
    assert seen(desk.doc.actor) == {alices, bobs}
    assert seen(other_doctor.actor) == set()
    assert [a.id for a in scheduling.patient_history(clinic, alice, desk.alice.id)] == [alices]
    with pytest.raises(PatientNotFound):  # another patient is not shown to exist
        scheduling.patient_history(clinic, alice, desk.bob.id)
    page = scheduling.list_appointments(clinic, desk.desk, limit=1)
    assert page.total == 2 and len(page.items) == 1


def test_doctor_day_in_the_clinic_time_zone(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(timezone="Asia/Kolkata")
    _, actor = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, actor).id
    tomorrow = clinic.today() + timedelta(days=1)
    day_slots = [
        s.slot.id
        for s in scheduling.calendar(
            clinic, actor, [doc.doctor_id], clinic.now(), clinic.now() + timedelta(days=3)
        )
        if s.slot.start.astimezone(clinic.settings.tz).date() == tomorrow
    ]
    # The first and last slots of the local day fall on different UTC dates (UTC+05:30).
    first, second, last = day_slots[0], day_slots[1], day_slots[-1]
    booked = []
    for slot in (last, first, second):
        hold = scheduling.hold_slot(clinic, actor, slot, patient)
        booked.append(scheduling.confirm_booking(clinic, actor, slot, patient, token=hold.token))
    scheduling.cancel_appointment(clinic, actor, booked[2].id)

    day = scheduling.doctor_day(clinic, doc.actor, doc.doctor_id, tomorrow)
    assert [a.slot_id for a in day] == [first, last]
    assert {a.start.astimezone(clinic.settings.tz).date() for a in day} == {tomorrow}
    assert scheduling.doctor_day(clinic, actor, doc.doctor_id, tomorrow) == day
    assert scheduling.doctor_day(clinic, actor, doc.doctor_id, tomorrow + timedelta(1)) == []
    other = factories.doctor(clinic)
    with pytest.raises(PermissionDenied):
        scheduling.doctor_day(clinic, other.actor, doc.doctor_id, tomorrow)
    patient_actor = factories.patient_actor(clinic, factories.patient(clinic, actor))
    with pytest.raises(PermissionDenied):
        scheduling.doctor_day(clinic, patient_actor, doc.doctor_id, tomorrow)


def test_status_changes_follow_the_lifecycle(desk: Desk) -> None:
    clinic, doctor = desk.clinic, desk.doc.actor
    appointment = desk.book(desk.slots[0])
    with pytest.raises(InvalidTransition, match="scheduled cannot become completed"):
        scheduling.set_status(clinic, doctor, appointment, AppointmentStatus.COMPLETED)
    with pytest.raises(PermissionDenied):
        scheduling.set_status(
            clinic,
            factories.patient_actor(clinic, desk.alice),
            appointment,
            AppointmentStatus.ARRIVED,
        )
    with pytest.raises(AppointmentMissing):
        scheduling.set_status(clinic, doctor, 999_999, AppointmentStatus.ARRIVED)
    path = [
        (desk.desk, AppointmentStatus.ARRIVED),
        (doctor, AppointmentStatus.IN_PROGRESS),
        (doctor, AppointmentStatus.COMPLETED),
    ]
    for actor, status in path:
        assert scheduling.set_status(clinic, actor, appointment, status).status is status
    with pytest.raises(InvalidTransition):
        scheduling.cancel_appointment(clinic, desk.desk, appointment)
    with pytest.raises(InvalidTransition):
        scheduling.set_status(clinic, doctor, appointment, AppointmentStatus.NO_SHOW)
    # A completed visit still occupies its slot.
    assert live_appointments(clinic, [desk.slots[0]]) == [(appointment, desk.slots[0])]

    no_show = desk.book(desk.slots[1], desk.bob)
    scheduling.set_status(clinic, doctor, no_show, AppointmentStatus.NO_SHOW)
    assert (
        scheduling.set_status(clinic, desk.desk, no_show, AppointmentStatus.ARRIVED).status
        is AppointmentStatus.ARRIVED
    )
    cancelled = desk.book(desk.slots[2], desk.bob)
    scheduling.cancel_appointment(clinic, desk.desk, cancelled)
    with pytest.raises(InvalidTransition):
        scheduling.set_status(clinic, desk.desk, cancelled, AppointmentStatus.ARRIVED)


def test_requests_wait_in_the_queue_until_assigned_or_declined(desk: Desk) -> None:
    clinic, actor = desk.clinic, desk.desk
    slot_time = catalogue.save_available_time(clinic, SYSTEM, "Mon 09:00-12:00")
    alice = factories.patient_actor(clinic, desk.alice)
    first = scheduling.request_appointment(
        clinic,
        alice,
        doctor_id=desk.doc.doctor_id,
        available_time_id=slot_time.id,
        symptoms="back pain",
    )
    second = scheduling.request_appointment(
        clinic, actor, doctor_id=desk.doc.doctor_id, patient_id=desk.bob.id
    )
    assert (first.status, first.slot_id, first.available_time) == (
        AppointmentStatus.REQUESTED,
        None,
        "Mon 09:00-12:00",
    )
    assert [r.id for r in scheduling.pending_requests(clinic, actor)] == [first.id, second.id]
    with pytest.raises(PermissionDenied):
        scheduling.pending_requests(clinic, alice)
    before = table_counts(clinic)
    for call, error in (
        (lambda: scheduling.request_appointment(clinic, alice, doctor_id=999_999), DoctorMissing),
        (
            lambda: scheduling.request_appointment(
                clinic, alice, doctor_id=desk.doc.doctor_id, available_time_id=999_999
            ),
            ValidationError,
        ),
        (
            lambda: scheduling.request_appointment(
                clinic, alice, doctor_id=desk.doc.doctor_id, patient_id=desk.bob.id
            ),
            HoldNotYours,
        ),
        (
            lambda: scheduling.assign_request(clinic, alice, first.id, desk.slots[0]),
            PermissionDenied,
        ),
        (lambda: scheduling.decline_request(clinic, alice, first.id, "no"), PermissionDenied),
        (lambda: scheduling.decline_request(clinic, actor, first.id, "   "), ValidationError),
        (lambda: scheduling.decline_request(clinic, actor, 999_999, "gone"), AppointmentMissing),
    ):
        with pytest.raises(error):
            call()
    assert table_counts(clinic) == before

    taken = desk.book(desk.slots[0], desk.bob)
    with pytest.raises(SlotAlreadyBooked):
        scheduling.assign_request(clinic, actor, first.id, desk.slots[0])
    assigned = scheduling.assign_request(clinic, actor, first.id, desk.slots[1])
    assert (assigned.status, assigned.slot_id) == (AppointmentStatus.SCHEDULED, desk.slots[1])
    with pytest.raises(InvalidTransition):
        scheduling.assign_request(clinic, actor, first.id, desk.slots[2])
    with pytest.raises(InvalidTransition):
        scheduling.decline_request(clinic, actor, taken, "already booked")

    declined = scheduling.decline_request(clinic, actor, second.id, "Doctor on leave")
    assert (declined.status, declined.decline_reason) == (
        AppointmentStatus.DECLINED,
        "Doctor on leave",
    )
    with pytest.raises(InvalidTransition):
        scheduling.decline_request(clinic, actor, second.id, "again")
    assert scheduling.pending_requests(clinic, actor) == []


def test_calendar_shows_each_slot_state_to_each_desk(
    desk: Desk, open_store: Callable[..., Clinic]
) -> None:
    clinic = desk.clinic
    other_clinic = open_store()
    _, other_desk = factories.staff(clinic)
    mine, theirs, booked = desk.slots[:3]
    scheduling.hold_slot(clinic, desk.desk, mine, desk.alice.id)
    scheduling.hold_slot(other_clinic, other_desk, theirs, desk.bob.id)
    appointment = desk.book(booked, desk.bob)
    now = clinic.now()
    window = (now - timedelta(hours=2), now + timedelta(days=2))

    def states(viewer: Clinic, actor: Actor) -> dict[int, SlotState]:
        return {
            c.slot.id: c.state
            for c in scheduling.calendar(viewer, actor, [desk.doc.doctor_id], *window)
        }

    for viewer, actor, expected in (
        (clinic, desk.desk, {mine: SlotState.HELD_BY_ME, theirs: SlotState.HELD}),
        (other_clinic, other_desk, {mine: SlotState.HELD, theirs: SlotState.HELD_BY_ME}),
    ):
        seen = states(viewer, actor)
        assert {mine: seen[mine], theirs: seen[theirs]} == expected
        assert seen[booked] is SlotState.BOOKED
        assert seen[desk.slots[3]] is SlotState.FREE
    (booked_cell,) = [
        c
        for c in scheduling.calendar(clinic, desk.desk, [desk.doc.doctor_id], *window)
        if c.slot.id == booked
    ]
    assert booked_cell.appointment is not None and booked_cell.appointment.id == appointment

    real_clock = clinic.clock
    clinic.clock = lambda: real_clock() + timedelta(days=1, hours=1)
    later = states(clinic, desk.desk)
    clinic.clock = real_clock
    starts = {
        c.slot.id: c.slot.start
        for c in scheduling.calendar(clinic, desk.desk, [desk.doc.doctor_id], *window)
    }
    past = [slot for slot, start in starts.items() if start <= real_clock() + timedelta(days=1)]
    assert past and all(later[slot] is SlotState.PAST for slot in past if slot != booked)
    assert later[booked] is SlotState.BOOKED  # a booking stays visible once its time is past
    with pytest.raises(ValidationError):
        scheduling.calendar(clinic, desk.desk, [desk.doc.doctor_id], now, now)


def test_reschedule_to_another_doctor_and_a_cancellation_stays_cancelled(desk: Desk) -> None:
    """Bringing a cancelled appointment back would take a slot without a hold, past any
    desk or patient holding it now (and revive past no-shows): it stays cancelled."""
    clinic, actor = desk.clinic, desk.desk
    other = factories.doctor(clinic)
    (elsewhere,) = free_slot_ids(clinic, other.doctor_id, 1)
    mine = desk.book(desk.slots[0])
    moved = scheduling.reschedule_appointment(clinic, actor, mine, elsewhere)
    assert (moved.doctor_id, moved.slot_id) == (other.doctor_id, elsewhere)
    assert [a.id for a in scheduling.list_appointments(clinic, other.actor).items] == [mine]

    scheduling.update_appointment(clinic, actor, mine, cancel=True)
    held = scheduling.hold_slot(clinic, actor, elsewhere, desk.bob.id)
    before = table_counts(clinic)
    for changes in ({"cancel": False}, {"symptoms": "changed"}, {}):
        with pytest.raises(InvalidTransition, match="still ahead"):
            scheduling.update_appointment(clinic, actor, mine, **changes)  # type: ignore[arg-type]
    assert table_counts(clinic) == before
    assert scheduling.get_appointment(clinic, actor, mine).status is AppointmentStatus.CANCELLED
    booked = scheduling.confirm_booking(clinic, actor, elsewhere, desk.bob.id, token=held.token)
    assert live_appointments(clinic, [elsewhere]) == [(booked.id, elsewhere)]


def test_update_and_delete_appointments(desk: Desk) -> None:
    clinic, actor = desk.clinic, desk.desk
    other = factories.doctor(clinic, hours=[])
    morning = catalogue.save_available_time(clinic, SYSTEM, "Tue 09:00-11:00")
    alice = factories.patient_actor(clinic, desk.alice)
    request = scheduling.request_appointment(clinic, alice, doctor_id=desk.doc.doctor_id)
    changed = scheduling.update_appointment(
        clinic,
        alice,
        request.id,
        doctor_id=other.doctor_id,
        appointment_type=AppointmentType.ONLINE,
        symptoms="rash",
        available_time_id=morning.id,
    )
    assert (changed.doctor_id, changed.appointment_type, changed.symptoms) == (
        other.doctor_id,
        AppointmentType.ONLINE,
        "rash",
    )
    assert changed.available_time == "Tue 09:00-11:00"
    cancelled = scheduling.update_appointment(clinic, alice, request.id, cancel=True)
    assert cancelled.status is AppointmentStatus.CANCELLED
    with pytest.raises(InvalidTransition):
        scheduling.update_appointment(clinic, alice, request.id, cancel=False)
    request = scheduling.request_appointment(clinic, alice, doctor_id=desk.doc.doctor_id)

    booked = desk.book(desk.slots[0])
    before = table_counts(clinic)
    for call, error in (
        (
            lambda: scheduling.update_appointment(clinic, actor, booked, doctor_id=other.doctor_id),
            ValidationError,
        ),
        (
            lambda: scheduling.update_appointment(clinic, actor, request.id, doctor_id=999_999),
            DoctorMissing,
        ),
        (
            lambda: scheduling.update_appointment(
                clinic, actor, request.id, available_time_id=999_999
            ),
            ValidationError,
        ),
        (
            lambda: scheduling.update_appointment(
                clinic, factories.patient_actor(clinic, desk.bob), booked, symptoms="x"
            ),
            NotYourAppointment,
        ),
        (lambda: scheduling.update_appointment(clinic, actor, 999_999), AppointmentMissing),
        (lambda: scheduling.delete_appointment(clinic, SYSTEM, 999_999), AppointmentMissing),
        # The desk cancels (the appointment stays on record); only an admin deletes one,
        # and the desk is not even told which ones exist.
        (lambda: scheduling.delete_appointment(clinic, actor, booked), NotYourAppointment),
        (lambda: scheduling.delete_appointment(clinic, actor, 999_999), NotYourAppointment),
    ):
        with pytest.raises(error):
            call()
        assert table_counts(clinic) == before
    scheduling.delete_appointment(clinic, SYSTEM, booked)
    with pytest.raises(AppointmentMissing):
        scheduling.get_appointment(clinic, actor, booked)
    assert live_appointments(clinic, [desk.slots[0]]) == []
