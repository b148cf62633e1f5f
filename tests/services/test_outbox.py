"""Reminders, the writing side: the outbox rows a booking, a move and a cancel leave, in the
same transaction as the change (none for a change that rolled back), per-patient opt-out, and
the text in the clinic's own time zone across a change of the clocks."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from hms_desktop.domain.admin import ClinicSettings
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import SlotAlreadyBooked
from hms_desktop.domain.messages import Channel, MessageKind, MessageRecord, MessageState
from hms_desktop.domain.models import SYSTEM, Actor, PatientForm
from hms_desktop.services import clinic_settings, outbox, patients, scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling import holds
from hms_desktop.store.tables import Appointment, MessageRow, Slot
from tests import factories
from tests.services.support import free_slot_ids


def _messages(clinic: Clinic, patient_id: int) -> list[MessageRecord]:
    return sorted(outbox.patient_messages(clinic, SYSTEM, patient_id), key=lambda m: m.id)


def _book(clinic: Clinic, desk: Actor, slot_id: int, patient_id: int) -> int:
    hold = scheduling.hold_slot(clinic, desk, slot_id, patient_id)
    return scheduling.confirm_booking(clinic, desk, slot_id, patient_id, token=hold.token).id


@pytest.fixture
def messaging(open_store: Callable[..., Clinic]) -> Clinic:
    return open_store(message_channels=("email", "sms"), timezone="Europe/London")


def test_booking_moving_and_cancelling_write_their_messages(messaging: Clinic) -> None:
    clinic = messaging
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic, first_name="Grace", last_name="Hopper")
    patient = factories.patient(clinic, desk, email="ann@example.com", phone=factories.phone())
    first, second = free_slot_ids(clinic, doc.doctor_id, 2, days_ahead=3)

    appointment_id = _book(clinic, desk, first, patient.id)
    written = _messages(clinic, patient.id)
    assert sorted((m.kind, m.channel) for m in written) == sorted(
        (kind, channel)
        for kind in (MessageKind.CONFIRMATION, MessageKind.REMINDER)
        for channel in (Channel.EMAIL, Channel.SMS)
    )
    assert {m.recipient for m in written} == {"ann@example.com", patient.phone}
    assert all(
        m.state is MessageState.PENDING and m.appointment_id == appointment_id for m in written
    )
    booked = scheduling.get_appointment(clinic, desk, appointment_id)
    assert booked.start is not None
    reminder = next(m for m in written if m.kind is MessageKind.REMINDER)
    assert reminder.due_at == booked.start - timedelta(hours=24)
    confirmation = next(m for m in written if m.kind is MessageKind.CONFIRMATION)
    assert confirmation.due_at <= clinic.now()
    assert "Grace Hopper" in confirmation.body and "Clinic" in confirmation.subject

    moved = scheduling.reschedule_appointment(clinic, desk, appointment_id, second)
    assert moved.start is not None
    after_move = _messages(clinic, patient.id)
    old_reminders = [
        m for m in after_move if m.id in {r.id for r in written} and m.kind is MessageKind.REMINDER
    ]
    assert {m.state for m in old_reminders} == {MessageState.WITHDRAWN}
    notices = [m for m in after_move if m.kind is MessageKind.MOVED]
    assert len(notices) == 2 and "it was on" in notices[0].body
    new_reminders = [
        m for m in after_move if m.kind is MessageKind.REMINDER and m.state is MessageState.PENDING
    ]
    assert {m.due_at for m in new_reminders} == {moved.start - timedelta(hours=24)}

    scheduling.cancel_appointment(clinic, desk, appointment_id)
    after_cancel = _messages(clinic, patient.id)
    assert not [
        m
        for m in after_cancel
        if m.kind is MessageKind.REMINDER and m.state is MessageState.PENDING
    ]
    assert len([m for m in after_cancel if m.kind is MessageKind.CANCELLED]) == 2
    # Cancelling again changes nothing and tells the patient nothing new.
    scheduling.cancel_appointment(clinic, desk, appointment_id)
    assert len(_messages(clinic, patient.id)) == len(after_cancel)


def test_a_booking_that_rolls_back_leaves_no_message(
    messaging: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = messaging
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk, email="bo@example.com")
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=2)

    def fail_after_the_outbox_write(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the transaction fails after the messages were written")

    monkeypatch.setattr(holds, "publish_change", fail_after_the_outbox_write)
    hold = scheduling.hold_slot(clinic, desk, slot, patient.id)
    with pytest.raises(RuntimeError):
        scheduling.confirm_booking(clinic, desk, slot, patient.id, token=hold.token)
    with clinic.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0
        assert session.scalar(select(func.count()).select_from(MessageRow)) == 0


def test_the_desk_that_loses_a_slot_race_writes_no_message(messaging: Clinic) -> None:
    clinic = messaging
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    winner = factories.patient(clinic, desk, email="win@example.com")
    loser = factories.patient(clinic, desk, email="lose@example.com")
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=2)
    hold = scheduling.hold_slot(clinic, desk, slot, loser.id)
    # The winner books it past the hold (the database's index is the last guard).
    with clinic.work(desk) as work:
        work.session.add(
            Appointment(
                patient_id=winner.id, doctor_id=doc.doctor_id, slot_id=slot, status="scheduled"
            )
        )
    with pytest.raises(SlotAlreadyBooked):
        scheduling.confirm_booking(clinic, desk, slot, loser.id, token=hold.token)
    assert _messages(clinic, loser.id) == []


def test_a_patient_who_opted_out_gets_no_message(messaging: Clinic) -> None:
    clinic = messaging
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk, email="quiet@example.com", messages_opt_out=True)
    assert patient.messages_opt_out
    first, second = free_slot_ids(clinic, doc.doctor_id, 2, days_ahead=2)
    appointment_id = _book(clinic, desk, first, patient.id)
    scheduling.cancel_appointment(clinic, desk, appointment_id)
    assert _messages(clinic, patient.id) == []
    # Opting in again (the desk unticks the box): the next booking writes its messages.
    form = PatientForm(full_name=patient.full_name, email=patient.email, messages_opt_out=False)
    assert not patients.update_patient(clinic, desk, patient.id, form).messages_opt_out
    _book(clinic, desk, second, patient.id)
    assert {m.kind for m in _messages(clinic, patient.id)} == {
        MessageKind.CONFIRMATION,
        MessageKind.REMINDER,
    }


def test_booked_within_the_reminder_time_no_reminder(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(reminder_hours=24 * 10)
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk, email="soon@example.com")
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=2)
    _book(clinic, desk, slot, patient.id)
    assert [m.kind for m in _messages(clinic, patient.id)] == [MessageKind.CONFIRMATION]


def test_times_are_the_clinics_across_a_change_of_the_clocks(messaging: Clinic) -> None:
    """London springs forward on Sunday 28 March 2027 at 01:00 UTC: a 09:30 appointment the
    day before is 09:30 GMT (09:30 UTC), the one on the Sunday 09:30 BST (08:30 UTC)."""
    clinic = messaging
    clinic.clock = lambda: datetime(2027, 3, 20, 12, 0, tzinfo=UTC)
    _, admin = factories.staff(clinic, Role.ADMIN)
    clinic_settings.update_clinic_settings(clinic, admin, ClinicSettings("Riverside Clinic", 28))
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic, first_name="Ada", last_name="Lovelace")
    patient = factories.patient(clinic, desk, email="dst@example.com")
    saturday_slot, sunday_slot = (
        _slot_at(clinic, doc.doctor_id, datetime(2027, 3, 27, 9, 30, tzinfo=UTC)),
        _slot_at(clinic, doc.doctor_id, datetime(2027, 3, 28, 8, 30, tzinfo=UTC)),
    )
    saturday = _book(clinic, desk, saturday_slot, patient.id)
    sunday = _book(clinic, desk, sunday_slot, patient.id)
    by_appointment = {
        key: {m.kind: m for m in _messages(clinic, patient.id) if m.appointment_id == key}
        for key in (saturday, sunday)
    }
    assert (
        "Saturday 27 March 2027 at 09:30 GMT"
        in by_appointment[saturday][MessageKind.CONFIRMATION].body
    )
    sunday_confirmation = by_appointment[sunday][MessageKind.CONFIRMATION]
    assert "Sunday 28 March 2027 at 09:30 BST" in sunday_confirmation.body
    assert sunday_confirmation.subject.startswith("Riverside Clinic: ")
    assert "Ada Lovelace" in sunday_confirmation.body
    # 24 hours before 09:30 BST is 08:30 GMT the day before: the same 24 hours of waiting.
    assert by_appointment[sunday][MessageKind.REMINDER].due_at == datetime(
        2027, 3, 27, 8, 30, tzinfo=UTC
    )

    scheduling.reschedule_appointment(
        clinic, desk, sunday, saturday_slot_after(clinic, doc.doctor_id)
    )
    moved = next(m for m in _messages(clinic, patient.id) if m.kind is MessageKind.MOVED)
    assert "(it was on Sunday 28 March 2027 at 09:30 BST)" in moved.body
    assert "Saturday 27 March 2027 at 10:00 GMT" in moved.body


def saturday_slot_after(clinic: Clinic, doctor_id: int) -> int:
    return _slot_at(clinic, doctor_id, datetime(2027, 3, 27, 10, 0, tzinfo=UTC))


def _slot_at(clinic: Clinic, doctor_id: int, start: datetime) -> int:
    with clinic.db.read() as session:
        slot_id = session.scalar(
            select(Slot.id).where(Slot.doctor_id == doctor_id, Slot.start_at == start)
        )
    assert slot_id is not None, f"no slot at {start}"
    return slot_id


def test_a_request_given_its_slot_is_confirmed_like_a_booking(messaging: Clinic) -> None:
    clinic = messaging
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk, email="req@example.com")
    request = scheduling.request_appointment(
        clinic, desk, doctor_id=doc.doctor_id, patient_id=patient.id
    )
    assert _messages(clinic, patient.id) == []  # no time to tell yet
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=3)
    scheduling.assign_request(clinic, desk, request.id, slot)
    assert sorted(m.kind for m in _messages(clinic, patient.id)) == [
        MessageKind.CONFIRMATION,
        MessageKind.REMINDER,
    ]


def test_a_cancel_notice_gives_the_desks_reason(messaging: Clinic) -> None:
    clinic = messaging
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk, email="why@example.com")
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=3)
    appointment_id = _book(clinic, desk, slot, patient.id)
    scheduling.cancel_appointment(clinic, desk, appointment_id, reason="The doctor is on leave")
    (notice,) = [m for m in _messages(clinic, patient.id) if m.kind is MessageKind.CANCELLED]
    assert "has been cancelled (The doctor is on leave)." in notice.body
