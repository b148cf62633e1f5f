"""Holding and booking slots, the doctor's day, and the queue of online requests.

The protocol (DESIGN.md): hold with one atomic SET NX in the lock store; confirm inserts the
appointment in one transaction (the partial unique index rejects a racing second booking);
then the hold is released by its owner only. Every change publishes an event.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import (
    FREEING_STATUSES,
    AppointmentStatus,
    AppointmentType,
    Role,
    can_transition,
)
from hms_desktop.domain.errors import (
    AppointmentMissing,
    DoctorMissing,
    DomainError,
    HoldNotYours,
    InvalidTransition,
    LockStoreUnavailable,
    MissingSlot,
    NoHoldFound,
    NotFound,
    NotPatientOrDoctor,
    NotYourAppointment,
    PatientMissing,
    SlotAlreadyBooked,
    SlotInPast,
    SlotLocked,
    TooManyHolds,
    ValidationError,
)
from hms_desktop.domain.models import (
    Actor,
    AppointmentRecord,
    CalendarSlot,
    Hold,
    Page,
    SlotInfo,
    SlotState,
)
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc, local_day_bounds
from hms_desktop.services import access, audit
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.patients import require_patient
from hms_desktop.store.locks import expiry
from hms_desktop.store.tables import Appointment, AvailableTime, Doctor, Patient, Slot, User

log = logging.getLogger(__name__)
_PatientUser = aliased(User, name="patient_user")
_DoctorUser = aliased(User, name="doctor_user")


def _record_query() -> Select:  # type: ignore[type-arg]
    return (
        select(
            Appointment,
            Slot.start_at,
            Slot.duration,
            _PatientUser.first_name,
            _PatientUser.last_name,
            _DoctorUser.first_name,
            _DoctorUser.last_name,
            AvailableTime.time,
        )
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(_PatientUser, _PatientUser.id == Patient.user_id)
        .join(Doctor, Doctor.id == Appointment.doctor_id)
        .join(_DoctorUser, _DoctorUser.id == Doctor.user_id)
        .join(Slot, Slot.id == Appointment.slot_id, isouter=True)
        .join(AvailableTime, AvailableTime.id == Appointment.available_time_id, isouter=True)
    )


def _to_record(row) -> AppointmentRecord:  # type: ignore[no-untyped-def]
    appointment, start, duration, p_first, p_last, d_first, d_last, time_label = row
    return AppointmentRecord(
        id=appointment.id,
        patient_id=appointment.patient_id,
        patient_name=f"{p_first} {p_last}".strip(),
        doctor_id=appointment.doctor_id,
        doctor_name=f"{d_first} {d_last}".strip(),
        slot_id=appointment.slot_id,
        start=as_utc(start) if start is not None else None,
        duration=duration,
        status=AppointmentStatus(appointment.status),
        appointment_type=AppointmentType(appointment.appointment_type),
        symptoms=appointment.symptoms,
        available_time_id=appointment.available_time_id,
        available_time=time_label,
        decline_reason=appointment.decline_reason,
        created_at=as_utc(appointment.created_at),
        updated_at=as_utc(appointment.updated_at),
    )


# Built once: the booking hot path reads a record after every write.
_RECORD_BY_ID = _record_query().where(Appointment.id == bindparam("appointment_id"))


def load_appointment(session: Session, appointment_id: int) -> AppointmentRecord:
    row = session.execute(_RECORD_BY_ID, {"appointment_id": appointment_id}).first()
    if row is None:
        raise AppointmentMissing()
    return _to_record(row)


def _is_live_slot_violation(error: IntegrityError) -> bool:
    text = str(error.orig)
    return "uq_appointments_live_slot" in text or "appointments.slot_id" in text


def _patient_for(actor: Actor, kind: Kind, patient_id: int | None) -> int:
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


def _appointment_owner(appointment: Appointment) -> Owner:
    return Owner(patient_id=appointment.patient_id, doctor_id=appointment.doctor_id)


def _bookable_slot(session: Session, clinic: Clinic, slot_id: int | None) -> Slot:
    if slot_id is None:
        raise MissingSlot()
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise NotFound("Slot does not exist.")
    if as_utc(slot.start_at) <= clinic.now():
        raise SlotInPast()
    return slot


_slots, _appointments, _patients = Slot.__table__, Appointment.__table__, Patient.__table__

# Everything a hold checks in one round trip: the slot and its time, the patient, a live booking.
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
).where(_slots.c.id == bindparam("slot_id"))

# The appointment takes its doctor from the slot in the same statement (one round trip).
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
        ).where(_slots.c.id == bindparam("slot_id")),
    )
    .returning(_appointments.c.id, _appointments.c.doctor_id)
)


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
    patient_id = _patient_for(actor, Kind.HOLD, patient_id)
    if slot_id is None:
        raise MissingSlot()
    with clinic.db.read() as session:
        found = session.execute(_HOLD_CHECK, {"slot_id": slot_id, "patient_id": patient_id}).first()
    if found is None:
        raise NotFound("Slot does not exist.")
    if as_utc(found.start_at) <= clinic.now():
        raise SlotInPast()
    if found.patient_id is None:
        raise PatientMissing()
    if found.booked:
        raise SlotAlreadyBooked()
    doctor_id = found.doctor_id
    wanted = Hold(
        token=str(uuid.uuid4()),
        slot_id=slot_id,
        patient_id=patient_id,
        holder_user_id=actor.user_id,
        holder=actor.username,
        expires_at=expiry(clinic.settings.hold_ttl_ms),
    )
    hold = clinic.locks.acquire(wanted, clinic.settings.hold_ttl_ms, max_per_patient=limit)
    if hold is None:
        raise TooManyHolds.of(limit)
    if hold.token != wanted.token and hold.patient_id != patient_id:
        raise SlotLocked()
    if hold.token != wanted.token and not _may_see_token(actor, hold):
        # The same patient, held by someone else (a desk): theirs to confirm, not ours.
        raise SlotLocked()
    if hold.token == wanted.token:
        clinic.publish(
            "hold",
            slot_id=slot_id,
            doctor_id=doctor_id,
            patient_id=patient_id,
            extra={"holder": actor.username},
        )
    return hold


def _hold_owner(hold: Hold) -> Owner:
    """A hold belongs to whoever holds it (a desk's user, or the patient holding online)."""
    return Owner(user_id=hold.holder_user_id)


def _may_see_token(actor: Actor, hold: Hold) -> bool:
    return policy.allows(actor, Kind.HOLD, Action.REVEAL, _hold_owner(hold))


def _hold_as_seen_by(actor: Actor, hold: Hold) -> Hold:
    """A hold's token only for its holder; who holds it, and for whom, only for those who
    may act on holds (the desk): a doctor sees that a slot is held, and when it frees."""
    if _may_see_token(actor, hold):
        return hold
    if policy.allows(actor, Kind.HOLD, Action.TAKE_OVER):
        return dataclasses.replace(hold, token="")
    return dataclasses.replace(hold, token="", holder="", holder_user_id=None, patient_id=0)


def release_hold(clinic: Clinic, actor: Actor, slot_id: int, token: str) -> bool:
    """Let go of one's own hold (the desk closed the booking without confirming)."""
    hold = clinic.locks.get(slot_id)
    if hold is None or hold.token != token:
        policy.require(actor, Kind.HOLD, Action.RELEASE)
        return False
    policy.require(actor, Kind.HOLD, Action.RELEASE, _hold_owner(hold))
    released = clinic.locks.release(slot_id, token)
    if released:
        _published_release(clinic, hold)
    return released


def take_over_hold(clinic: Clinic, actor: Actor, slot_id: int) -> bool:
    """Release another desk's hold (the patient is at this desk now, or the other desk is
    gone). Recorded in the audit log with whose hold it was."""
    policy.require(actor, Kind.HOLD, Action.TAKE_OVER)
    hold = clinic.locks.get(slot_id)
    if hold is None:
        return False
    released = clinic.locks.release(slot_id, hold.token)
    if released:
        with clinic.db.transaction() as session:
            audit.record(
                session,
                actor,
                "take_over",
                "hold",
                slot_id,
                holder=hold.holder,
                patient_id=hold.patient_id,
            )
        _published_release(clinic, hold)
    return released


def _published_release(clinic: Clinic, hold: Hold) -> None:
    with clinic.db.read() as session:
        doctor_id = session.scalar(select(Slot.doctor_id).where(Slot.id == hold.slot_id))
    clinic.publish("release", slot_id=hold.slot_id, doctor_id=doctor_id, patient_id=hold.patient_id)


@contextmanager
def _guard_new_slot(clinic: Clinic, actor: Actor, slot_id: int, patient_id: int) -> Iterator[None]:
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
) -> AppointmentRecord:
    """Turn a hold into an appointment. The database's unique index is the last guard."""
    if slot_id is None:
        raise MissingSlot()
    patient_id = _patient_for(actor, Kind.APPOINTMENT, patient_id)
    symptoms = validation.clean_text(
        symptoms, field="symptoms", max_length=validation.LONG_TEXT_MAX
    )
    hold = clinic.locks.get(slot_id)
    if hold is None or (token is not None and hold.token != token):
        raise NoHoldFound()
    if hold.patient_id != patient_id:
        raise HoldNotYours()
    if token is None and not _may_see_token(actor, hold) and actor.patient_id != patient_id:
        raise HoldNotYours()
    try:
        with clinic.db.transaction() as session:
            booked = session.execute(
                _BOOK,
                {
                    "patient_id": patient_id,
                    "slot_id": slot_id,
                    "appointment_type": appointment_type.value,
                    "symptoms": symptoms,
                    "now": clinic.now(),
                },
            ).first()
            if booked is None:
                raise NotFound("Slot does not exist.")
            appointment_id, doctor_id = booked
            audit.record(session, actor, "book", "appointment", appointment_id, slot_id=slot_id)
            record = load_appointment(session, appointment_id)
    except IntegrityError as error:
        if _is_live_slot_violation(error):
            # Someone booked it between our hold and now: the hold is worthless, drop it.
            _drop_hold(clinic, slot_id, hold.token)
            raise SlotAlreadyBooked() from error
        raise
    _drop_hold(clinic, slot_id, hold.token)
    clinic.publish(
        "book",
        slot_id=slot_id,
        doctor_id=doctor_id,
        appointment_id=appointment_id,
        patient_id=patient_id,
    )
    return record


