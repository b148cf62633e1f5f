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
from typing import Any, NoReturn

from sqlalchemy import select

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import AppointmentType, Role
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
    TooManyBookings,
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
    counts_online_quota,
    load_appointment,
    publish_change,
    refuse_over_quota,
    to_record,
)
from hms_desktop.services.scheduling.statements import (
    BOOK,
    BOOK_AND_READ_ON_DRIVER,
    HOLD_CHECK_COUNTING_ON_DRIVER,
    HOLD_CHECK_ON_DRIVER,
    RECORD_COLUMNS,
)
from hms_desktop.services.unit_of_work import UnitOfWork
from hms_desktop.store.locks import expiry
from hms_desktop.store.tables import Slot

log = logging.getLogger(__name__)


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
    # The quota (not for the guard of a move: that books nothing new) is counted by the
    # check itself: a patient's hold is one round trip, as a desk's is.
    counting = bool(limit) and counts_online_quota(actor, patient_id)
    now = clinic.now()
    with clinic.db.read_connection() as connection:
        check = HOLD_CHECK_COUNTING_ON_DRIVER if counting else HOLD_CHECK_ON_DRIVER
        found = check.first(
            connection,
            {"slot_id": slot_id, "patient_id": patient_id, "user_id": actor.user_id, "now": now},
        )
        if counting and found is None:  # no slot, no count: asked alone, so it still comes first
            check_online_quota(connection, clinic, actor, patient_id)
    if counting and found is not None:
        refuse_over_quota(clinic, found.upcoming)
    if found is None:
        raise NotFound("Slot does not exist.")
    if as_utc(found.start_at) <= now:
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
    limit = clinic.settings.max_online_bookings_per_patient
    values = {
        "patient_id": patient_id,
        "slot_id": slot_id,
        "appointment_type": appointment_type.value,
        "symptoms": symptoms,
        "now": clinic.now(),
        # Counted by the booking statement itself (statements._INSERT_APPOINTMENT).
        "quota": limit if limit and counts_online_quota(actor, patient_id) else None,
    }
    try:
        with clinic.work(actor) as work:
            book = _book_step_by_step if clinic.db.is_sqlite else _book_in_one_statement
            record, contact = book(work, values)
            outbox.booked(work, record, contact)  # in this transaction: no message for a rollback
            publish_change(work, "book", record)
            if also is not None:
                also(work, record)
    except (SlotAlreadyBooked, SlotBlocked):
        # Someone booked it (or blocked it) between our hold and now: the hold is worthless.
        _drop_hold(clinic, slot_id, hold.token)
        raise
    _drop_hold(clinic, slot_id, hold.token)
    return record


def _book_in_one_statement(
    work: UnitOfWork, values: dict[str, Any]
) -> tuple[AppointmentRecord, outbox.Contact | None]:
    """PostgreSQL: book, audit and read the record and the patient's addresses in one
    statement (one round trip and one SQLAlchemy execution instead of four)."""
    audit = work.audit_values("book", "appointment", "", slot_id=values["slot_id"])
    del audit["entity_id"]  # the new appointment's, taken from the insert
    values = {**values, **{f"audit_{key}": value for key, value in audit.items()}}
    row = BOOK_AND_READ_ON_DRIVER.first(work.connection, values)
    if row is None:
        _refuse_booking(work, values)
    return to_record(row[:RECORD_COLUMNS]), outbox.Contact(*row[RECORD_COLUMNS:])


def _book_step_by_step(
    work: UnitOfWork, values: dict[str, Any]
) -> tuple[AppointmentRecord, outbox.Contact | None]:
    """SQLite: the same steps, one statement each (the outbox reads the addresses)."""
    appointment_id = work.connection.scalar(BOOK, values)
    if appointment_id is None:
        _refuse_booking(work, values)
    work.record("book", "appointment", appointment_id, slot_id=values["slot_id"])
    return load_appointment(work.session, appointment_id), None


def _refuse_booking(work: UnitOfWork, values: dict[str, Any]) -> NoReturn:
    """Nothing was booked: the patient is at their quota, the slot is gone, or leave or a
    holiday now covers it (asked in that order, as the steps were once made). Asked again
    after the statement, so a condition may have changed since: a patient's booking that
    finds neither quota nor leave now was refused by the quota (a booking of theirs was
    cancelled meanwhile), and keeps the hold to try again."""
    check_online_quota(
        work.connection, work.clinic, work.actor, values["patient_id"], now=values["now"]
    )
    blocked = work.connection.scalar(
        select(slot_is_blocked(Slot.doctor_id, Slot.start_at)).where(Slot.id == values["slot_id"])
    )
    if blocked is None:
        raise NotFound("Slot does not exist.")
    if blocked or values["quota"] is None:
        raise SlotBlocked()
    raise TooManyBookings.of(values["quota"])
