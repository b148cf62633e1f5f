"""The waitlist: patients waiting for a slot with a doctor, or with any doctor of a
speciality, on days `first_day`..`last_day` at preferred times of day, with a priority.

When a slot is free, the entries it fits are offered to the desk best first: the highest
priority, then the longest waiting. The rules here are pure (no I/O) so the service, the
desk and the tests all read one definition of "fits" and "best".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum

from hms_desktop.domain import validation
from hms_desktop.domain.errors import Conflict, NotFound, ValidationError
from hms_desktop.domain.preferred_time import PreferredWindow, parse_preferred, times_understood

# How far ahead an entry may reach: a waitlist is for the weeks ahead, not next year.
MAX_RANGE = timedelta(days=183)
PREFERRED_MAX = 100  # the column's length
# What the desk picks from (any other label `parse_preferred` reads is taken as well).
PREFERRED_CHOICES = (
    "",
    "mornings",
    "afternoons",
    "evenings",
    "weekday mornings",
    "weekday afternoons",
    "weekdays",
    "weekends",
)


class WaitlistStatus(StrEnum):
    ACTIVE = "active"  # waiting (offered while its range lasts)
    FILLED = "filled"  # booked from the waitlist: see `appointment_id`
    WITHDRAWN = "withdrawn"  # taken off by the desk or the patient
    # Never stored: an active entry whose range has ended, as the desk reads it.
    EXPIRED = "expired"


class WaitlistPriority(IntEnum):
    LOW = 0
    NORMAL = 1
    HIGH = 2
    URGENT = 3


class WaitlistEntryMissing(NotFound):
    message = "Waitlist entry does not exist."


class WaitlistEntryClosed(Conflict):
    kind = "unprocessable"
    message = "This waitlist entry is no longer waiting (filled, withdrawn or expired)."


class WaitlistNoMatch(Conflict):
    kind = "unprocessable"
    message = "This slot does not fit the waitlist entry (doctor, days or times)."


class TooManyWaitlistEntries(Conflict):
    kind = "unprocessable"
    message = "You are already on the waitlist {limit} times. Withdraw one to add another."

    @classmethod
    def of(cls, limit: int) -> TooManyWaitlistEntries:
        return cls(cls.message.format(limit=limit))


@dataclass(frozen=True)
class WaitlistForm:
    """A patient put on the waitlist: for a doctor or (exactly one of them) a speciality."""

    patient_id: int | None  # None: the patient acting for themselves
    first_day: date
    last_day: date
    doctor_id: int | None = None
    specialisation_id: int | None = None
    preferred_times: str = ""  # "" any time; "mornings", "Mon-Wed 9-12", ...
    priority: WaitlistPriority = WaitlistPriority.NORMAL
    note: str = ""


@dataclass(frozen=True)
class WaitlistEntry:
    id: int
    patient_id: int
    patient_name: str
    patient_phone: str
    doctor_id: int | None
    doctor_name: str
    specialisation_id: int | None
    specialisation_name: str
    first_day: date
    last_day: date
    preferred_times: str
    priority: WaitlistPriority
    note: str
    status: WaitlistStatus
    created_at: datetime
    created_by: str
    appointment_id: int | None = None
    filled_at: datetime | None = None

    @property
    def wanted(self) -> str:
        """ "Dr Grace Heart" or "any Cardiology doctor"."""
        if self.doctor_id is not None:
            return f"Dr {self.doctor_name}"
        return f"any {self.specialisation_name} doctor"


@dataclass(frozen=True)
class SlotOffer:
    """A free slot and the waiting entries it fits, best first."""

    slot_id: int
    doctor_id: int
    start: datetime
    duration: int
    entries: tuple[WaitlistEntry, ...]


@dataclass(frozen=True)
class SlotFacts:
    """What matching needs to know about a slot: its doctor, the doctor's specialities, and
    when it starts in the clinic's time zone."""

    doctor_id: int
    specialisation_ids: frozenset[int]
    local_start: datetime


def check_form(form: WaitlistForm, today: date) -> WaitlistForm:
    """The form cleaned, or a `ValidationError` naming the field."""
    if (form.doctor_id is None) == (form.specialisation_id is None):
        raise ValidationError("Choose a doctor or a speciality (one of them).", field="doctor_id")
    if form.last_day < form.first_day:
        raise ValidationError("The last day is before the first day.", field="last_day")
    if form.last_day < today:
        raise ValidationError("The range is already over.", field="last_day")
    if form.last_day - max(form.first_day, today) > MAX_RANGE:
        raise ValidationError(
            f"A waitlist entry may reach at most {MAX_RANGE.days} days ahead.", field="last_day"
        )
    preferred = validation.clean_text(
        form.preferred_times, field="preferred_times", max_length=PREFERRED_MAX
    )
    if preferred and (parse_preferred(preferred) is None or not times_understood(preferred)):
        raise ValidationError(
            "Preferred times not understood: say e.g. mornings, weekday afternoons or "
            "Mon-Wed 9-12.",
            field="preferred_times",
        )
    note = validation.clean_text(form.note, field="note", max_length=validation.SHORT_TEXT_MAX)
    return WaitlistForm(
        patient_id=form.patient_id,
        first_day=form.first_day,
        last_day=form.last_day,
        doctor_id=form.doctor_id,
        specialisation_id=form.specialisation_id,
        preferred_times=preferred,
        priority=WaitlistPriority(form.priority),
        note=note,
    )


def status_on(entry: WaitlistEntry, today: date) -> WaitlistStatus:
    """The entry's status as the desk reads it today: an active one whose range is over
    has expired."""
    if entry.status is WaitlistStatus.ACTIVE and entry.last_day < today:
        return WaitlistStatus.EXPIRED
    return entry.status


def preferred_window(entry: WaitlistEntry) -> PreferredWindow | None:
    return parse_preferred(entry.preferred_times) if entry.preferred_times else None


def fits(entry: WaitlistEntry, slot: SlotFacts) -> bool:
    """Whether a free slot is one the entry waits for: still waiting, the doctor (or one of
    the speciality), a day in its range, and inside its preferred times."""
    if entry.status is not WaitlistStatus.ACTIVE:
        return False
    day = slot.local_start.date()
    if not entry.first_day <= day <= entry.last_day:
        return False  # also: an expired entry fits no future slot
    if entry.doctor_id is not None:
        if entry.doctor_id != slot.doctor_id:
            return False
    elif entry.specialisation_id not in slot.specialisation_ids:
        return False
    window = preferred_window(entry)
    return window is None or window.contains(slot.local_start)


def best_first(entries: Iterable[WaitlistEntry]) -> list[WaitlistEntry]:
    """Highest priority first, then who has waited longest (then who was entered first)."""
    return sorted(entries, key=lambda e: (-int(e.priority), e.created_at, e.id))


def offers_for(entries: Iterable[WaitlistEntry], slot: SlotFacts) -> list[WaitlistEntry]:
    """The entries a slot fits, best first."""
    return best_first(entry for entry in entries if fits(entry, slot))


def offer_words(count: int) -> str:
    """What the desk's status line says of a slot's offer."""
    return f"{count} waiting — F to fill" if count else ""