def _load_for_change(
    session: Session, actor: Actor, appointment_id: int, action: Action, *, lock: bool = False
) -> Appointment:
    """The appointment, if the actor may take `action` on it (the booking API's words for
    someone else's: "You are not authorized to reschedule the appointment.")."""
    # Refused outright (not even whether it exists) when the actor may do this to none.
    if not policy.allows(actor, Kind.APPOINTMENT, action):
        raise _not_yours(actor)
    # Writers lock the row: two desks changing one appointment at once must not both win.
    appointment = session.get(Appointment, appointment_id, with_for_update=lock)
    if appointment is None:
        raise AppointmentMissing()
    if not policy.allows(actor, Kind.APPOINTMENT, action, _appointment_owner(appointment)):
        raise _not_yours(actor)
    return appointment


def _not_yours(actor: Actor) -> DomainError:
    if actor.role is Role.ANONYMOUS:
        return policy.refusal(actor)
    return NotYourAppointment()


def _move(
    clinic: Clinic,
    actor: Actor,
    appointment_id: int,
    slot_id: int | None,
    *,
    new_status: AppointmentStatus,
    allowed: Sequence[AppointmentStatus],
    action: str,
    permission: Action,
) -> AppointmentRecord:
    """Put an appointment into another slot in one transaction, guarded like a booking."""
    if slot_id is None:
        raise MissingSlot()
    with clinic.db.read() as session:
        current = _load_for_change(session, actor, appointment_id, permission)
        patient_id, old_slot = current.patient_id, current.slot_id
        if AppointmentStatus(current.status) not in allowed:
            raise InvalidTransition()
    if old_slot == slot_id:
        raise SlotAlreadyBooked()
    try:
        with (
            _guard_new_slot(clinic, actor, slot_id, patient_id),
            clinic.db.transaction() as session,
        ):
            slot = _bookable_slot(session, clinic, slot_id)
            moved = session.execute(
                update(Appointment)
                .where(
                    Appointment.id == appointment_id,
                    Appointment.status.in_([s.value for s in allowed]),
                )
                .values(
                    slot_id=slot.id,
                    doctor_id=slot.doctor_id,
                    status=new_status.value,
                    updated_at=clinic.now(),
                )
            )
            if moved.rowcount != 1:
                raise InvalidTransition()
            audit.record(
                session,
                actor,
                action,
                "appointment",
                appointment_id,
                slot_id=slot.id,
                old_slot_id=old_slot,
            )
            record = load_appointment(session, appointment_id)
    except IntegrityError as error:
        if _is_live_slot_violation(error):
            raise SlotAlreadyBooked() from error
        raise
    clinic.publish(
        action,
        slot_id=slot_id,
        old_slot_id=old_slot,
        doctor_id=record.doctor_id,
        appointment_id=appointment_id,
        patient_id=record.patient_id,
    )
    return record


