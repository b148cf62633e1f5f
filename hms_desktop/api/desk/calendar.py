"""The booking calendar: slots, holds, bookings, changes and the queue of online requests."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hms_desktop.api.deps import ClinicDep, DbInt, DeskUser
from hms_desktop.api.desk.bodies import (
    BookingIn,
    CancelIn,
    HoldIn,
    ReasonIn,
    Released,
    ReleaseIn,
    SlotIn,
    StatusIn,
)
from hms_desktop.api.desk.common import answer
from hms_desktop.api.fields import Instant
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.models import AppointmentRecord, CalendarSlot, Hold
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import scheduling

router = APIRouter(dependencies=EVERY_REQUEST)


@router.get(
    "/calendar",
    response_model=list[CalendarSlot],
    summary="Every slot of these doctors in [start, end) with its state for this desk",
    openapi_extra=access(Kind.CALENDAR, Action.READ),
)
def calendar(
    clinic: ClinicDep,
    actor: DeskUser,
    start: Instant,
    end: Instant,
    doctor_id: Annotated[list[DbInt], Query(max_length=200)],
) -> Any:
    return answer(scheduling.calendar(clinic, actor, doctor_id, start, end))


@router.post(
    "/holds",
    response_model=Hold,
    status_code=201,
    summary="Hold a slot",
    openapi_extra=access(Kind.HOLD, Action.CREATE),
)
def hold_slot(body: HoldIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.hold_slot(clinic, actor, body.slot_id, body.patient_id), 201)


@router.post(
    "/holds/{slot_id}/release",
    response_model=Released,
    summary="Let a hold go",
    openapi_extra=access(Kind.HOLD, Action.RELEASE),
)
def release_hold(slot_id: DbInt, body: ReleaseIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer({"released": scheduling.release_hold(clinic, actor, slot_id, body.token)})


@router.post(
    "/holds/{slot_id}/take-over",
    response_model=Released,
    summary="Release another desk's hold (recorded in the audit log)",
    openapi_extra=access(Kind.HOLD, Action.TAKE_OVER),
)
def take_over_hold(slot_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer({"released": scheduling.take_over_hold(clinic, actor, slot_id)})


@router.post(
    "/appointments",
    response_model=AppointmentRecord,
    status_code=201,
    summary="Confirm a held slot as an appointment",
    openapi_extra=access(Kind.APPOINTMENT, Action.CREATE),
)
def confirm_booking(body: BookingIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    record = scheduling.confirm_booking(
        clinic,
        actor,
        body.slot_id,
        body.patient_id,
        token=body.token,
        appointment_type=body.appointment_type,
        symptoms=body.symptoms,
    )
    return answer(record, 201)


@router.post(
    "/appointments/{appointment_id}/reschedule",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.APPOINTMENT, Action.MOVE),
)
def reschedule(appointment_id: DbInt, body: SlotIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.reschedule_appointment(clinic, actor, appointment_id, body.slot_id))


@router.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.APPOINTMENT, Action.CANCEL),
)
def cancel(
    appointment_id: DbInt, clinic: ClinicDep, actor: DeskUser, body: CancelIn | None = None
) -> Any:
    reason = body.reason if body is not None else ""
    return answer(scheduling.cancel_appointment(clinic, actor, appointment_id, reason=reason))


@router.post(
    "/appointments/{appointment_id}/status",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.APPOINTMENT, Action.SET_STATUS),
)
def set_status(appointment_id: DbInt, body: StatusIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.set_status(clinic, actor, appointment_id, body.status))


@router.get(
    "/requests",
    response_model=list[AppointmentRecord],
    summary="The request queue",
    openapi_extra=access(Kind.REQUEST, Action.READ),
)
def pending_requests(clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.pending_requests(clinic, actor))


@router.post(
    "/requests/{appointment_id}/assign",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.REQUEST, Action.ASSIGN),
)
def assign_request(appointment_id: DbInt, body: SlotIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.assign_request(clinic, actor, appointment_id, body.slot_id))


@router.post(
    "/requests/{appointment_id}/decline",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.REQUEST, Action.DECLINE),
)
def decline_request(
    appointment_id: DbInt, body: ReasonIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return answer(scheduling.decline_request(clinic, actor, appointment_id, body.reason))
