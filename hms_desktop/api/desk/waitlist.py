"""The waitlist over the desk API: the desk's list and offers, and (the policy allowing it,
see `policy.DESK_API_FOR_PATIENTS`) a patient's own entries: add, list, withdraw."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import annotated_types
from fastapi import APIRouter, Query
from pydantic import BaseModel, Strict

from hms_desktop.api.deps import ClinicDep, CurrentUser, DbInt, DeskUser
from hms_desktop.api.desk.common import answer
from hms_desktop.api.fields import Day, Instant, JsonInt, LongText, ShortText, Token
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.enums import AppointmentType
from hms_desktop.domain.models import AppointmentRecord, Hold
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.waitlist import (
    SlotOffer,
    WaitlistEntry,
    WaitlistForm,
    WaitlistPriority,
    WaitlistStatus,
)
from hms_desktop.services import waitlist

router = APIRouter(dependencies=EVERY_REQUEST)


# 0 low … 3 urgent, as a JSON number (not "2", 2.0 or true).
Priority = Annotated[int, Strict(), annotated_types.Interval(ge=0, le=3)]


class StatusFilter(StrEnum):
    ACTIVE = "active"
    FILLED = "filled"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    ALL = "all"


class WaitlistIn(BaseModel):
    patient_id: JsonInt | None = None  # none: the patient calling, for themselves
    first_day: Day
    last_day: Day
    doctor_id: JsonInt | None = None
    specialisation_id: JsonInt | None = None
    preferred_times: ShortText = ""
    priority: Priority = int(WaitlistPriority.NORMAL)
    note: ShortText = ""

    def to_form(self) -> WaitlistForm:
        fields = self.model_dump()
        return WaitlistForm(**{**fields, "priority": WaitlistPriority(fields["priority"])})


class TakeIn(BaseModel):
    slot_id: JsonInt


class FillIn(BaseModel):
    slot_id: JsonInt
    token: Token
    appointment_type: AppointmentType = AppointmentType.OFFLINE
    symptoms: LongText = ""


@router.get(
    "/waitlist",
    response_model=list[WaitlistEntry],
    summary="Waitlist entries (active ones best first); a patient's own only, for a patient",
    openapi_extra=access(Kind.WAITLIST, Action.READ),
)
def entries(
    clinic: ClinicDep,
    actor: CurrentUser,
    status: StatusFilter = StatusFilter.ACTIVE,
    doctor_id: DbInt | None = None,
    patient_id: DbInt | None = None,
) -> Any:
    wanted = None if status is StatusFilter.ALL else WaitlistStatus(status.value)
    found = waitlist.list_entries(clinic, actor, wanted, doctor_id=doctor_id, patient_id=patient_id)
    return answer(found)


@router.post(
    "/waitlist",
    response_model=WaitlistEntry,
    status_code=201,
    summary="Put a patient (a patient: themselves) on the waitlist for a doctor or speciality",
    openapi_extra=access(Kind.WAITLIST, Action.CREATE),
)
def add_entry(body: WaitlistIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return answer(waitlist.add_entry(clinic, actor, body.to_form()), 201)


@router.post(
    "/waitlist/{entry_id}/withdraw",
    response_model=WaitlistEntry,
    summary="Take an entry off the waitlist",
    openapi_extra=access(Kind.WAITLIST, Action.CANCEL),
)
def withdraw(entry_id: DbInt, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return answer(waitlist.withdraw_entry(clinic, actor, entry_id))


@router.get(
    "/waitlist/offers",
    response_model=list[SlotOffer],
    summary="Free slots of these doctors in [start, end) that waiting entries fit",
    openapi_extra=access(Kind.WAITLIST, Action.ASSIGN),
)
def offers(
    clinic: ClinicDep,
    actor: DeskUser,
    start: Instant,
    end: Instant,
    doctor_id: Annotated[list[DbInt], Query(max_length=200)],
) -> Any:
    return answer(waitlist.offers(clinic, actor, doctor_id, start, end))


@router.get(
    "/waitlist/offers/{slot_id}",
    response_model=list[WaitlistEntry],
    summary="Who waits for this free slot, best first",
    openapi_extra=access(Kind.WAITLIST, Action.ASSIGN),
)
def offer_for_slot(slot_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(waitlist.offer_for_slot(clinic, actor, slot_id))


@router.post(
    "/waitlist/{entry_id}/take",
    response_model=Hold,
    status_code=201,
    summary="Hold a slot for a waiting patient (the normal hold)",
    openapi_extra=access(Kind.WAITLIST, Action.ASSIGN),
)
def take(entry_id: DbInt, body: TakeIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(waitlist.take_offer(clinic, actor, entry_id, body.slot_id), 201)


@router.post(
    "/waitlist/{entry_id}/fill",
    response_model=AppointmentRecord,
    status_code=201,
    summary="Book the held slot for the waiting patient and mark the entry filled",
    openapi_extra=access(Kind.WAITLIST, Action.ASSIGN),
)
def fill(entry_id: DbInt, body: FillIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    record = waitlist.fill(
        clinic,
        actor,
        entry_id,
        body.slot_id,
        body.token,
        body.appointment_type,
        body.symptoms,
    )
    return answer(record, 201)
