"""Reminders, as a careful reviewer attacks them: a message goes where the patient is reached
when it is sent (not where they were when it was written), none to a patient who opted out
meanwhile, a name with a line break never becomes a mail header, and one message the mail
library refuses fails alone instead of stranding the rest of its batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, update

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.messages import Channel, MessageKind, MessageRecord, MessageState
from hms_desktop.domain.models import SYSTEM, PatientForm
from hms_desktop.services import clinic_settings, outbox, patients
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.delivery import transports_for
from hms_desktop.services.sender import send_due, sender_name
from hms_desktop.store.tables import ClinicSetting, MessageRow, Patient, User
from tests import factories
from tests.services.message_servers import smtp_server
from tests.services.test_sender import Clock, _book


def _reminder(clinic: Clinic, patient_id: int) -> MessageRecord:
    (reminder,) = [
        m
        for m in outbox.patient_messages(clinic, SYSTEM, patient_id)
        if m.kind is MessageKind.REMINDER
    ]
    return reminder


def test_a_reminder_is_not_sent_to_a_patient_who_opted_out_after_booking(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        clock = Clock(clinic)
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        _book(clinic, desk, patient.id)
        transports, worker = transports_for(clinic.settings), sender_name()
        assert send_due(clinic, transports, worker).sent == 1  # the confirmation
        due = _reminder(clinic, patient.id).due_at
        form = PatientForm(full_name=patient.full_name, email=patient.email, messages_opt_out=True)
        patients.update_patient(clinic, desk, patient.id, form)
        # The desk sees at once that it will not go.
        reminder = _reminder(clinic, patient.id)
        assert reminder.state is MessageState.WITHDRAWN and "opted out" in reminder.last_error

        clock.at = due
        assert send_due(clinic, transports, worker).sent == 0
        assert len(mail.received) == 1


def test_the_sender_checks_the_opt_out_again_when_it_sends(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        clock = Clock(clinic)
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        _book(clinic, desk, patient.id)
        transports, worker = transports_for(clinic.settings), sender_name()
        assert send_due(clinic, transports, worker).sent == 1
        # Opted out by a way that does not pass the desk's form (an import, a script).
        with clinic.db.transaction() as session:
            session.execute(
                update(Patient).where(Patient.id == patient.id).values(messages_opt_out=True)
            )
        clock.at = _reminder(clinic, patient.id).due_at
        assert send_due(clinic, transports, worker).sent == 0
        assert len(mail.received) == 1
        reminder = _reminder(clinic, patient.id)
        assert reminder.state is MessageState.WITHDRAWN and "opted out" in reminder.last_error


def test_a_reminder_goes_to_the_patients_new_address(open_store: Callable[..., Clinic]) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        clock = Clock(clinic)
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="old@example.com")
        _book(clinic, desk, patient.id)
        transports, worker = transports_for(clinic.settings), sender_name()
        assert send_due(clinic, transports, worker).sent == 1
        form = PatientForm(full_name=patient.full_name, email="new@example.com")
        patients.update_patient(clinic, desk, patient.id, form)

        clock.at = _reminder(clinic, patient.id).due_at
        assert send_due(clinic, transports, worker).sent == 1
        assert [m["To"] for m in mail.received] == ["old@example.com", "new@example.com"]
        assert _reminder(clinic, patient.id).recipient == "new@example.com"


def test_a_clinic_name_with_a_line_break_stays_in_the_subject(
    open_store: Callable[..., Clinic],
) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        # Written straight to the table: a value stored before names were checked.
        with clinic.db.transaction() as session:
            session.add(
                ClinicSetting(
                    key=clinic_settings.NAME,
                    value="Evil\r\nBcc: victim@example.com",
                    updated_at=clinic.now(),
                )
            )
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        _book(clinic, desk, patient.id)
        assert send_due(clinic, transports_for(clinic.settings), sender_name()).sent == 1
        (received,) = mail.received
        assert received["Bcc"] is None
        assert received["Subject"].startswith("Evil Bcc: victim@example.com: appointment booked")


def test_a_message_the_mail_library_refuses_fails_alone(open_store: Callable[..., Clinic]) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        now = datetime.now(UTC) - timedelta(minutes=1)
        row = {
            "patient_id": patient.id,
            "kind": MessageKind.REMINDER.value,
            "channel": Channel.EMAIL.value,
            "recipient": "ann@example.com",
            "body": "hello",
            "state": MessageState.PENDING.value,
            "due_at": now,
            "next_try_at": now,
            "attempts": 0,
            "last_error": "",
            "claimed_by": "",
            "created_at": now,
        }
        with clinic.db.transaction() as session:
            session.execute(
                insert(MessageRow),
                [
                    {**row, "subject": "broken\r\nBcc: victim@example.com"},
                    {**row, "subject": "fine"},
                ],
            )
        done = send_due(clinic, transports_for(clinic.settings), sender_name())
        assert (done.sent, done.failed) == (1, 1)
        assert [m["Subject"] for m in mail.received] == ["fine"]
        states = {m.subject: m for m in outbox.patient_messages(clinic, SYSTEM, patient.id)}
        assert states["fine"].state is MessageState.SENT
        broken = states["broken\r\nBcc: victim@example.com"]
        assert broken.state is MessageState.FAILED and "ValueError" in broken.last_error


def test_an_address_with_a_list_in_it_is_refused_and_never_mailed(
    open_store: Callable[..., Clinic],
) -> None:
    two = "billing,ann@example.com"  # "billing" would be the mail relay's local mailbox
    with smtp_server() as (mail, port):
        clinic = open_store(
            smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", reminder_hours=0
        )
        _, desk = factories.staff(clinic)
        with pytest.raises(ValidationError) as raised:
            factories.patient(clinic, desk, email=two)
        assert raised.value.field == "email"
        # One stored before the check was tightened: the sender mails no list either.
        patient = factories.patient(clinic, desk, email="ann@example.com")
        with clinic.db.transaction() as session:
            session.execute(update(User).where(User.id == patient.user_id).values(email=two))
        _book(clinic, desk, patient.id)
        done = send_due(clinic, transports_for(clinic.settings), sender_name())
        assert (done.sent, done.failed) == (0, 1)
        assert mail.envelopes == [] and mail.tries == 0
        (message,) = outbox.patient_messages(clinic, SYSTEM, patient.id)
        assert (
            message.state is MessageState.FAILED and "not one e-mail address" in message.last_error
        )


def test_the_envelope_names_exactly_the_stored_address(open_store: Callable[..., Clinic]) -> None:
    with smtp_server() as (mail, port):
        clinic = open_store(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
        _, desk = factories.staff(clinic)
        patient = factories.patient(clinic, desk, email="ann@example.com")
        _book(clinic, desk, patient.id)
        assert send_due(clinic, transports_for(clinic.settings), sender_name()).sent == 1
        assert mail.envelopes == [["ann@example.com"]]
