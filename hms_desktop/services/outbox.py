"""The outbox: messages to patients, written inside the unit of work of the booking, move or
cancel they are about, so a change that rolls back leaves no message behind. A sender in
`serve` delivers them later (services/sender.py).

A booking writes a confirmation (due at once) and a reminder (due `reminder_hours` before
the start); a move withdraws the pending reminder and writes a notice and a new reminder; a
cancel withdraws it and writes a notice. One message per channel in `message_channels` for
which the patient has an address, none for a patient who opted out.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from hms_desktop.domain import messages, policy
from hms_desktop.domain.messages import Channel, MessageKind, MessageRecord, MessageState
from hms_desktop.domain.models import Actor, AppointmentRecord
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import clinic_settings
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.patients import require_patient
from hms_desktop.services.unit_of_work import UnitOfWork
from hms_desktop.store.tables import ClinicSetting, MessageRow, Patient, User

# Core, on the transaction's connection: through the ORM Session (a bulk insert, and the
# Session made for it) the outbox was a sixth of a booking's server CPU over HTTP.
_INSERT = insert(cast(Table, MessageRow.__table__))
# The clinic's name as messages sign it, read in the statement that reads the addresses
# (the booking's, on PostgreSQL) rather than in a round trip of its own.
CLINIC_NAME = (
    select(ClinicSetting.value)
    .where(ClinicSetting.key == clinic_settings.NAME)
    .scalar_subquery()
    .label("clinic_name")
)
# Built once and run on the transaction's connection: every booking asks it, and the ORM's
# execution of a fresh select cost a fifth of a booking's CPU.
_ADDRESSES = (
    select(User.email, Patient.phone, Patient.messages_opt_out, CLINIC_NAME)
    .join(User, User.id == Patient.user_id)
    .where(Patient.id == bindparam("patient_id"))
)


class Contact(NamedTuple):
    """A patient's addresses, whether they opted out of messages, and the clinic's name as
    stored (None or empty: the default)."""

    email: str | None
    phone: str | None
    messages_opt_out: bool
    clinic_name: str | None


def _addresses(work: UnitOfWork, contact: Contact | None) -> list[tuple[Channel, str]]:
    """Where this patient's messages go, one address per enabled channel; none when they
    opted out."""
    if contact is None or contact.messages_opt_out:
        return []
    enabled = work.clinic.settings.message_channels
    found = {Channel.EMAIL: contact.email or "", Channel.SMS: contact.phone or ""}
    return [(channel, found[channel]) for channel in map(Channel, enabled) if found[channel]]


def _write(
    work: UnitOfWork,
    record: AppointmentRecord,
    kinds: list[tuple[MessageKind, datetime]],
    *,
    previous_start: datetime | None = None,
    reason: str = "",
    contact: Contact | None = None,
) -> None:
    """Messages of `kinds` (each with when it is due) about the appointment in `record`."""
    if record.start is None:
        return  # a request without a slot has no time to tell
    if contact is None:  # not read by the caller (PostgreSQL's booking statement reads it)
        row = work.connection.execute(_ADDRESSES, {"patient_id": record.patient_id}).first()
        contact = None if row is None else Contact(*row)
    addresses = _addresses(work, contact)
    if contact is None or not addresses:
        return
    about = messages.Appointment(
        clinic_name=contact.clinic_name or clinic_settings.DEFAULT_NAME,
        patient_name=record.patient_name,
        doctor_name=record.doctor_name,
        start=record.start,
        tz=work.clinic.settings.tz,
    )
    now = work.clinic.now()
    rows = []
    for kind, due in kinds:
        subject, body = messages.render(kind, about, previous_start=previous_start, reason=reason)
        for channel, recipient in addresses:
            rows.append(
                {
                    "patient_id": record.patient_id,
                    "appointment_id": record.id,
                    "kind": kind.value,
                    "channel": channel.value,
                    "recipient": recipient,
                    "subject": subject,
                    "body": body,
                    "state": MessageState.PENDING.value,
                    "due_at": due,
                    "next_try_at": due,
                    "attempts": 0,
                    "last_error": "",
                    "claimed_by": "",
                    "created_at": now,
                }
            )
    if rows:
        work.flush()  # Core does not autoflush: the appointment may be a pending ORM change
        work.connection.execute(_INSERT, rows)


def _with_reminder(
    work: UnitOfWork, record: AppointmentRecord, kind: MessageKind
) -> list[tuple[MessageKind, datetime]]:
    """The message of `kind` due now, and a reminder if its time is still ahead (booked
    within `reminder_hours` of the start, the confirmation is the reminder)."""
    now = work.clinic.now()
    kinds = [(kind, now)]
    hours = work.clinic.settings.reminder_hours
    if record.start is not None and hours > 0:
        due = messages.reminder_due(record.start, hours)
        if due > now:
            kinds.append((MessageKind.REMINDER, due))
    return kinds


def booked(work: UnitOfWork, record: AppointmentRecord, contact: Contact | None = None) -> None:
    """A new booking (or a request given its slot): confirmation and reminder. `contact`:
    the patient's addresses, when the booking read them already."""
    _write(work, record, _with_reminder(work, record, MessageKind.CONFIRMATION), contact=contact)


