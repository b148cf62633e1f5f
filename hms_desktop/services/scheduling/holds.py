"""Holding a slot and booking it: the hot path every desk and patient takes.

The protocol (DESIGN.md): hold with one atomic SET NX in the lock store; confirm inserts the
appointment in one transaction (the partial unique index rejects a racing second booking);
then the hold is released by its owner only. Holds live only in the lock store, so their
events go out at once; a booking's go out after its transaction commits.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import cast

from sqlalchemy import Integer, String, Table, bindparam, exists, insert, literal, select

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import FREEING_STATUSES, AppointmentStatus, AppointmentType, Role
from hms_desktop.domain.errors import (
    DoctorNotBookable,
    HoldNotYours,
    LockStoreUnavailable,
    MissingSlot,
    NoHoldFound,
    NotFound,
    PatientMissing,
    SlotAlreadyBooked,
    SlotBlocked,
    SlotInPast,
    SlotLocked,
    TooManyHolds,
)
from hms_desktop.domain.models import Actor, AppointmentRecord, Hold
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import outbox
from hms_desktop.services.blocking import slot_is_blocked
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling.records import (
    check_online_quota,
    load_appointment,
    publish_change,
)
from hms_desktop.services.unit_of_work import UnitOfWork
from hms_desktop.store.locks import expiry
from hms_desktop.store.tables import Appointment, Doctor, Patient, Slot, User

log = logging.getLogger(__name__)

# Core tables, not ORM entities, on the hot path (declarative types them as any FromClause).
_slots, _appointments, _patients, _doctors, _users = (
    cast(Table, model.__table__) for model in (Slot, Appointment, Patient, Doctor, User)
)

# Everything a hold checks in one round trip: the slot and its time, the patient, a live
# booking, leave or a holiday over it; and the holder's name, which the hold records so
# other desks see who holds it (read here, not on every calendar read).
_HOLD_CHECK = select(
    _slots.c.doctor_id,
    _slots.c.start_at,
    select(_patients.c.id)
    .where(_patients.c.id == bindparam("patient_id"))
    .scalar_subquery()
    .label("patient_id"),
    exists()
    .where(_appointments.c.slot_id == _slots.c.id, _appointments.c.status.not_in(FREEING_STATUSES))
    .label("booked"),
    slot_is_blocked(_slots.c.doctor_id, _slots.c.start_at).label("blocked"),
    select(_doctors.c.is_active)
    .where(_doctors.c.id == _slots.c.doctor_id)
    .scalar_subquery()
    .label("bookable"),
    select(_users.c.first_name)
    .where(_users.c.id == bindparam("user_id"))
    .scalar_subquery()
    .label("holder_first"),
    select(_users.c.last_name)
    .where(_users.c.id == bindparam("user_id"))
    .scalar_subquery()
    .label("holder_last"),
).where(_slots.c.id == bindparam("slot_id"))

# The appointment takes its doctor from the slot in the same statement (one round trip);
# no row is inserted when the slot does not exist or is blocked.
_BOOK = (
    insert(_appointments)
    .from_select(
        [
            "patient_id",
            "doctor_id",
            "slot_id",
            "appointment_type",
            "symptoms",
            "status",
            "decline_reason",
            "created_at",
            "updated_at",
        ],
        select(
            bindparam("patient_id", type_=Integer),
            _slots.c.doctor_id,
            _slots.c.id,
            bindparam("appointment_type", type_=String),
            bindparam("symptoms", type_=String),
            literal(AppointmentStatus.SCHEDULED.value),
            literal(""),
            bindparam("now", type_=_appointments.c.created_at.type),
            bindparam("now", type_=_appointments.c.created_at.type),
        ).where(
            _slots.c.id == bindparam("slot_id"),
            # Leave entered while the slot was held: the hold does not outlive it.
            ~slot_is_blocked(_slots.c.doctor_id, _slots.c.start_at),
        ),
    )
    .returning(_appointments.c.id)
)


def patient_for(actor: Actor, kind: Kind, patient_id: int | None) -> int:
    """Patients act for themselves; desk staff name the patient. Asks the policy whether
    the actor may create a `kind` (hold, appointment, request) for that patient."""
    if actor.role is Role.PATIENT:
        if actor.patient_id is None:
            raise PatientMissing()
        if patient_id is not None and patient_id != actor.patient_id:
            raise HoldNotYours()
        patient_id = actor.patient_id
    elif patient_id is None:
        policy.require(actor, kind, Action.CREATE, Owner())
        raise PatientMissing()
    policy.require(actor, kind, Action.CREATE, Owner(patient_id=patient_id))
    return patient_id


# --- holds ------------------------------------------------------------------------------------


def hold_slot(
    clinic: Clinic, actor: Actor, slot_id: int | None, patient_id: int | None = None
) -> Hold:
    """Hold a free slot for a patient while the booking is talked through. A patient may
    have at most `max_holds_per_patient` holds at once, however many desks hold for them."""
    return _hold(clinic, actor, slot_id, patient_id, limit=clinic.settings.max_holds_per_patient)


def _hold(
    clinic: Clinic, actor: Actor, slot_id: int | None, patient_id: int | None, *, limit: int
) -> Hold:
    patient_id = patient_for(actor, Kind.HOLD, patient_id)
    if slot_id is None:
        raise MissingSlot()
    with clinic.db.read_connection() as connection:
        found = connection.execute(
            _HOLD_CHECK,
            {"slot_id": slot_id, "patient_id": patient_id, "user_id": actor.user_id},
        ).first()
        if limit:  # not for the guard of a move: that books nothing new
            check_online_quota(connection, clinic, actor, patient_id)
    if found is None:
        raise NotFound("Slot does not exist.")
    if as_utc(found.start_at) <= clinic.now():
        raise SlotInPast()
    if found.patient_id is None:
        raise PatientMissing()
    if not found.bookable:
        raise DoctorNotBookable()
    if found.booked:
        raise SlotAlreadyBooked()
    if found.blocked:
        raise SlotBlocked()
    wanted = Hold(
        token=str(uuid.uuid4()),
        slot_id=slot_id,
        patient_id=patient_id,
        holder_user_id=actor.user_id,
        holder=actor.username,
        expires_at=expiry(clinic.settings.hold_ttl_ms),
        desk=actor.desk_name,
        desk_session=actor.desk_session,
        holder_name=" ".join(n for n in (found.holder_first, found.holder_last) if n),
    )
    hold = clinic.locks.acquire(wanted, clinic.settings.hold_ttl_ms, max_per_patient=limit)
    if hold is None:
        raise TooManyHolds.of(limit)
    if hold.token != wanted.token and hold.patient_id != patient_id:
        raise SlotLocked()
    if hold.token != wanted.token and not may_see_token(actor, hold):
        # The same patient, held by someone else (a desk): theirs to confirm, not ours.
        raise SlotLocked()
    if hold.token == wanted.token:
        clinic.publish(
            "hold",
            slot_id=slot_id,
            doctor_id=found.doctor_id,
            patient_id=patient_id,
            extra={"holder": actor.username, "desk": actor.desk_name},
        )
    return hold


def _hold_owner(hold: Hold) -> Owner:
    """A hold belongs to whoever holds it: the desk log-in that made it (the same account at
    another desk is another desk), or the patient holding online."""
    return Owner(user_id=hold.holder_user_id, desk_session=hold.desk_session)


def may_see_token(actor: Actor, hold: Hold) -> bool:
    return policy.allows(actor, Kind.HOLD, Action.REVEAL, _hold_owner(hold))


def held_here(actor: Actor, hold: Hold) -> bool:
    """Whether the hold is this desk's own ("held by you"), not merely this account's."""
    return actor.user_id is not None and policy.owns(actor, _hold_owner(hold))


def hold_as_seen_by(actor: Actor, hold: Hold) -> Hold:
    """A hold's token only for its holder; who holds it (log-in and full name), at which
    desk, and for whom, only for those who may act on holds (the desk): a doctor or a
    patient sees that a slot is held, and when it frees. Which log-in holds it stays with
    that log-in."""
    if may_see_token(actor, hold):
        return hold
    if policy.allows(actor, Kind.HOLD, Action.TAKE_OVER):
        return dataclasses.replace(hold, token="", desk_session="")
    return dataclasses.replace(
        hold,
        token="",
        holder="",
        holder_name="",
        holder_user_id=None,
        patient_id=0,
        desk="",
        desk_session="",
    )


def release_hold(clinic: Clinic, actor: Actor, slot_id: int, token: str) -> bool:
    """Let go of one's own hold (the desk closed the booking without confirming)."""
    hold = clinic.locks.get(slot_id)
    if hold is None or hold.token != token:
        policy.require(actor, Kind.HOLD, Action.RELEASE)
        return False
    policy.require(actor, Kind.HOLD, Action.RELEASE, _hold_owner(hold))
    released = clinic.locks.release(slot_id, token)
    if released:
        _announce_release(clinic, hold)
    return released


