"""A confirm on PostgreSQL is one statement (book, audit, read back the record and the
patient's addresses); on SQLite it is the same steps one at a time. Either way the record,
the audit entry and the outbox rows are the same, and a booking that rolls back leaves none
of them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from hms_desktop.domain.errors import TooManyBookings
from hms_desktop.domain.models import AppointmentRecord
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling import holds
from hms_desktop.services.unit_of_work import UnitOfWork
from hms_desktop.store.tables import Appointment, AuditEntry, MessageRow
from tests import factories
from tests.services.support import free_slot_ids


def _audit(clinic: Clinic, action: str) -> list[AuditEntry]:
    with clinic.db.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_booking_returns_its_record_and_writes_its_audit_entry_and_messages(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(message_channels=("email", "sms"))
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic, first_name="Ada", last_name="Quill")
    patient = factories.patient(
        clinic, desk, full_name="Bo Reed", email="bo@example.com", phone=factories.phone()
    )
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=3)
    before = datetime.now(UTC)
    hold = scheduling.hold_slot(clinic, desk, slot, patient.id)
    record = scheduling.confirm_booking(
        clinic, desk, slot, patient.id, token=hold.token, symptoms="cough"
    )

    # The record the booking returns is the one every later read gives.
    assert record == scheduling.get_appointment(clinic, desk, record.id)
    assert (record.patient_name, record.doctor_name) == ("Bo Reed", "Ada Quill")
    assert (record.slot_id, record.symptoms, record.available_time) == (slot, "cough", None)
    assert record.start is not None and record.duration > 0

    (entry,) = _audit(clinic, "book")
    assert (entry.actor, entry.actor_user_id) == (desk.username, desk.user_id)
    assert (entry.entity, entry.entity_id) == ("appointment", str(record.id))
    assert json.loads(entry.detail) == {"slot_id": slot}
    at = entry.at if entry.at.tzinfo else entry.at.replace(tzinfo=UTC)
    assert before - timedelta(seconds=1) <= at <= datetime.now(UTC) + timedelta(seconds=1)

    # The addresses came with the booking: a confirmation and a reminder on both channels.
    with clinic.db.read() as session:
        messages = session.execute(
            select(MessageRow.channel, MessageRow.recipient, MessageRow.kind).where(
                MessageRow.appointment_id == record.id
            )
        ).all()
    assert sorted(messages) == sorted(
        [
            ("email", "bo@example.com", "confirmation"),
            ("email", "bo@example.com", "reminder"),
            ("sms", patient.phone, "confirmation"),
            ("sms", patient.phone, "reminder"),
        ]
    )


def test_a_booking_whose_also_fails_leaves_no_appointment_audit_entry_or_message(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store()
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk, email="cy@example.com")
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=3)
    seen: list[AppointmentRecord] = []

    def fail(work: UnitOfWork, record: AppointmentRecord) -> None:
        # In the booking's transaction: the ORM session sees the new appointment.
        assert work.session.get(Appointment, record.id) is not None
        seen.append(record)
        raise RuntimeError("the waitlist entry could not be filled")

    hold = scheduling.hold_slot(clinic, desk, slot, patient.id)
    with pytest.raises(RuntimeError):
        scheduling.confirm_booking(clinic, desk, slot, patient.id, token=hold.token, also=fail)
    assert len(seen) == 1
    with clinic.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0
        assert session.scalar(select(func.count()).select_from(MessageRow)) == 0
    assert _audit(clinic, "book") == []
    # The hold still stands: the desk may try again.
    again = scheduling.confirm_booking(clinic, desk, slot, patient.id, token=hold.token)
    assert [entry.entity_id for entry in _audit(clinic, "book")] == [str(again.id)]


def test_the_orm_session_of_a_unit_of_work_is_flushed_before_its_commit(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store()
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk)
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=3)
    with clinic.work(desk) as work:
        work.record("note", "slot", slot)  # Core, on the transaction's connection
        work.session.add(  # ORM, written only by the flush at the end
            Appointment(
                patient_id=patient.id, doctor_id=doc.doctor_id, slot_id=slot, status="scheduled"
            )
        )
    with clinic.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1
    assert [entry.entity_id for entry in _audit(clinic, "note")] == [str(slot)]


class _AtQuota:
    """A patient allowed one upcoming booking online who held two slots while under it and
    confirmed the first: `booked`; their hold on `second` is `second_hold`."""

    def __init__(self, open_store: Callable[..., Clinic]) -> None:
        self.clinic = open_store(max_online_bookings_per_patient=1)
        _, self.desk = factories.staff(self.clinic)
        doc = factories.doctor(self.clinic)
        record = factories.patient(self.clinic, self.desk, email="quota@example.com")
        self.patient = factories.patient_actor(self.clinic, record)
        first, self.second = free_slot_ids(self.clinic, doc.doctor_id, 2, days_ahead=3)
        first_hold = scheduling.hold_slot(self.clinic, self.patient, first)
        self.second_hold = scheduling.hold_slot(self.clinic, self.patient, self.second).token
        self.booked = scheduling.confirm_booking(
            self.clinic, self.patient, first, token=first_hold.token
        )


def test_a_patients_confirm_past_their_quota_books_nothing_and_the_desk_still_may(
    open_store: Callable[..., Clinic],
) -> None:
    """The quota is counted by the booking statement itself: two holds made while under it,
    confirmed one after the other, book one; the other is refused as over the quota, with
    no appointment, audit entry or message, and the desk may still book it for them."""
    at = _AtQuota(open_store)
    with pytest.raises(TooManyBookings):
        scheduling.confirm_booking(at.clinic, at.patient, at.second, token=at.second_hold)
    with at.clinic.db.read() as session:
        assert session.scalars(select(Appointment.slot_id)).all() == [at.booked.slot_id]
        assert set(session.scalars(select(MessageRow.appointment_id))) == {at.booked.id}
    assert [entry.entity_id for entry in _audit(at.clinic, "book")] == [str(at.booked.id)]
    # The desk books any number: the patient's second hold is the desk's to confirm.
    again = scheduling.confirm_booking(
        at.clinic, at.desk, at.second, at.patient.patient_id, token=at.second_hold
    )
    assert again.slot_id == at.second


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_a_confirm_refused_for_the_quota_stays_the_quotas_if_the_count_changes_meanwhile(
    open_store: Callable[..., Clinic], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The booking statement refuses for the quota; before the refusal is explained, the
    patient's other booking is cancelled at another desk. The answer is still the quota
    (not leave, which would drop the hold), and the patient keeps their hold: the next
    try books it."""
    at = _AtQuota(open_store)
    statement = holds.BOOK_AND_READ_ON_DRIVER

    class CancelledMeanwhile:
        def first(self, connection: Any, values: Any) -> Any:
            row = statement.first(connection, values)
            assert row is None  # refused: over the quota
            scheduling.cancel_appointment(at.clinic, at.desk, at.booked.id)  # another desk
            return row

    with monkeypatch.context() as patch:
        patch.setattr(holds, "BOOK_AND_READ_ON_DRIVER", CancelledMeanwhile())
        with pytest.raises(TooManyBookings):
            scheduling.confirm_booking(at.clinic, at.patient, at.second, token=at.second_hold)
    assert at.clinic.locks.get(at.second) is not None, "the patient's hold was dropped"
    again = scheduling.confirm_booking(at.clinic, at.patient, at.second, token=at.second_hold)
    assert again.slot_id == at.second