def reschedule_appointment(
    clinic: Clinic, actor: Actor, appointment_id: int, new_slot_id: int | None
) -> AppointmentRecord:
    return _move(
        clinic,
        actor,
        appointment_id,
        new_slot_id,
        new_status=AppointmentStatus.RESCHEDULED,
        allowed=(AppointmentStatus.SCHEDULED, AppointmentStatus.RESCHEDULED),
        action="reschedule",
        permission=Action.MOVE,
    )


def cancel_appointment(clinic: Clinic, actor: Actor, appointment_id: int) -> AppointmentRecord:
    """Cancel; the slot is free again at once (the unique index ignores cancelled rows)."""
    with clinic.db.transaction() as session:
        appointment = _load_for_change(session, actor, appointment_id, Action.CANCEL, lock=True)
        status = AppointmentStatus(appointment.status)
        if status is not AppointmentStatus.CANCELLED:
            if not status.is_open:
                raise InvalidTransition("Only an appointment still ahead can be cancelled.")
            appointment.status = AppointmentStatus.CANCELLED.value
            appointment.updated_at = clinic.now()
            audit.record(session, actor, "cancel", "appointment", appointment_id)
        session.flush()
        record = load_appointment(session, appointment_id)
    _publish_change(clinic, "cancel", record)
    return record


