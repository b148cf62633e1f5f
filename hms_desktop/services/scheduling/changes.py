"""Changes to booked appointments: move, cancel, delete, the doctor's statuses, and the
hospital API's edits. Each is one unit of work, its event sent after it committed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, true, update
from sqlalchemy.orm import Session

from hms_desktop.domain import validation
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType, can_transition
from hms_desktop.domain.errors import (
    DoctorMissing,
    InvalidTransition,
    MissingSlot,
    NotFound,
    SlotAlreadyBooked,
    SlotBlocked,
    SlotInPast,
    ValidationError,
)
from hms_desktop.domain.models import Actor, AppointmentRecord
from hms_desktop.domain.policy import Action
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import outbox
from hms_desktop.services.blocking import slot_is_blocked
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling.holds import guard_new_slot
from hms_desktop.services.scheduling.records import (
    load_appointment,
    load_for_change,
    publish_change,
)
from hms_desktop.store.tables import Appointment, AvailableTime, Doctor, Slot


def _bookable_slot(session: Session, clinic: Clinic, slot_id: int) -> Slot:
    slot = session.get(Slot, slot_id)
    if slot is None:
        raise NotFound("Slot does not exist.")
    if as_utc(slot.start_at) <= clinic.now():
        raise SlotInPast()
    # Checked again inside the move's transaction: leave may have been entered since the
    # guard's hold looked.
    if session.scalar(select(slot_is_blocked(slot.doctor_id, slot.start_at))):
        raise SlotBlocked()
    return slot


def move_into_slot(
    clinic: Clinic,
    actor: Actor,
    appointment_id: int,
    slot_id: int | None,
    *,
    new_status: AppointmentStatus,
    allowed: Sequence[AppointmentStatus],
    action: str,
    permission: Action,
    from_slot_id: int | None = None,
) -> AppointmentRecord:
    """Put an appointment into another slot in one transaction, guarded like a booking.
    With `from_slot_id`, only if it is still in that slot (two desks moving the same
    affected booking at once: one moves it, the other is told it has moved)."""
    if slot_id is None:
        raise MissingSlot()
    with clinic.db.read() as session:
        current = load_for_change(session, actor, appointment_id, permission)
        patient_id, old_slot = current.patient_id, current.slot_id
        if AppointmentStatus(current.status) not in allowed:
            raise InvalidTransition()
        # The time the patient is told it moved from (a request had none).
        old_start = (
            session.scalar(select(Slot.start_at).where(Slot.id == old_slot))
            if old_slot is not None
            else None
        )
    if from_slot_id is not None and old_slot != from_slot_id:
        raise InvalidTransition("The appointment has been moved already.")
    if old_slot == slot_id:
        raise SlotAlreadyBooked()
    with guard_new_slot(clinic, actor, slot_id, patient_id), clinic.work(actor) as work:
        slot = _bookable_slot(work.session, clinic, slot_id)
        moved = work.session.execute(
            update(Appointment)
            .where(
                Appointment.id == appointment_id,
                Appointment.status.in_([s.value for s in allowed]),
                Appointment.slot_id == from_slot_id if from_slot_id is not None else true(),
            )
            .values(
                slot_id=slot.id,
                doctor_id=slot.doctor_id,
                status=new_status.value,
                updated_at=clinic.now(),
            )
        )
        if moved.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult's
            raise InvalidTransition()
        work.record(action, "appointment", appointment_id, slot_id=slot.id, old_slot_id=old_slot)
        record = load_appointment(work.session, appointment_id)
        if old_slot is None:  # a request given its first slot: a booking to the patient
            outbox.booked(work, record)
        else:
            outbox.moved(work, record, old_start)
        work.publish(
            action,
            slot_id=slot_id,
            old_slot_id=old_slot,
            doctor_id=record.doctor_id,
            appointment_id=appointment_id,
            patient_id=record.patient_id,
            start=record.start.isoformat() if record.start else "",
        )
    return record


def reschedule_appointment(
    clinic: Clinic, actor: Actor, appointment_id: int, new_slot_id: int | None
) -> AppointmentRecord:
    return move_into_slot(
        clinic,
        actor,
        appointment_id,
        new_slot_id,
        new_status=AppointmentStatus.RESCHEDULED,
        allowed=(AppointmentStatus.SCHEDULED, AppointmentStatus.RESCHEDULED),
        action="reschedule",
        permission=Action.MOVE,
    )


def cancel_appointment(
    clinic: Clinic, actor: Actor, appointment_id: int, *, reason: str = ""
) -> AppointmentRecord:
    """Cancel; the slot is free again at once (the unique index ignores cancelled rows).
    A `reason` (the doctor's leave) is kept on the appointment and in the audit entry."""
    reason = validation.clean_text(reason, field="reason", max_length=validation.SHORT_TEXT_MAX)
    with clinic.work(actor) as work:
        appointment = load_for_change(work.session, actor, appointment_id, Action.CANCEL, lock=True)
        status = AppointmentStatus(appointment.status)
        if status is not AppointmentStatus.CANCELLED:
            if not status.is_open:
                raise InvalidTransition("Only an appointment still ahead can be cancelled.")
            appointment.status = AppointmentStatus.CANCELLED.value
            appointment.updated_at = clinic.now()
            if reason:
                appointment.decline_reason = reason
                work.record("cancel", "appointment", appointment_id, reason=reason)
            else:
                work.record("cancel", "appointment", appointment_id)
        work.session.flush()
        record = load_appointment(work.session, appointment_id)
        if status is not AppointmentStatus.CANCELLED:
            outbox.cancelled(work, record)
        publish_change(work, "cancel", record)
    return record


def delete_appointment(clinic: Clinic, actor: Actor, appointment_id: int) -> None:
    with clinic.work(actor) as work:
        appointment = load_for_change(work.session, actor, appointment_id, Action.DELETE, lock=True)
        outbox.withdraw_reminders(work.session, appointment_id)
        work.publish(
            "cancel",
            slot_id=appointment.slot_id,
            doctor_id=appointment.doctor_id,
            appointment_id=appointment_id,
            patient_id=appointment.patient_id,
        )
        work.session.delete(appointment)
        work.record("delete", "appointment", appointment_id)


_BEFORE_ARRIVAL = (AppointmentStatus.SCHEDULED, AppointmentStatus.RESCHEDULED)


def _stamp_status_time(appointment: Appointment, status: AppointmentStatus, now: datetime) -> None:
    """When the patient arrived and when the doctor started (the reports' waiting time):
    the first time the step is taken, kept through the steps after it; a step taken back
    (a status set by mistake) clears the time, so the real one is stamped later."""
    if status is AppointmentStatus.ARRIVED:
        appointment.arrived_at = appointment.arrived_at or now
        appointment.in_progress_at = None
    elif status is AppointmentStatus.IN_PROGRESS:
        appointment.in_progress_at = appointment.in_progress_at or now
    elif status in _BEFORE_ARRIVAL:
        appointment.arrived_at = appointment.in_progress_at = None


def set_status(
    clinic: Clinic, actor: Actor, appointment_id: int, status: AppointmentStatus
) -> AppointmentRecord:
    """The doctor's day: arrived, in progress, completed, no-show."""
    with clinic.work(actor) as work:
        appointment = load_for_change(
            work.session, actor, appointment_id, Action.SET_STATUS, lock=True
        )
        current = AppointmentStatus(appointment.status)
        if not can_transition(current, status):
            raise InvalidTransition(
                f"An appointment that is {current.value.replace('_', ' ')} cannot become "
                f"{status.value.replace('_', ' ')}."
            )
        appointment.status = status.value
        appointment.updated_at = clinic.now()
        _stamp_status_time(appointment, status, appointment.updated_at)
        work.record("status", "appointment", appointment_id, status=status.value)
        work.session.flush()
        record = load_appointment(work.session, appointment_id)
        publish_change(work, "status", record)
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
    """The hospital API's PUT/PATCH: details of an appointment still ahead, and its cancel
    flag. A cancelled appointment stays cancelled: bringing one back would skip the hold
    that keeps a slot for one desk at a time (a new booking is made instead)."""
    if symptoms is not None:
        symptoms = validation.clean_text(
            symptoms, field="symptoms", max_length=validation.LONG_TEXT_MAX
        )
    with clinic.work(actor) as work:
        session = work.session
        appointment = load_for_change(session, actor, appointment_id, Action.UPDATE, lock=True)
        if not AppointmentStatus(appointment.status).is_open:
            # Cancelled, declined or already seen: closed. A new booking goes through a hold.
            raise InvalidTransition("Only an appointment still ahead can be changed.")
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
        if cancel:
            appointment.status = AppointmentStatus.CANCELLED.value
        appointment.updated_at = clinic.now()
        session.flush()
        work.record("update", "appointment", appointment_id, cancel=bool(cancel))
        record = load_appointment(session, appointment_id)
        if cancel:
            outbox.cancelled(work, record)
        publish_change(work, "update", record)
    return record