def take_over_hold(clinic: Clinic, actor: Actor, slot_id: int) -> bool:
    """Release another desk's hold (the patient is at this desk now, or the other desk is
    gone). Recorded in the audit log with whose hold it was."""
    policy.require(actor, Kind.HOLD, Action.TAKE_OVER)
    hold = clinic.locks.get(slot_id)
    if hold is None or not clinic.locks.release(slot_id, hold.token):
        return False
    with clinic.work(actor) as work:
        work.record("take_over", "hold", slot_id, holder=hold.holder, patient_id=hold.patient_id)
    _announce_release(clinic, hold)
    return True


def _announce_release(clinic: Clinic, hold: Hold) -> None:
    with clinic.db.read() as session:
        doctor_id = session.scalar(select(Slot.doctor_id).where(Slot.id == hold.slot_id))
    clinic.publish("release", slot_id=hold.slot_id, doctor_id=doctor_id, patient_id=hold.patient_id)


@contextmanager
def guard_new_slot(clinic: Clinic, actor: Actor, slot_id: int, patient_id: int) -> Iterator[None]:
    """Hold a slot for the length of a move into it, so two moves cannot race for it. The
    guard is the system's, not the patient's: it does not count against their holds."""
    hold = _hold(clinic, actor, slot_id, patient_id, limit=0)
    try:
        yield
    finally:
        _drop_hold(clinic, slot_id, hold.token)


