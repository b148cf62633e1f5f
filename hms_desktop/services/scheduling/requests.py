"""The queue of appointments that came in without a slot (the hospital API's), and the
desk giving each one a slot or declining it with a reason."""

from __future__ import annotations

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.errors import (
    AppointmentMissing,
    DoctorMissing,
    DoctorNotBookable,
    InvalidTransition,
    PatientMissing,
    ValidationError,
)
from hms_desktop.domain.models import Actor, AppointmentRecord
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling.changes import move_into_slot
from hms_desktop.services.scheduling.holds import patient_for
from hms_desktop.services.scheduling.records import (
    check_online_quota,
    load_appointment,
    publish_change,
    record_query,
    to_record,
)
from hms_desktop.store.tables import Appointment, AvailableTime, Doctor, Patient


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
    patient_id = patient_for(actor, Kind.REQUEST, patient_id)
    symptoms = validation.clean_text(
        symptoms, field="symptoms", max_length=validation.LONG_TEXT_MAX
    )
    with clinic.work(actor) as work:
        session = work.session
        check_online_quota(session, clinic, actor, patient_id)
        doctor = session.get(Doctor, doctor_id)
        if doctor is None:
            raise DoctorMissing()
        if not doctor.is_active:
            raise DoctorNotBookable()
        if session.get(Patient, patient_id) is None:
            raise PatientMissing()
        if available_time_id is not None and session.get(AvailableTime, available_time_id) is None:
            raise ValidationError("Unknown available time.", field="time")
        appointment = Appointment(
            patient_id=patient_id,
            doctor_id=doctor_id,
            available_time_id=available_time_id,
            appointment_type=appointment_type.value,
            symptoms=symptoms,
            status=AppointmentStatus.REQUESTED.value,
            created_at=clinic.now(),
            updated_at=clinic.now(),
        )
        session.add(appointment)
        session.flush()
        work.record("request", "appointment", appointment.id)
        record = load_appointment(session, appointment.id)
        publish_change(work, "request", record)
    return record


def pending_requests(clinic: Clinic, actor: Actor) -> list[AppointmentRecord]:
    policy.require(actor, Kind.REQUEST, Action.READ)
    with clinic.db.read() as session:
        rows = session.execute(
            record_query()
            .where(Appointment.status == AppointmentStatus.REQUESTED.value)
            .order_by(Appointment.created_at, Appointment.id)
        )
        return [to_record(row) for row in rows]


def assign_request(
    clinic: Clinic, actor: Actor, appointment_id: int, slot_id: int | None
) -> AppointmentRecord:
    policy.require(actor, Kind.REQUEST, Action.ASSIGN)
    return move_into_slot(
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
    with clinic.work(actor) as work:
        appointment = work.session.get(Appointment, appointment_id, with_for_update=True)
        if appointment is None:
            raise AppointmentMissing()
        if appointment.status != AppointmentStatus.REQUESTED.value:
            raise InvalidTransition("Only a waiting request can be declined.")
        appointment.status = AppointmentStatus.DECLINED.value
        appointment.decline_reason = reason
        appointment.updated_at = clinic.now()
        work.record("decline", "appointment", appointment_id, reason=reason)
        work.session.flush()
        record = load_appointment(work.session, appointment_id)
        publish_change(work, "decline", record)
    return record