def _publish_change(clinic: Clinic, kind: str, record: AppointmentRecord) -> None:
    clinic.publish(
        kind,
        slot_id=record.slot_id,
        doctor_id=record.doctor_id,
        appointment_id=record.id,
        patient_id=record.patient_id,
    )


def delete_appointment(clinic: Clinic, actor: Actor, appointment_id: int) -> None:
    with clinic.db.transaction() as session:
        appointment = _load_for_change(session, actor, appointment_id, Action.DELETE, lock=True)
        slot_id, doctor_id = appointment.slot_id, appointment.doctor_id
        patient_id = appointment.patient_id
        session.delete(appointment)
        audit.record(session, actor, "delete", "appointment", appointment_id)
    clinic.publish(
        "cancel",
        slot_id=slot_id,
        doctor_id=doctor_id,
        appointment_id=appointment_id,
        patient_id=patient_id,
    )


def set_status(
    clinic: Clinic, actor: Actor, appointment_id: int, status: AppointmentStatus
) -> AppointmentRecord:
    """The doctor's day: arrived, in progress, completed, no-show."""
    with clinic.db.transaction() as session:
        appointment = _load_for_change(session, actor, appointment_id, Action.SET_STATUS, lock=True)
        current = AppointmentStatus(appointment.status)
        if not can_transition(current, status):
            raise InvalidTransition(
                f"An appointment that is {current.value.replace('_', ' ')} cannot become "
                f"{status.value.replace('_', ' ')}."
            )
        appointment.status = status.value
        appointment.updated_at = clinic.now()
        audit.record(session, actor, "status", "appointment", appointment_id, status=status.value)
        session.flush()
        record = load_appointment(session, appointment_id)
    _publish_change(clinic, "status", record)
    return record


