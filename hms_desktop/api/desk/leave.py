"""Leave, public holidays and blocked time, and rebooking the appointments they affect."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from hms_desktop.api.deps import ClinicDep, DbInt, DeskUser
from hms_desktop.api.desk.bodies import MoveAffectedIn, ReasonIn, TimeBlockIn
from hms_desktop.api.desk.common import answer
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.models import AffectedBooking, AppointmentRecord, MoveReport, TimeBlock
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import leave

router = APIRouter(dependencies=EVERY_REQUEST)


@router.get(
    "/time-blocks",
    response_model=list[TimeBlock],
    summary="Leave, holidays and blocked time not over yet (or all, with include_past)",
    openapi_extra=access(Kind.LEAVE, Action.READ),
)
def time_blocks(clinic: ClinicDep, actor: DeskUser, include_past: bool = False) -> Any:
    return answer(leave.list_blocks(clinic, actor, include_past=include_past))


@router.post(
    "/time-blocks",
    response_model=TimeBlock,
    status_code=201,
    summary="Enter leave, a holiday or blocked time: its free slots stop being bookable",
    openapi_extra=access(Kind.LEAVE, Action.CREATE),
)
def add_time_block(body: TimeBlockIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(leave.add_block(clinic, actor, body.to_form()), 201)


@router.delete(
    "/time-blocks/{block_id}",
    status_code=204,
    summary="Remove a block: its slots are bookable again",
    openapi_extra=access(Kind.LEAVE, Action.DELETE),
)
def remove_time_block(block_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Response:
    leave.remove_block(clinic, actor, block_id)
    return Response(status_code=204)


@router.get(
    "/affected-appointments",
    response_model=list[AffectedBooking],
    summary="Booked appointments inside a block (this one, or any)",
    openapi_extra=access(Kind.LEAVE, Action.READ),
)
def affected_bookings(clinic: ClinicDep, actor: DeskUser, block_id: DbInt | None = None) -> Any:
    return answer(leave.affected_bookings(clinic, actor, block_id))


@router.post(
    "/affected-appointments/move",
    response_model=MoveReport,
    summary="Move affected appointments to the next free slots; reports those not moved",
    openapi_extra=access(Kind.APPOINTMENT, Action.MOVE),
)
def move_affected(body: MoveAffectedIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    report = leave.move_affected(
        clinic, actor, body.appointment_ids, other_doctors=body.other_doctors
    )
    return answer(report)


@router.post(
    "/appointments/{appointment_id}/cancel-with-reason",
    response_model=AppointmentRecord,
    summary="Cancel an appointment, keeping the reason (the doctor's leave)",
    openapi_extra=access(Kind.APPOINTMENT, Action.CANCEL),
)
def cancel_affected(
    appointment_id: DbInt, body: ReasonIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return answer(leave.cancel_affected(clinic, actor, appointment_id, body.reason))