def _drop_hold(clinic: Clinic, slot_id: int, token: str) -> None:
    """Release a hold once the database has decided. If the lock store went away meanwhile the
    hold simply expires; the committed outcome must not be reported as a failure."""
    try:
        clinic.locks.release(slot_id, token)
    except LockStoreUnavailable:
        log.warning("could not release the hold on slot %s; it will expire", slot_id)


# --- booking ----------------------------------------------------------------------------------


def confirm_booking(
    clinic: Clinic,
    actor: Actor,
    slot_id: int | None,
    patient_id: int | None = None,
    *,
    token: str | None = None,
    appointment_type: AppointmentType = AppointmentType.OFFLINE,
    symptoms: str = "",
    also: Callable[[UnitOfWork, AppointmentRecord], None] | None = None,
) -> AppointmentRecord:
    """Turn a hold into an appointment. The database's unique index is the last guard.
    `also` writes more in the booking's own transaction (a waitlist entry filled by it):
    both stand, or neither does."""
    if slot_id is None:
        raise MissingSlot()
    patient_id = patient_for(actor, Kind.APPOINTMENT, patient_id)
    symptoms = validation.clean_text(
        symptoms, field="symptoms", max_length=validation.LONG_TEXT_MAX
    )
    hold = clinic.locks.get(slot_id)
    if hold is None or (token is not None and hold.token != token):
        raise NoHoldFound()
    if hold.patient_id != patient_id:
        raise HoldNotYours()
    if token is None and not may_see_token(actor, hold) and actor.patient_id != patient_id:
        raise HoldNotYours()
    try:
        with clinic.work(actor) as work:
            check_online_quota(work.session, clinic, actor, patient_id)
            appointment_id = work.session.connection().scalar(
                _BOOK,
                {
                    "patient_id": patient_id,
                    "slot_id": slot_id,
                    "appointment_type": appointment_type.value,
                    "symptoms": symptoms,
                    "now": clinic.now(),
                },
            )
            if appointment_id is None:
                exists_ = work.session.get(Slot, slot_id) is not None
                raise SlotBlocked() if exists_ else NotFound("Slot does not exist.")
            work.record("book", "appointment", appointment_id, slot_id=slot_id)
            record = load_appointment(work.session, appointment_id)
            outbox.booked(work, record)  # in this transaction: no message for a rollback
            publish_change(work, "book", record)
            if also is not None:
                also(work, record)
    except (SlotAlreadyBooked, SlotBlocked):
        # Someone booked it (or blocked it) between our hold and now: the hold is worthless.
        _drop_hold(clinic, slot_id, hold.token)
        raise
    _drop_hold(clinic, slot_id, hold.token)
    return record