# --- requests that came in online ------------------------------------------------------------


def request_appointment(
    clinic: Clinic,
    actor: Actor,
    *,
    doctor_id: int,
    patient_id: int | None = None,
    available_time_id: int | None = None,
    appointment_type: AppointmentType = AppointmentType.OFFLINE,
    symptoms: str = "",
) -> AppointmentRecord:
    """An appointment without a slot (hospital API): it waits in the reception queue."""
    patient_id = _patient_for(actor, Kind.REQUEST, patient_id)
    symptoms = validation.clean_text(
        symptoms, field="symptoms", max_length=validation.LONG_TEXT_MAX
    )
    with clinic.db.transaction() as session:
        if session.get(Doctor, doctor_id) is None:
            raise DoctorMissing()
        if session.get(Patient, patient_id) is None:
            raise PatientMissing()
        if available_time_id is not None and session.get(AvailableTime, available_time_id) is None:
            raise ValidationError("Unknown available time.", field="time")
        appointment = Appointment(
            patient_id=patient_id,
            doctor_id=doctor_id,
            available_time_id=available_time_id,
            appointment_type=appointment_type.value,
            symptoms=symptoms or "",
            status=AppointmentStatus.REQUESTED.value,
            created_at=clinic.now(),
            updated_at=clinic.now(),
        )
        session.add(appointment)
        session.flush()
        audit.record(session, actor, "request", "appointment", appointment.id)
        record = load_appointment(session, appointment.id)
    _publish_change(clinic, "request", record)
    return record


def pending_requests(clinic: Clinic, actor: Actor) -> list[AppointmentRecord]:
    policy.require(actor, Kind.REQUEST, Action.READ)
    with clinic.db.read() as session:
        rows = session.execute(
            _record_query()
            .where(Appointment.status == AppointmentStatus.REQUESTED.value)
            .order_by(Appointment.created_at, Appointment.id)
        )
        return [_to_record(row) for row in rows]


def assign_request(
    clinic: Clinic, actor: Actor, appointment_id: int, slot_id: int | None
) -> AppointmentRecord:
    policy.require(actor, Kind.REQUEST, Action.ASSIGN)
    return _move(
        clinic,
        actor,
        appointment_id,
        slot_id,
        new_status=AppointmentStatus.SCHEDULED,
        allowed=(AppointmentStatus.REQUESTED,),
        action="assign",
        permission=Action.MOVE,
    )


def decline_request(
    clinic: Clinic, actor: Actor, appointment_id: int, reason: str
) -> AppointmentRecord:
    policy.require(actor, Kind.REQUEST, Action.DECLINE)
    reason = validation.clean_text(reason, field="reason", max_length=validation.SHORT_TEXT_MAX)
    if not reason:
        raise ValidationError("Give a reason for declining the request.", field="reason")
    with clinic.db.transaction() as session:
        appointment = session.get(Appointment, appointment_id, with_for_update=True)
        if appointment is None:
            raise AppointmentMissing()
        if appointment.status != AppointmentStatus.REQUESTED.value:
            raise InvalidTransition("Only a waiting request can be declined.")
        appointment.status = AppointmentStatus.DECLINED.value
        appointment.decline_reason = reason
        appointment.updated_at = clinic.now()
        audit.record(session, actor, "decline", "appointment", appointment_id, reason=reason)
        session.flush()
        record = load_appointment(session, appointment_id)
    _publish_change(clinic, "decline", record)
    return record


