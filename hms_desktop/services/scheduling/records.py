"""Appointments as the desk and both APIs read them, and the policy's word on changing one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select
from sqlalchemy.orm import Session, aliased

from hms_desktop.domain import policy
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType, Role
from hms_desktop.domain.errors import (
    AppointmentMissing,
    DomainError,
    NotYourAppointment,
    TooManyBookings,
)
from hms_desktop.domain.models import Actor, AppointmentRecord
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling.statements import UPCOMING
from hms_desktop.services.unit_of_work import UnitOfWork
from hms_desktop.store.sql import AnySelect
from hms_desktop.store.tables import Appointment, AvailableTime, Doctor, Patient, Slot, User

_PatientUser = aliased(User, name="patient_user")
_DoctorUser = aliased(User, name="doctor_user")


def record_query() -> AnySelect:
    # Plain columns, not the Appointment entity: a record is read after every booking and
    # listed by the page, and an ORM object per row (identity map, state) costs more than
    # the record built from it.
    return (
        select(
            Appointment.id,
            Appointment.patient_id,
            Appointment.doctor_id,
            Appointment.slot_id,
            Appointment.status,
            Appointment.appointment_type,
            Appointment.symptoms,
            Appointment.available_time_id,
            Appointment.decline_reason,
            Appointment.created_at,
            Appointment.updated_at,
            Slot.start_at,
            Slot.duration,
            _PatientUser.first_name,
            _PatientUser.last_name,
            _DoctorUser.first_name,
            _DoctorUser.last_name,
            AvailableTime.time,
        )
        .select_from(Appointment)
        .join(Patient, Patient.id == Appointment.patient_id)
        .join(_PatientUser, _PatientUser.id == Patient.user_id)
        .join(Doctor, Doctor.id == Appointment.doctor_id)
        .join(_DoctorUser, _DoctorUser.id == Doctor.user_id)
        .join(Slot, Slot.id == Appointment.slot_id, isouter=True)
        .join(AvailableTime, AvailableTime.id == Appointment.available_time_id, isouter=True)
    )


def to_record(row: Sequence[Any]) -> AppointmentRecord:
    (
        appointment_id,
        patient_id,
        doctor_id,
        slot_id,
        status,
        appointment_type,
        symptoms,
        available_time_id,
        decline_reason,
        created_at,
        updated_at,
        start,
        duration,
        p_first,
        p_last,
        d_first,
        d_last,
        time_label,
    ) = row
    return AppointmentRecord(
        id=appointment_id,
        patient_id=patient_id,
        patient_name=f"{p_first} {p_last}".strip(),
        doctor_id=doctor_id,
        doctor_name=f"{d_first} {d_last}".strip(),
        slot_id=slot_id,
        start=as_utc(start) if start is not None else None,
        duration=duration,
        status=AppointmentStatus(status),
        appointment_type=AppointmentType(appointment_type),
        symptoms=symptoms,
        available_time_id=available_time_id,
        available_time=time_label,
        decline_reason=decline_reason,
        created_at=as_utc(created_at),
        updated_at=as_utc(updated_at),
    )


# Built once: the booking hot path reads a record after every write.
_RECORD_BY_ID = record_query().where(Appointment.id == bindparam("appointment_id"))


def load_appointment(session: Session, appointment_id: int) -> AppointmentRecord:
    # On the session's connection (a Core statement needs none of the ORM's execution),
    # after writing what the use case changed through the ORM (no autoflush there).
    session.flush()
    row = session.connection().execute(_RECORD_BY_ID, {"appointment_id": appointment_id}).first()
    if row is None:
        raise AppointmentMissing()
    return to_record(row)


def appointment_owner(appointment: Appointment) -> Owner:
    return Owner(patient_id=appointment.patient_id, doctor_id=appointment.doctor_id)


def not_yours(actor: Actor) -> DomainError:
    if actor.role is Role.ANONYMOUS:
        return policy.refusal(actor)
    return NotYourAppointment()


def load_for_change(
    session: Session, actor: Actor, appointment_id: int, action: Action, *, lock: bool = False
) -> Appointment:
    """The appointment, if the actor may take `action` on it (the booking API's words for
    someone else's: "You are not authorized to reschedule the appointment.")."""
    # Refused outright (not even whether it exists) when the actor may do this to none.
    if not policy.allows(actor, Kind.APPOINTMENT, action):
        raise not_yours(actor)
    # Writers lock the row: two desks changing one appointment at once must not both win.
    appointment = session.get(Appointment, appointment_id, with_for_update=lock)
    if appointment is None:
        raise AppointmentMissing()
    if not policy.allows(actor, Kind.APPOINTMENT, action, appointment_owner(appointment)):
        raise not_yours(actor)
    return appointment


def counts_online_quota(actor: Actor, patient_id: int) -> bool:
    """Whether the online-booking quota applies: a patient booking for themselves (a script
    with one account cannot book the week out); the desk books any number."""
    return actor.role is Role.PATIENT and actor.patient_id == patient_id


def refuse_over_quota(clinic: Clinic, upcoming: int | None) -> None:
    """At most `max_online_bookings_per_patient` upcoming appointments and requests."""
    limit = clinic.settings.max_online_bookings_per_patient
    if (upcoming or 0) >= limit:
        raise TooManyBookings.of(limit)


def check_online_quota(
    session: Session | Connection,
    clinic: Clinic,
    actor: Actor,
    patient_id: int,
    *,
    now: datetime | None = None,
) -> None:
    """The quota's own round trip, where no other statement counts (`counts_online_quota`);
    upcoming as of `now` (a statement's own time), else the clinic's clock."""
    if not counts_online_quota(actor, patient_id):
        return
    connection = session.connection() if isinstance(session, Session) else session
    at = now if now is not None else clinic.now()
    refuse_over_quota(clinic, connection.scalar(UPCOMING, {"patient_id": patient_id, "now": at}))


def publish_change(work: UnitOfWork, kind: str, record: AppointmentRecord) -> None:
    work.publish(
        kind,
        slot_id=record.slot_id,
        doctor_id=record.doctor_id,
        appointment_id=record.id,
        patient_id=record.patient_id,
        start=record.start.isoformat() if record.start else "",
    )
