"""Reading appointments and the calendar, each narrowed to what the actor may see."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, select

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import FREEING_STATUSES, Role
from hms_desktop.domain.errors import DoctorMissing, NotPatientOrDoctor, ValidationError
from hms_desktop.domain.models import (
    Actor,
    AppointmentRecord,
    CalendarSlot,
    Page,
    SlotInfo,
    SlotState,
)
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc, local_day_bounds
from hms_desktop.services import access
from hms_desktop.services.blocking import block_reason
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.patients import require_patient
from hms_desktop.services.scheduling.holds import held_here, hold_as_seen_by
from hms_desktop.services.scheduling.records import (
    load_appointment,
    load_for_change,
    record_query,
    to_record,
)
from hms_desktop.store.sql import AnySelect, page_of
from hms_desktop.store.tables import Appointment, Doctor, Slot

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
        load_for_change(session, actor, appointment_id, Action.READ)
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
    query = _visible_records(actor, patient_id, doctor_id, appointment_id, with_slot_only)
    with clinic.db.read() as session:
        return page_of(session, query, offset, limit, to_record)


def _visible_records(
    actor: Actor,
    patient_id: int | None,
    doctor_id: int | None,
    appointment_id: int | None,
    with_slot_only: bool,
) -> AnySelect:
    query = record_query().where(_appointments_visible(actor))
    if patient_id is not None:
        query = query.where(Appointment.patient_id == patient_id)
    if doctor_id is not None:
        query = query.where(Appointment.doctor_id == doctor_id)
    if appointment_id is not None:
        query = query.where(Appointment.id == appointment_id)
    if with_slot_only:
        query = query.where(Appointment.slot_id.is_not(None))
    return query.order_by(Slot.start_at.is_(None), Slot.start_at, Appointment.id)


def my_appointments(clinic: Clinic, actor: Actor) -> list[AppointmentRecord]:
    """The booking API's list: a patient's own bookings, or a doctor's schedule."""
    if actor.patient_id is None and actor.doctor_id is None:
        if actor.role is Role.ANONYMOUS:
            raise policy.refusal(actor)
        raise NotPatientOrDoctor()
    # The whole list, so no page count (a second query on every patient's list).
    query = _visible_records(actor, None, None, None, with_slot_only=True)
    with clinic.db.read() as session:
        return [to_record(row) for row in session.connection().execute(query)]


def patient_history(clinic: Clinic, actor: Actor, patient_id: int) -> list[AppointmentRecord]:
    """A patient's appointments, newest first; a doctor sees those on their own schedule."""
    with clinic.db.read() as session:
        require_patient(
            session, actor, Action.READ, patient_id, clinic.settings.default_phone_region
        )
        rows = session.execute(
            record_query()
            .where(Appointment.patient_id == patient_id, _appointments_visible(actor))
            .order_by(Slot.start_at.desc(), Appointment.created_at.desc())
        )
        return [to_record(row) for row in rows]


def doctor_day(clinic: Clinic, actor: Actor, doctor_id: int, day: date) -> list[AppointmentRecord]:
    """A doctor's booked appointments on one local day, in time order."""
    policy.require(actor, Kind.CALENDAR, Action.READ, Owner(doctor_id=doctor_id))
    validation.check_date(day, field="day")
    start, end = local_day_bounds(day, clinic.settings.tz)
    with clinic.db.read() as session:
        if session.get(Doctor, doctor_id) is None:
            raise DoctorMissing()
        rows = session.execute(
            record_query()
            .where(
                Appointment.doctor_id == doctor_id,
                Slot.start_at >= start,
                Slot.start_at < end,
                Appointment.status.not_in(FREEING_STATUSES),
            )
            .order_by(Slot.start_at)
        )
        return [to_record(row) for row in rows]


def clinic_day(clinic: Clinic, actor: Actor, day: date) -> list[AppointmentRecord]:
    """Every doctor's booked appointments on one local day, in time order: the desk's
    arrivals list (a doctor sees their own)."""
    visible = access.visible(actor, Kind.CALENDAR, Action.READ, doctor=Appointment.doctor_id)
    validation.check_date(day, field="day")
    start, end = local_day_bounds(day, clinic.settings.tz)
    with clinic.db.read() as session:
        rows = session.execute(
            record_query()
            .where(
                visible,
                Slot.start_at >= start,
                Slot.start_at < end,
                Appointment.status.not_in(FREEING_STATUSES),
            )
            .order_by(Slot.start_at, Appointment.doctor_id)
        )
        return [to_record(row) for row in rows]


def calendar(
    clinic: Clinic, actor: Actor, doctor_ids: Sequence[int], start: datetime, end: datetime
) -> list[CalendarSlot]:
    """Every slot of these doctors in [start, end) with its state for this desk (a free slot
    in leave or a holiday is BLOCKED, with the reason as its note). A hold's token (the key
    to confirm or release it) is shown only to whoever holds it."""
    doctor_ids = list(dict.fromkeys(doctor_ids))
    for doctor_id in doctor_ids:
        policy.require(actor, Kind.CALENDAR, Action.READ, Owner(doctor_id=doctor_id))
    if len(doctor_ids) > MAX_DOCTORS:
        raise ValidationError(f"Show at most {MAX_DOCTORS} doctors at once.", field="doctor_id")
    start, end = validation.check_window(start, end)
    now = clinic.now()
    with clinic.db.read() as session:
        slots = session.execute(
            select(
                Slot.id,
                Slot.doctor_id,
                Slot.start_at,
                Slot.duration,
                block_reason(Slot.doctor_id, Slot.start_at).label("blocked"),
            )
            .where(Slot.doctor_id.in_(doctor_ids), Slot.start_at >= start, Slot.start_at < end)
            .order_by(Slot.start_at, Slot.doctor_id)
        ).all()
        booked = {
            record.slot_id: record
            for record in (
                to_record(row)
                for row in session.execute(
                    record_query().where(
                        Appointment.doctor_id.in_(doctor_ids),
                        Slot.start_at >= start,
                        Slot.start_at < end,
                        Appointment.status.not_in(FREEING_STATUSES),
                    )
                )
            )
        }
    holds = clinic.locks.get_many(
        row.id for row in slots if row.id not in booked and row.blocked is None
    )
    result = []
    for row in slots:
        info = SlotInfo(row.id, row.doctor_id, as_utc(row.start_at), row.duration)
        hold = holds.get(row.id)
        if row.id in booked:
            state, appointment = SlotState.BOOKED, booked[row.id]
        elif info.start <= now:
            state, appointment = SlotState.PAST, None
        elif row.blocked is not None:
            result.append(CalendarSlot(slot=info, state=SlotState.BLOCKED, note=row.blocked))
            continue
        elif hold is not None:
            state = SlotState.HELD_BY_ME if held_here(actor, hold) else SlotState.HELD
            appointment = None
            hold = hold_as_seen_by(actor, hold)
        else:
            state, appointment = SlotState.FREE, None
        result.append(CalendarSlot(slot=info, state=state, hold=hold, appointment=appointment))
    return result