def update_appointment(
    clinic: Clinic,
    actor: Actor,
    appointment_id: int,
    *,
    doctor_id: int | None = None,
    appointment_type: AppointmentType | None = None,
    symptoms: str | None = None,
    available_time_id: int | None = None,
    cancel: bool | None = None,
) -> AppointmentRecord:
    """The hospital API's PUT/PATCH: details of a request, and its cancel flag."""
    if symptoms is not None:
        symptoms = validation.clean_text(
            symptoms, field="symptoms", max_length=validation.LONG_TEXT_MAX
        )
    try:
        with clinic.db.transaction() as session:
            appointment = _load_for_change(session, actor, appointment_id, Action.UPDATE, lock=True)
            if doctor_id is not None and doctor_id != appointment.doctor_id:
                if appointment.slot_id is not None:
                    raise ValidationError(
                        "A booked appointment changes doctor by rescheduling.", field="doctor"
                    )
                if session.get(Doctor, doctor_id) is None:
                    raise DoctorMissing()
                appointment.doctor_id = doctor_id
            if appointment_type is not None:
                appointment.appointment_type = appointment_type.value
            if symptoms is not None:
                appointment.symptoms = symptoms
            if available_time_id is not None:
                if session.get(AvailableTime, available_time_id) is None:
                    raise ValidationError("Unknown available time.", field="time")
                appointment.available_time_id = available_time_id
            status = AppointmentStatus(appointment.status)
            if cancel is True and status is not AppointmentStatus.CANCELLED:
                appointment.status = AppointmentStatus.CANCELLED.value
            elif cancel is False and status is AppointmentStatus.CANCELLED:
                appointment.status = (
                    AppointmentStatus.SCHEDULED
                    if appointment.slot_id
                    else AppointmentStatus.REQUESTED
                ).value
            appointment.updated_at = clinic.now()
            session.flush()
            audit.record(session, actor, "update", "appointment", appointment_id)
            record = load_appointment(session, appointment_id)
    except IntegrityError as error:
        if _is_live_slot_violation(error):
            raise SlotAlreadyBooked() from error
        raise
    _publish_change(clinic, "update", record)
    return record


# --- reading ----------------------------------------------------------------------------------

# The most doctors a calendar shows side by side.
MAX_DOCTORS = 200


def _appointments_visible(actor: Actor) -> ColumnElement[bool]:
    return access.visible(
        actor,
        Kind.APPOINTMENT,
        Action.READ,
        patient=Appointment.patient_id,
        doctor=Appointment.doctor_id,
    )


def get_appointment(clinic: Clinic, actor: Actor, appointment_id: int) -> AppointmentRecord:
    with clinic.db.read() as session:
        _load_for_change(session, actor, appointment_id, Action.READ)
        return load_appointment(session, appointment_id)


def list_appointments(
    clinic: Clinic,
    actor: Actor,
    *,
    patient_id: int | None = None,
    doctor_id: int | None = None,
    appointment_id: int | None = None,
    with_slot_only: bool = False,
    offset: int = 0,
    limit: int | None = None,
) -> Page:
    """Appointments the actor may see: a patient their own, a doctor theirs, the desk all."""
    query = _record_query().where(_appointments_visible(actor))
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    if doctor_id is not None:
        query = query.where(Appointment.doctor_id == doctor_id)
    if appointment_id is not None:
        query = query.where(Appointment.id == appointment_id)
    if with_slot_only:
        query = query.where(Appointment.slot_id.is_not(None))
    with clinic.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        query = query.order_by(Slot.start_at.is_(None), Slot.start_at, Appointment.id).offset(
            offset
        )
        if limit is not None:
            query = query.limit(limit)
        return Page(items=tuple(_to_record(row) for row in session.execute(query)), total=total)


