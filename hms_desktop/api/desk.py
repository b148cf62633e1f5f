"""The desk API (`/desk/v1`): the desktop's `Backend` interface over HTTP, for remote desks.

Every route is one `Backend` method: parse, call the same service the local implementation
calls, answer with the record as `to_jsonable` writes it. Errors travel as
`{"error", "kind", "field"}` (api/errors.py) and the client re-raises the same exception.
`GET /desk/v1/events` streams change events as server-sent events.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.errors import TokenInvalid
from hms_desktop.domain.models import (
    AppointmentRecord,
    CalendarSlot,
    DoctorDetails,
    DoctorSummary,
    FreeSlot,
    Hold,
    NamedItem,
    PatientForm,
    PatientRecord,
    UserInfo,
    WorkingHours,
    to_jsonable,
)
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import accounts, catalogue, doctors, patients, scheduling
from hms_desktop.services.catalogue import NamedList

from . import desk_events
from .deps import ClinicDep, DbInt, DeskUser, PresentedToken
from .fields import (
    Day,
    Email,
    Instant,
    LongText,
    Name,
    Password,
    Search,
    ShortText,
    TimeOfDay,
    Token,
)
from .openapi import PUBLIC, access
from .ratelimit import EVERY_REQUEST, client_address

log = logging.getLogger(__name__)

router = APIRouter(prefix="/desk/v1", tags=["desk"])
# Everything but the log-in itself counts against the per-user request budget.
limited = APIRouter(dependencies=EVERY_REQUEST)


def _json(value: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(to_jsonable(value), status_code=status_code)


# --- bodies -----------------------------------------------------------------------------------


class Credentials(BaseModel):
    username: Name
    password: Password


class RefreshBody(BaseModel):
    refresh: Token


class SessionOut(BaseModel):
    access: str
    refresh: str
    user: UserInfo


class AccessOut(BaseModel):
    access: str


class PatientFormIn(BaseModel):
    full_name: Name
    gender: Name = ""
    date_of_birth: Day | None = None
    phone: ShortText = ""
    email: Email = ""
    address: ShortText = ""
    username: Name = ""
    password: Password = ""

    def to_form(self) -> PatientForm:
        return PatientForm(**self.model_dump())


class NamedIn(BaseModel):
    name: Name
    slug: Name = ""


class WorkingHoursIn(BaseModel):
    weekday: DbInt
    start: TimeOfDay
    end: TimeOfDay
    slot_minutes: DbInt = 30


class SlotCount(BaseModel):
    slots: int


class HoldIn(BaseModel):
    slot_id: DbInt
    patient_id: DbInt


class ReleaseIn(BaseModel):
    token: Token


class Released(BaseModel):
    released: bool


class BookingIn(BaseModel):
    slot_id: DbInt
    patient_id: DbInt
    token: Token
    appointment_type: AppointmentType = AppointmentType.OFFLINE
    symptoms: LongText = ""


class SlotIn(BaseModel):
    slot_id: DbInt


class StatusIn(BaseModel):
    status: AppointmentStatus


class ReasonIn(BaseModel):
    reason: ShortText


# --- session ----------------------------------------------------------------------------------


@router.post(
    "/session",
    response_model=SessionOut,
    summary="Log in (staff and doctors): access + refresh tokens",
    openapi_extra=access(PUBLIC),
)
def login(body: Credentials, request: Request, clinic: ClinicDep) -> Any:
    user = accounts.log_in_at_desk(
        clinic, body.username, body.password, client=client_address(request)
    )
    tokens = accounts.issue_tokens(clinic, user)
    return _json({"access": tokens.access, "refresh": tokens.refresh, "user": user})


@router.post(
    "/session/refresh",
    response_model=AccessOut,
    summary="A new access token",
    openapi_extra=access(PUBLIC),
)
def refresh(body: RefreshBody, clinic: ClinicDep) -> Any:
    return _json({"access": accounts.refresh_access(clinic, body.refresh)})


@router.post(
    "/session/logout",
    status_code=204,
    summary="Log out: both tokens are revoked",
    openapi_extra=access(PUBLIC),
)
def logout(body: RefreshBody, clinic: ClinicDep, token: PresentedToken) -> None:
    accounts.revoke_token(clinic, body.refresh, ("refresh",))
    if token is not None:
        try:
            accounts.revoke_token(clinic, token, ("access",))
        except TokenInvalid:
            log.debug("logout: the access token had already expired")


@limited.get(
    "/session",
    response_model=UserInfo,
    summary="Who is logged in",
    openapi_extra=access(Kind.ACCOUNT, Action.READ),
)
def current_session(clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(accounts.get_user(clinic, actor, actor.user_id or 0))


# --- patients ---------------------------------------------------------------------------------


@limited.get(
    "/patients",
    response_model=list[PatientRecord],
    summary="Search patients",
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def search_patients(
    clinic: ClinicDep,
    actor: DeskUser,
    q: Annotated[Search, Query(description="a name fragment, phone prefix or birth date")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    return _json(patients.search_patients(clinic, actor, q, limit))


@limited.get(
    "/patients/{patient_id:int}",
    response_model=PatientRecord,
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def get_patient(patient_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(patients.get_patient(clinic, actor, patient_id))


@limited.post(
    "/patients/duplicates",
    response_model=list[PatientRecord],
    summary="Patients this form may duplicate (same name and birth date, or same phone)",
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def find_likely_duplicates(body: PatientFormIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(patients.find_likely_duplicates(clinic, actor, body.to_form()))


@limited.post(
    "/patients",
    response_model=PatientRecord,
    status_code=201,
    openapi_extra=access(Kind.PATIENT, Action.CREATE),
)
def register_patient(body: PatientFormIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(patients.register_patient(clinic, actor, body.to_form()), 201)


@limited.put(
    "/patients/{patient_id:int}",
    response_model=PatientRecord,
    openapi_extra=access(Kind.PATIENT, Action.UPDATE),
)
def update_patient(
    patient_id: DbInt, body: PatientFormIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return _json(patients.update_patient(clinic, actor, patient_id, body.to_form()))


@limited.get(
    "/patients/{patient_id:int}/history",
    response_model=list[AppointmentRecord],
    openapi_extra=access(Kind.APPOINTMENT, Action.READ),
)
def patient_history(patient_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.patient_history(clinic, actor, patient_id))


# --- doctors and catalogue --------------------------------------------------------------------


@limited.get(
    "/specialisations",
    response_model=list[NamedItem],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def specialisations(clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(catalogue.list_named(clinic, actor, NamedList.SPECIALISATIONS))


@limited.post(
    "/specialisations",
    response_model=NamedItem,
    status_code=201,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_specialisation(body: NamedIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    item = catalogue.create_named(clinic, actor, NamedList.SPECIALISATIONS, body.name, body.slug)
    return _json(item, 201)


@limited.get(
    "/designations",
    response_model=list[NamedItem],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def designations(clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(catalogue.list_named(clinic, actor, NamedList.DESIGNATIONS))


@limited.post(
    "/designations",
    response_model=NamedItem,
    status_code=201,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_designation(body: NamedIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(
        catalogue.create_named(clinic, actor, NamedList.DESIGNATIONS, body.name, body.slug), 201
    )


@limited.get(
    "/doctors", response_model=list[DoctorSummary], openapi_extra=access(Kind.DOCTOR, Action.READ)
)
def list_doctors(
    clinic: ClinicDep,
    actor: DeskUser,
    specialisation_id: DbInt | None = None,
    designation_id: DbInt | None = None,
) -> Any:
    return _json(
        doctors.list_doctors(
            clinic, actor, specialisation_id=specialisation_id, designation_id=designation_id
        )
    )


@limited.get(
    "/doctors/{doctor_id}",
    response_model=DoctorDetails,
    openapi_extra=access(Kind.DOCTOR, Action.READ),
)
def doctor_details(doctor_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(doctors.doctor_details(clinic, actor, doctor_id))


@limited.put(
    "/doctors/{doctor_id}/working-hours",
    response_model=SlotCount,
    summary="Replace a doctor's weekly hours; answers how many slots now lie ahead",
    openapi_extra=access(Kind.DOCTOR, Action.UPDATE),
)
def set_working_hours(
    doctor_id: DbInt, body: list[WorkingHoursIn], clinic: ClinicDep, actor: DeskUser
) -> Any:
    hours = [WorkingHours(**window.model_dump()) for window in body]
    return _json({"slots": doctors.set_working_hours(clinic, actor, doctor_id, hours)})


@limited.get(
    "/doctors/{doctor_id}/day",
    response_model=list[AppointmentRecord],
    openapi_extra=access(Kind.CALENDAR, Action.READ),
)
def doctor_day(doctor_id: DbInt, day: Day, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.doctor_day(clinic, actor, doctor_id, day))


@limited.get(
    "/free-slots",
    response_model=list[FreeSlot],
    summary="Free slots of every doctor of a speciality in [start, end)",
    openapi_extra=access(Kind.SLOT, Action.READ),
)
def free_slots_by_speciality(
    speciality: Search, start: Instant, end: Instant, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return _json(doctors.free_slots_by_speciality(clinic, actor, speciality, start, end))


# --- calendar and booking ---------------------------------------------------------------------


@limited.get(
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
    return _json(scheduling.calendar(clinic, actor, doctor_id, start, end))


@limited.post(
    "/holds",
    response_model=Hold,
    status_code=201,
    summary="Hold a slot",
    openapi_extra=access(Kind.HOLD, Action.CREATE),
)
def hold_slot(body: HoldIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.hold_slot(clinic, actor, body.slot_id, body.patient_id), 201)


@limited.post(
    "/holds/{slot_id}/release",
    response_model=Released,
    summary="Let a hold go",
    openapi_extra=access(Kind.HOLD, Action.RELEASE),
)
def release_hold(slot_id: DbInt, body: ReleaseIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json({"released": scheduling.release_hold(clinic, actor, slot_id, body.token)})


@limited.post(
    "/holds/{slot_id}/take-over",
    response_model=Released,
    summary="Release another desk's hold (recorded in the audit log)",
    openapi_extra=access(Kind.HOLD, Action.TAKE_OVER),
)
def take_over_hold(slot_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json({"released": scheduling.take_over_hold(clinic, actor, slot_id)})


@limited.post(
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
    return _json(record, 201)


@limited.post(
    "/appointments/{appointment_id}/reschedule",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.APPOINTMENT, Action.MOVE),
)
def reschedule(appointment_id: DbInt, body: SlotIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.reschedule_appointment(clinic, actor, appointment_id, body.slot_id))


@limited.post(
    "/appointments/{appointment_id}/cancel",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.APPOINTMENT, Action.CANCEL),
)
def cancel(appointment_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.cancel_appointment(clinic, actor, appointment_id))


@limited.post(
    "/appointments/{appointment_id}/status",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.APPOINTMENT, Action.SET_STATUS),
)
def set_status(appointment_id: DbInt, body: StatusIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.set_status(clinic, actor, appointment_id, body.status))


@limited.get(
    "/requests",
    response_model=list[AppointmentRecord],
    summary="The request queue",
    openapi_extra=access(Kind.REQUEST, Action.READ),
)
def pending_requests(clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.pending_requests(clinic, actor))


@limited.post(
    "/requests/{appointment_id}/assign",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.REQUEST, Action.ASSIGN),
)
def assign_request(appointment_id: DbInt, body: SlotIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return _json(scheduling.assign_request(clinic, actor, appointment_id, body.slot_id))


@limited.post(
    "/requests/{appointment_id}/decline",
    response_model=AppointmentRecord,
    openapi_extra=access(Kind.REQUEST, Action.DECLINE),
)
def decline_request(
    appointment_id: DbInt, body: ReasonIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return _json(scheduling.decline_request(clinic, actor, appointment_id, body.reason))


router.include_router(limited)
router.include_router(desk_events.router)
