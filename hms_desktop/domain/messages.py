"""Messages to patients about their appointments: what kinds there are, the states one goes
through in the outbox, their text, and how long to wait before trying one again.

Pure: the service layer writes them in the booking's own transaction (services/outbox.py)
and a sender in `serve` delivers them (services/sender.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from string import Template
from zoneinfo import ZoneInfo


class MessageKind(StrEnum):
    CONFIRMATION = "confirmation"  # at booking
    REMINDER = "reminder"  # `reminder_hours` before the appointment
    MOVED = "moved"  # the appointment moved to another time
    CANCELLED = "cancelled"


class MessageState(StrEnum):
    PENDING = "pending"  # waiting for its time, or for its next try
    SENDING = "sending"  # one sender has claimed it and is handing it over
    SENT = "sent"
    FAILED = "failed"  # gave up: every try failed, or a sender stopped mid-send
    WITHDRAWN = "withdrawn"  # a reminder of an appointment that moved or was cancelled


class Channel(StrEnum):
    EMAIL = "email"  # through SMTP
    SMS = "sms"  # through the SMS gateway's HTTP webhook


@dataclass(frozen=True)
class MessageRecord:
    """One message as the desk sees it."""

    id: int
    patient_id: int
    appointment_id: int | None
    kind: MessageKind
    channel: Channel
    recipient: str
    subject: str
    body: str
    state: MessageState
    due_at: datetime
    attempts: int
    last_error: str
    sent_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Appointment:
    """What a message says about its appointment."""

    clinic_name: str
    patient_name: str
    doctor_name: str
    start: datetime  # UTC
    tz: ZoneInfo


# $clinic, $patient, $doctor, $date, $time: the local date and time in the clinic's zone
# (with its abbreviation, so a time in the week the clocks change is never ambiguous).
SUBJECTS: dict[MessageKind, Template] = {
    MessageKind.CONFIRMATION: Template("$clinic: appointment booked for $date at $time"),
    MessageKind.REMINDER: Template("$clinic: reminder of your appointment on $date at $time"),
    MessageKind.MOVED: Template("$clinic: your appointment moved to $date at $time"),
    MessageKind.CANCELLED: Template("$clinic: appointment on $date at $time cancelled"),
}
BODIES: dict[MessageKind, Template] = {
    MessageKind.CONFIRMATION: Template(
        "Dear $patient,\n\nyour appointment with $doctor at $clinic is booked for $date at "
        "$time.\n\nTo move or cancel it, please call the clinic.\n"
    ),
    MessageKind.REMINDER: Template(
        "Dear $patient,\n\na reminder: your appointment with $doctor at $clinic is on $date "
        "at $time.\n\nIf you cannot come, please call the clinic.\n"
    ),
    MessageKind.MOVED: Template(
        "Dear $patient,\n\nyour appointment with $doctor at $clinic has moved to $date at "
        "$time$was.\n"
    ),
    MessageKind.CANCELLED: Template(
        "Dear $patient,\n\nyour appointment with $doctor at $clinic on $date at $time has "
        "been cancelled$why.\n"
    ),
}
SUBJECT_MAX = 200
# Why a message written before the patient opted out was not sent.
OPTED_OUT = "Not sent: the patient opted out of messages after it was written."


def local_words(moment: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """The date ("Sunday 29 March 2026") and time ("09:30 BST") in the clinic's zone."""
    here = moment.astimezone(tz)
    return f"{here:%A} {here.day} {here:%B %Y}", f"{here:%H:%M} {here.tzname()}"


def render(
    kind: MessageKind,
    about: Appointment,
    *,
    previous_start: datetime | None = None,
    reason: str = "",
) -> tuple[str, str]:
    """The subject and body of a message about `about`; a move names the old time too, a
    cancel its reason (the doctor's leave) when the desk gave one."""
    day, clock = local_words(about.start, about.tz)
    was = ""
    if previous_start is not None:
        old_day, old_clock = local_words(previous_start, about.tz)
        was = f" (it was on {old_day} at {old_clock})"
    values = {
        "clinic": about.clinic_name,
        "patient": about.patient_name,
        "doctor": about.doctor_name,
        "date": day,
        "time": clock,
        "was": was,
        "why": f" ({reason})" if reason else "",
    }
    # One line: a name with a line break (stored before names were checked, or typed by
    # a future form) must not start a new mail header.
    subject = " ".join(SUBJECTS[kind].safe_substitute(values).split())
    return subject[:SUBJECT_MAX], BODIES[kind].safe_substitute(values)


def reminder_due(start: datetime, hours_before: float) -> datetime:
    """When the reminder goes: a fixed span before the start (so 24 h before 09:30 the day
    after the clocks change is 08:30 local, the same 24 hours of waiting)."""
    return start - timedelta(hours=hours_before)


def retry_delay(attempts: int, base_seconds: float, cap_seconds: float = 6 * 3600) -> timedelta:
    """Exponential backoff: `base`, 2x, 4x, ... after the 1st, 2nd, 3rd failed try."""
    return timedelta(seconds=min(cap_seconds, base_seconds * 2 ** max(0, attempts - 1)))