def moved(work: UnitOfWork, record: AppointmentRecord, previous_start: datetime | None) -> None:
    """The appointment has a new time: the old reminder is withdrawn, a notice goes now."""
    withdraw_reminders(work.session, record.id)
    _write(
        work,
        record,
        _with_reminder(work, record, MessageKind.MOVED),
        previous_start=as_utc(previous_start) if previous_start is not None else None,
    )


def cancelled(work: UnitOfWork, record: AppointmentRecord) -> None:
    withdraw_reminders(work.session, record.id)
    if record.start is not None and record.start > work.clinic.now():
        _write(
            work,
            record,
            [(MessageKind.CANCELLED, work.clinic.now())],
            reason=record.decline_reason,
        )


def withdraw_reminders(session: Session, appointment_id: int) -> None:
    """Reminders not yet claimed by a sender will not go (one being sent this moment does:
    the claim and this change both ask for a pending row, so one of them wins)."""
    session.execute(
        update(MessageRow)
        .where(
            MessageRow.appointment_id == appointment_id,
            MessageRow.kind == MessageKind.REMINDER.value,
            MessageRow.state == MessageState.PENDING.value,
        )
        .values(state=MessageState.WITHDRAWN.value)
    )


# --- the desk's view ------------------------------------------------------------------------


def to_record(row: MessageRow) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        patient_id=row.patient_id,
        appointment_id=row.appointment_id,
        kind=MessageKind(row.kind),
        channel=Channel(row.channel),
        recipient=row.recipient,
        subject=row.subject,
        body=row.body,
        state=MessageState(row.state),
        due_at=as_utc(row.due_at),
        attempts=row.attempts,
        last_error=row.last_error,
        sent_at=as_utc(row.sent_at) if row.sent_at is not None else None,
        created_at=as_utc(row.created_at),
    )


MESSAGES_SHOWN = 200


def patient_messages(clinic: Clinic, actor: Actor, patient_id: int) -> list[MessageRecord]:
    """A patient's messages, newest first, with their state (pending, sent, failed...)."""
    policy.require(actor, Kind.MESSAGES, Action.READ)
    with clinic.db.read() as session:
        require_patient(
            session, actor, Action.READ, patient_id, clinic.settings.default_phone_region
        )
        policy.require(actor, Kind.MESSAGES, Action.READ, Owner(patient_id=patient_id))
        rows = session.scalars(
            select(MessageRow)
            .where(MessageRow.patient_id == patient_id)
            .order_by(MessageRow.due_at.desc(), MessageRow.id.desc())
            .limit(MESSAGES_SHOWN)
        )
        return [to_record(row) for row in rows]
