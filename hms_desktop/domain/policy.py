"""Who may see and do what: the one access policy.

Every service use case asks this module before it reads or writes, so the booking API, the
hospital API, the desk API, the event stream and the desktop all give the same answer to the
same question. A rule is a `Scope` for a role, a kind of record and an action:

- `ALL`  — any record of that kind;
- `OWN`  — only records linked to the actor (see `Owner`): their own account, their patient
  record, appointments and holds; for a doctor, their own doctor record, schedule and the
  patients on it;
- `NONE` — refused.

A rule that is not in the table is refused, so a new kind or action refuses everyone until
it is written down here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from enum import Enum, StrEnum

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import NotAuthenticated, PasswordChangeRequired, PermissionDenied
from hms_desktop.domain.models import Actor, ChangeEvent


class Kind(StrEnum):
    """The kinds of record the clinic keeps, as access sees them."""

    DESK = "desk"  # the desktop app and the desk API themselves
    ACCOUNT = "account"  # a log-in account and its profile (a patient's falls under PATIENT)
    STAFF = "staff"  # administering staff accounts: create, deactivate, reset, unlock
    PATIENT = "patient"  # a patient's record, demographics and account
    DOCTOR = "doctor"  # a doctor's record, catalogue links, weekly hours
    SLOT = "slot"  # free slots: the public timetable
    CALENDAR = "calendar"  # the desk's calendar: every slot with its hold or booking
    HOLD = "hold"  # a slot held while a booking is talked through
    APPOINTMENT = "appointment"
    REQUEST = "request"  # the queue of appointments that came in without a slot
    REVIEW = "review"
    CATALOGUE = "catalogue"  # specialisations, designations, available times, services
    CONTACT = "contact"  # messages left through the contact form
    IMAGE = "image"  # stored pictures, reached through signed links
    AUDIT = "audit"
    EVENT = "event"  # live change events
    PASSWORD = "password"  # one's own password
    SETTINGS = "settings"  # the clinic's central settings (name, booking horizon)
    LEAVE = "leave"  # leave, public holidays and blocked time (a doctor's or the clinic's)
    REPORTS = "reports"  # bookings, attendance and no-show figures over a range of days
    WAITLIST = "waitlist"  # patients waiting for a freed slot with a doctor or speciality
    MESSAGES = "messages"  # confirmations, reminders and notices sent to a patient


class Action(StrEnum):
    USE = "use"
    READ = "read"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    MOVE = "move"  # reschedule
    CANCEL = "cancel"
    SET_STATUS = "set_status"  # arrived, in progress, completed, no-show
    RELEASE = "release"  # let go of a hold
    TAKE_OVER = "take_over"  # release another desk's hold (audited)
    REVEAL = "reveal"  # see a hold's token (the key to confirm or release it)
    ASSIGN = "assign"  # give a request a slot
    DECLINE = "decline"
    # Run a kind's roster: add doctors with or without a log-in, see and set who is active.
    MANAGE = "manage"


class Scope(Enum):
    NONE = "none"
    OWN = "own"
    ALL = "all"


ALL, OWN, NO = Scope.ALL, Scope.OWN, Scope.NONE
ANON, PAT, DOC, DESK, ADMIN = (
    Role.ANONYMOUS,
    Role.PATIENT,
    Role.DOCTOR,
    Role.RECEPTIONIST,
    Role.ADMIN,
)


def _rule(anonymous: Scope, patient: Scope, doctor: Scope, desk: Scope, admin: Scope) -> dict:
    return {ANON: anonymous, PAT: patient, DOC: doctor, DESK: desk, ADMIN: admin}


# Columns: anonymous, patient, doctor, receptionist, admin.
RULES: dict[Kind, dict[Action, dict[Role, Scope]]] = {
    Kind.DESK: {
        Action.USE: _rule(NO, NO, ALL, ALL, ALL),
    },
    Kind.ACCOUNT: {
        # Anyone may register a patient account; everyone else sees and keeps their own.
        Action.CREATE: _rule(ALL, ALL, ALL, ALL, ALL),
        Action.READ: _rule(NO, OWN, OWN, OWN, ALL),
        Action.UPDATE: _rule(NO, OWN, OWN, OWN, ALL),
        Action.DELETE: _rule(NO, OWN, OWN, OWN, ALL),
    },
    Kind.STAFF: {
        Action.READ: _rule(NO, NO, NO, NO, ALL),
        Action.CREATE: _rule(NO, NO, NO, NO, ALL),
        Action.UPDATE: _rule(NO, NO, NO, NO, ALL),
    },
    Kind.PATIENT: {
        Action.READ: _rule(NO, OWN, OWN, ALL, ALL),
        Action.CREATE: _rule(NO, OWN, OWN, ALL, ALL),
        Action.UPDATE: _rule(NO, OWN, NO, ALL, ALL),
        # A patient's record (their visits with it) is the clinic's to keep; an admin
        # removes one on request.
        Action.DELETE: _rule(NO, NO, NO, NO, ALL),
    },
    Kind.DOCTOR: {
        Action.READ: _rule(ALL, ALL, ALL, ALL, ALL),
        Action.CREATE: _rule(NO, NO, OWN, NO, ALL),
        Action.UPDATE: _rule(NO, NO, OWN, NO, ALL),
        Action.DELETE: _rule(NO, NO, NO, NO, ALL),
        Action.MANAGE: _rule(NO, NO, NO, NO, ALL),
    },
    Kind.SLOT: {
        Action.READ: _rule(ALL, ALL, ALL, ALL, ALL),
    },
    Kind.CALENDAR: {
        Action.READ: _rule(NO, NO, OWN, ALL, ALL),
    },
    Kind.HOLD: {
        Action.CREATE: _rule(NO, OWN, NO, ALL, ALL),
        Action.RELEASE: _rule(NO, OWN, NO, OWN, OWN),
        Action.REVEAL: _rule(NO, OWN, NO, OWN, OWN),
        Action.TAKE_OVER: _rule(NO, NO, NO, ALL, ALL),
    },
    Kind.APPOINTMENT: {
        Action.READ: _rule(NO, OWN, OWN, ALL, ALL),
        Action.CREATE: _rule(NO, OWN, NO, ALL, ALL),
        Action.UPDATE: _rule(NO, OWN, NO, ALL, ALL),
        Action.MOVE: _rule(NO, OWN, NO, ALL, ALL),
        Action.CANCEL: _rule(NO, OWN, NO, ALL, ALL),
        Action.SET_STATUS: _rule(NO, NO, OWN, ALL, ALL),
        Action.DELETE: _rule(NO, OWN, NO, NO, ALL),
    },
    Kind.REQUEST: {
        Action.CREATE: _rule(NO, OWN, NO, ALL, ALL),
        Action.READ: _rule(NO, NO, NO, ALL, ALL),
        Action.ASSIGN: _rule(NO, NO, NO, ALL, ALL),
        Action.DECLINE: _rule(NO, NO, NO, ALL, ALL),
    },
    Kind.REVIEW: {
        Action.READ: _rule(ALL, ALL, ALL, ALL, ALL),
        Action.CREATE: _rule(NO, OWN, NO, NO, NO),
        Action.UPDATE: _rule(NO, OWN, NO, NO, ALL),
        Action.DELETE: _rule(NO, OWN, NO, NO, ALL),
    },
    Kind.CATALOGUE: {
        Action.READ: _rule(ALL, ALL, ALL, ALL, ALL),
        Action.CREATE: _rule(NO, NO, NO, NO, ALL),
        Action.UPDATE: _rule(NO, NO, NO, NO, ALL),
        Action.DELETE: _rule(NO, NO, NO, NO, ALL),
    },
    Kind.CONTACT: {
        Action.CREATE: _rule(ALL, ALL, ALL, ALL, ALL),
        Action.READ: _rule(NO, NO, NO, ALL, ALL),
        Action.UPDATE: _rule(NO, NO, NO, ALL, ALL),
        Action.DELETE: _rule(NO, NO, NO, NO, ALL),
    },
    Kind.IMAGE: {
        Action.READ: _rule(ALL, ALL, ALL, ALL, ALL),
    },
    Kind.AUDIT: {
        Action.READ: _rule(NO, NO, NO, NO, ALL),
    },
    Kind.EVENT: {
        Action.READ: _rule(NO, OWN, OWN, ALL, ALL),
    },
    Kind.PASSWORD: {
        Action.UPDATE: _rule(NO, OWN, OWN, OWN, OWN),
    },
    Kind.SETTINGS: {
        Action.READ: _rule(NO, NO, ALL, ALL, ALL),
        Action.UPDATE: _rule(NO, NO, NO, NO, ALL),
    },
    # The admin enters and removes leave and holidays; the desk sees them (and the bookings
    # they affect) to rebook patients, moving or cancelling under the APPOINTMENT rules; a
    # doctor sees their own leave and the clinic's holidays.
    Kind.LEAVE: {
        Action.READ: _rule(NO, NO, OWN, ALL, ALL),
        Action.CREATE: _rule(NO, NO, NO, NO, ALL),
        Action.DELETE: _rule(NO, NO, NO, NO, ALL),
    },
    # The desk and the admin see every doctor's figures; a doctor only their own row.
    Kind.REPORTS: {
        Action.READ: _rule(NO, NO, OWN, ALL, ALL),
    },
    # --- waitlist ---
    # The desk puts any patient on it, reads it, takes them off and fills freed slots from
    # it (ASSIGN: see who waits for a slot and hold it for them). A patient puts
    # themselves on it, sees and withdraws their own entries (through the desk API's
    # waitlist routes only, see DESK_API_FOR_PATIENTS), never another patient's.
    Kind.WAITLIST: {
        Action.READ: _rule(NO, OWN, NO, ALL, ALL),
        Action.CREATE: _rule(NO, OWN, NO, ALL, ALL),
        Action.CANCEL: _rule(NO, OWN, NO, ALL, ALL),
        Action.ASSIGN: _rule(NO, NO, NO, ALL, ALL),
    },
    # --- end waitlist ---
    # Reminders: the desk sees what was sent to a patient and whether it went; a patient
    # their own. A doctor's schedule does not need them.
    Kind.MESSAGES: {
        Action.READ: _rule(NO, OWN, NO, ALL, ALL),
    },
}

# The desk API is the desk's (Kind.DESK), but for these entries: no booking or hospital
# document has a place for the waitlist, so a patient reaches their own entries there.
DESK_API_FOR_PATIENTS: frozenset[tuple[Kind, Action]] = frozenset(
    {
        (Kind.WAITLIST, Action.READ),
        (Kind.WAITLIST, Action.CREATE),
        (Kind.WAITLIST, Action.CANCEL),
    }
)

# What an account whose password an admin reset may still do: log in, see who it is, and
# change the password. Everything else is refused until it has.
WHILE_PASSWORD_RESET: frozenset[tuple[Kind, Action]] = frozenset(
    {(Kind.DESK, Action.USE), (Kind.ACCOUNT, Action.READ), (Kind.PASSWORD, Action.UPDATE)}
)


@dataclass(frozen=True)
class Owner:
    """The people a record is linked to, as far as access goes.

    A record is the actor's own when any link points at them: their account (`user_id`),
    their patient record (`patient_id`), their doctor record (`doctor_id`), or, for a
    patient's record, one of the doctors on whose schedule the patient is (`doctor_ids`).
    """

    user_id: int | None = None
    patient_id: int | None = None
    doctor_id: int | None = None
    doctor_ids: frozenset[int] = field(default_factory=frozenset)
    # A record of one desk's log-in (a hold): the same account at another desk does not
    # own it.
    desk_session: str = ""


NOBODY = Owner()


def scope(actor: Actor, kind: Kind, action: Action) -> Scope:
    """How far `actor` may take `action` on records of `kind`."""
    if actor.must_change_password and (kind, action) not in WHILE_PASSWORD_RESET:
        return Scope.NONE
    return RULES.get(kind, {}).get(action, {}).get(actor.role, Scope.NONE)


def owns(actor: Actor, owner: Owner) -> bool:
    if owner.desk_session and actor.desk_session and owner.desk_session != actor.desk_session:
        return False
    if actor.user_id is not None and owner.user_id == actor.user_id:
        return True
    if actor.patient_id is not None and owner.patient_id == actor.patient_id:
        return True
    if actor.doctor_id is not None:
        return owner.doctor_id == actor.doctor_id or actor.doctor_id in owner.doctor_ids
    return False


def allows(actor: Actor, kind: Kind, action: Action, owner: Owner | None = None) -> bool:
    """Whether `actor` may take `action` on this record (`owner`: whom it is linked to; for
    a question about the kind as a whole, leave it out: OWN then counts as allowed)."""
    granted = scope(actor, kind, action)
    if granted is Scope.ALL:
        return True
    if granted is Scope.OWN:
        return owner is None or owns(actor, owner)
    return False


def refusal(actor: Actor) -> PermissionDenied | NotAuthenticated:
    """The error for a refused request: log in first, change the password first, or not
    allowed."""
    if actor.role is Role.ANONYMOUS:
        return NotAuthenticated()
    if actor.must_change_password:
        return PasswordChangeRequired()
    return PermissionDenied()


def require(actor: Actor, kind: Kind, action: Action, owner: Owner | None = None) -> Scope:
    """Raise unless allowed; answers the scope so list queries can narrow themselves."""
    if not allows(actor, kind, action, owner):
        raise refusal(actor)
    return scope(actor, kind, action)


def visible_event(actor: Actor, event: ChangeEvent) -> ChangeEvent | None:
    """The change event as `actor` may hear of it, or None. A doctor hears of their own
    schedule and a patient of their own appointments, without who held or did what."""
    granted = scope(actor, Kind.EVENT, Action.READ)
    if granted is Scope.ALL:
        return event
    if granted is Scope.OWN and owns(
        actor, Owner(patient_id=event.patient_id, doctor_id=event.doctor_id)
    ):
        # For whom a slot is held is the desk's to know (as in the calendar).
        holding = event.kind in ("hold", "release") and event.patient_id != actor.patient_id
        patient_id = None if holding else event.patient_id
        return replace(event, extra={}, origin="", patient_id=patient_id)
    return None


def public_name(first_name: str, last_name: str) -> str:
    """How a patient appears where anyone may look (their reviews): "Ann A.", never the
    whole name."""
    initial = f" {last_name.strip()[0]}." if last_name.strip() else ""
    return f"{first_name.strip()}{initial}".strip()


def roles_allowed(kind: Kind, action: Action) -> Iterable[Role]:
    rules = RULES.get(kind, {}).get(action, {})
    return [role for role, granted in rules.items() if granted is not Scope.NONE]