def my_appointments(clinic: Clinic, actor: Actor) -> list[AppointmentRecord]:
    """The booking API's list: a patient's own bookings, or a doctor's schedule."""
    if actor.patient_id is None and actor.doctor_id is None:
        if actor.role is Role.ANONYMOUS:
            raise policy.refusal(actor)
        raise NotPatientOrDoctor()
    return list(list_appointments(clinic, actor, with_slot_only=True).items)


def patient_history(clinic: Clinic, actor: Actor, patient_id: int) -> list[AppointmentRecord]:
    """A patient's appointments, newest first; a doctor sees those on their own schedule."""
    with clinic.db.read() as session:
        require_patient(session, actor, Action.READ, patient_id)
        rows = session.execute(
            _record_query()
            .where(Appointment.patient_id == patient_id, _appointments_visible(actor))
            .order_by(Slot.start_at.desc(), Appointment.created_at.desc())
        )
        return [_to_record(row) for row in rows]


def doctor_day(clinic: Clinic, actor: Actor, doctor_id: int, day: date) -> list[AppointmentRecord]:
    """A doctor's booked appointments on one local day, in time order."""
    policy.require(actor, Kind.CALENDAR, Action.READ, Owner(doctor_id=doctor_id))
    validation.check_date(day, field="day")
    start, end = local_day_bounds(day, clinic.settings.tz)
    with clinic.db.read() as session:
        rows = session.execute(
            _record_query()
            .where(
                Appointment.doctor_id == doctor_id,
                Slot.start_at >= start,
                Slot.start_at < end,
                Appointment.status.not_in(FREEING_STATUSES),
            )
            .order_by(Slot.start_at)
        )
        return [_to_record(row) for row in rows]


def calendar(
    clinic: Clinic, actor: Actor, doctor_ids: Sequence[int], start: datetime, end: datetime
) -> list[CalendarSlot]:
    """Every slot of these doctors in [start, end) with its state for this desk. A hold's
    token (the key to confirm or release it) is shown only to whoever holds it."""
    doctor_ids = list(dict.fromkeys(doctor_ids))
    for doctor_id in doctor_ids:
        policy.require(actor, Kind.CALENDAR, Action.READ, Owner(doctor_id=doctor_id))
    if len(doctor_ids) > MAX_DOCTORS:
        raise ValidationError(f"Show at most {MAX_DOCTORS} doctors at once.", field="doctor_id")
    start, end = validation.check_window(start, end)
    now = clinic.now()
    with clinic.db.read() as session:
        slots = session.execute(
            select(Slot.id, Slot.doctor_id, Slot.start_at, Slot.duration)
            .where(Slot.doctor_id.in_(doctor_ids), Slot.start_at >= start, Slot.start_at < end)
            .order_by(Slot.start_at, Slot.doctor_id)
        ).all()
        booked = {
            record.slot_id: record
            for record in (
                _to_record(row)
                for row in session.execute(
                    _record_query().where(
                        Appointment.doctor_id.in_(doctor_ids),
                        Slot.start_at >= start,
                        Slot.start_at < end,
                        Appointment.status.not_in(FREEING_STATUSES),
                    )
                )
            )
        }
    holds = clinic.locks.get_many(row.id for row in slots if row.id not in booked)
    result = []
    for row in slots:
        info = SlotInfo(row.id, row.doctor_id, as_utc(row.start_at), row.duration)
        hold = holds.get(row.id)
        if row.id in booked:
            state, appointment = SlotState.BOOKED, booked[row.id]
        elif info.start <= now:
            state, appointment = SlotState.PAST, None
        elif hold is not None:
            mine = hold.holder_user_id == actor.user_id and actor.user_id is not None
            state, appointment = (SlotState.HELD_BY_ME if mine else SlotState.HELD), None
            hold = _hold_as_seen_by(actor, hold)
        else:
            state, appointment = SlotState.FREE, None
        result.append(CalendarSlot(slot=info, state=state, hold=hold, appointment=appointment))
    return result
