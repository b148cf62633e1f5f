"""Records the service layer returns and the UI shows: plain, immutable, serialisable."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime, time
from enum import Enum, StrEnum
from typing import Any

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType, BlockKind, Role


def to_jsonable(value: Any) -> Any:
    """Dataclasses, enums and dates as JSON values (used by the desk API and remote client)."""
    if hasattr(value, "__dataclass_fields__"):
        return {key: to_jsonable(item) for key, item in asdict(value).items()}
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class Actor:
    """Who is acting: used for permissions and the audit trail."""

    user_id: int | None
    username: str
    role: Role
    patient_id: int | None = None
    doctor_id: int | None = None
    # A password an admin reset: until its owner changes it, the policy allows nothing else.
    must_change_password: bool = False
    # A desk log-in (the desktop, the desk API): its holds are this desk's, not the
    # account's. Empty for the booking and hospital APIs, whose holds are the account's.
    desk_session: str = ""
    desk_name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


SYSTEM = Actor(user_id=None, username="system", role=Role.ADMIN)
ANONYMOUS = Actor(user_id=None, username="anonymous", role=Role.ANONYMOUS)


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: Role
    is_staff: bool
    is_active: bool
    date_joined: datetime
    patient_id: int | None = None
    doctor_id: int | None = None
    must_change_password: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


@dataclass(frozen=True)
class PatientForm:
    """What the desk types to register or edit a patient."""

    full_name: str
    gender: str = ""
    date_of_birth: date | None = None
    phone: str = ""
    email: str = ""
    address: str = ""
    username: str = ""  # optional portal login
    password: str = ""
    messages_opt_out: bool = False  # no confirmations, reminders or notices


@dataclass(frozen=True)
class PatientRecord:
    id: int
    user_id: int
    username: str
    full_name: str
    first_name: str
    last_name: str
    gender: str
    date_of_birth: date | None
    phone: str | None
    email: str
    address: str
    has_login: bool
    # The phone as the desk shows it: national form for the clinic's own country.
    phone_display: str = ""
    messages_opt_out: bool = False


@dataclass(frozen=True)
class NamedItem:
    id: int
    name: str
    slug: str = ""


@dataclass(frozen=True)
class AvailableTimeItem:
    id: int
    time: str


@dataclass(frozen=True)
class WorkingHours:
    weekday: int  # Monday = 0
    start: time
    end: time
    slot_minutes: int = 30


@dataclass(frozen=True)
class DoctorSummary:
    id: int
    user_id: int
    full_name: str
    gender: str
    specialisations: tuple[str, ...]
    designations: tuple[str, ...]
    fee: int | None
    average_rating: float | None
    review_count: int

    @property
    def speciality(self) -> str | None:
        return self.specialisations[0] if self.specialisations else None


@dataclass(frozen=True)
class SlotInfo:
    id: int
    doctor_id: int
    start: datetime  # aware, UTC
    duration: int


# Not frozen: an answer builds thousands of these, and a frozen dataclass's __init__ sets each
# field through object.__setattr__ (1.3 µs against 0.27 µs with slots: 2 ms of a 1,900-slot
# answer). Nothing hashes or changes them.
@dataclass(slots=True)
class FreeSlot:
    """A free slot with its doctor, as the speciality search returns them."""

    slot_id: int
    doctor_id: int
    doctor_name: str
    gender: str
    fee: int | None
    start: datetime
    duration: int


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    reviewer_patient_id: int
    reviewer: str
    doctor_id: int
    doctor_name: str
    body: str
    rating: int
    created_on: date


@dataclass(frozen=True)
class DoctorDetails:
    summary: DoctorSummary
    description: str
    meet_link: str
    date_of_birth: date | None
    working_hours: tuple[WorkingHours, ...]
    available_times: tuple[AvailableTimeItem, ...]
    next_free_slots: tuple[SlotInfo, ...]
    reviews: tuple[ReviewRecord, ...]


@dataclass(frozen=True)
class Hold:
    token: str
    slot_id: int
    patient_id: int
    holder_user_id: int | None
    holder: str
    expires_at: datetime
    desk: str = ""  # the holding desk's name, when a desk holds it
    desk_session: str = ""  # which log-in holds it (shown to that log-in only)
    holder_name: str = ""  # the holder's full name, shown to other desks ("" when unknown)


@dataclass(frozen=True)
class AppointmentRecord:
    id: int
    patient_id: int
    patient_name: str
    doctor_id: int
    doctor_name: str
    slot_id: int | None
    start: datetime | None
    duration: int | None
    status: AppointmentStatus
    appointment_type: AppointmentType
    symptoms: str
    available_time_id: int | None
    available_time: str | None
    decline_reason: str
    created_at: datetime
    updated_at: datetime


class SlotState(StrEnum):
    FREE = "free"
    HELD_BY_ME = "held_by_me"
    HELD = "held"
    BOOKED = "booked"
    PAST = "past"
    BLOCKED = "blocked"  # free, but inside leave, a holiday or blocked time: not bookable


@dataclass(frozen=True)
class CalendarSlot:
    slot: SlotInfo
    state: SlotState
    hold: Hold | None = None
    appointment: AppointmentRecord | None = None
    note: str = ""  # a blocked slot's reason ("Annual leave")


@dataclass(frozen=True)
class TimeBlockForm:
    """Leave, a holiday or blocked time as the desk enters it: whole local days
    `first_day`..`last_day`, or from `start_time` on the first day to `end_time` on the last."""

    doctor_id: int | None  # None: the whole clinic
    first_day: date
    last_day: date
    reason: str
    kind: BlockKind = BlockKind.LEAVE
    start_time: time | None = None
    end_time: time | None = None


@dataclass(frozen=True)
class TimeBlock:
    id: int
    doctor_id: int | None
    doctor_name: str  # "" for the whole clinic
    kind: BlockKind
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    all_day: bool
    reason: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class AffectedBooking:
    """A booked appointment inside a block: to be moved or cancelled by the desk."""

    appointment: AppointmentRecord
    block_id: int
    reason: str


@dataclass(frozen=True)
class NotMoved:
    appointment_id: int
    reason: str


@dataclass(frozen=True)
class MoveReport:
    moved: tuple[AppointmentRecord, ...]
    not_moved: tuple[NotMoved, ...]


@dataclass(frozen=True)
class ChangeEvent:
    """What changed, published after every hold, release, booking and status change."""

    kind: str  # hold, release, book, reschedule, cancel, status, request
    slot_id: int | None = None
    doctor_id: int | None = None
    appointment_id: int | None = None
    patient_id: int | None = None  # whom it concerns: decides who may hear of it
    old_slot_id: int | None = None
    # When the (new) slot starts, ISO 8601 UTC, where the publisher knows it: a desk
    # reloads only the days a change touches.
    start: str = ""
    at: str = ""
    origin: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChangeEvent:
        names = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in names})


# What the desk API's event stream says, besides changes, while a store it needs is away
# and once it is back (`extra["message"]` says which store): the desk shows or clears its
# banner and reloads.
STORE_AWAY = "store_unavailable"
STORE_BACK = "store_available"


# Kinds of ChangeEvent a desk's subscription also delivers, about the connection rather
# than a change: OFFLINE when the clinic's server (or database, or Redis) stops answering,
# with `extra["message"]` saying which; RESYNC when it answers again after a gap (events
# may have been missed meanwhile: reload what is shown).
OFFLINE = "offline"
RESYNC = "resync"


def offline_event(message: str) -> ChangeEvent:
    return ChangeEvent(kind=OFFLINE, extra={"message": message})


@dataclass(frozen=True)
class Page:
    items: tuple[Any, ...]
    total: int


@dataclass(frozen=True)
class ServiceItem:
    id: int
    name: str
    description: str
    image_id: int | None


@dataclass(frozen=True)
class ContactItem:
    id: int
    name: str
    phone: str
    message: str
    created_at: datetime | None = None
    # Handled by the desk (answered, called back); the inbox shows the rest first.
    handled: bool = False


@dataclass(frozen=True)
class HoursSaved:
    """What saving a doctor's weekly hours did: the free slots the new hours make within the
    booking horizon, the slots kept although outside the hours because someone held them,
    and the booked appointments that now fall outside the hours (for the desk to move)."""

    slots: int
    kept_held: int = 0
    outside: tuple[AppointmentRecord, ...] = ()
