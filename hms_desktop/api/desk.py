"""The desk API (`/desk/v1`): the desktop's `Backend` interface over HTTP, for remote desks.

Every route is one `Backend` method: parse, call the same service the local implementation
calls, answer with the record as `to_jsonable` writes it. Errors travel as
`{"error", "kind", "field"}` (api/errors.py) and the client re-raises the same exception.
`GET /desk/v1/events` streams change events as server-sent events.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.errors import AuthenticationFailed, TokenInvalid
from hms_desktop.domain.models import (
    AppointmentRecord,
    CalendarSlot,
    ChangeEvent,
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
from hms_desktop.services import accounts, catalogue, doctors, patients, scheduling
from hms_desktop.store.events import Subscription
from hms_desktop.store.tables import Designation, Specialisation

from .deps import BearerDep, ClinicDep, CurrentUser
from .ratelimit import RateLimitsDep, client_address, default_rate_limit

log = logging.getLogger(__name__)

# A comment line this often keeps proxies from closing an idle stream and lets the
# desktop notice a dead connection (it gives up after a few missed heartbeats).
HEARTBEAT_SECONDS = 10.0

router = APIRouter(prefix="/desk/v1", tags=["desk"])
# Everything but the log-in itself counts against the per-user request budget.
limited = APIRouter(dependencies=[Depends(default_rate_limit)])


def _json(value: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(to_jsonable(value), status_code=status_code)


# --- bodies -----------------------------------------------------------------------------------


class Credentials(BaseModel):
    username: str
    password: str


class RefreshBody(BaseModel):
    refresh: str


class SessionOut(BaseModel):
    access: str
    refresh: str
    user: UserInfo


class AccessOut(BaseModel):
    access: str


class PatientFormIn(BaseModel):
    full_name: str
    gender: str = ""
    date_of_birth: date | None = None
    phone: str = ""
    email: str = ""
    address: str = ""
    username: str = ""
    password: str = ""

    def to_form(self) -> PatientForm:
        return PatientForm(**self.model_dump())


class NamedIn(BaseModel):
    name: str
    slug: str = ""


class WorkingHoursIn(BaseModel):
    weekday: int
    start: time
    end: time
    slot_minutes: int = 30


class SlotCount(BaseModel):
    slots: int


class HoldIn(BaseModel):
    slot_id: int
    patient_id: int


class ReleaseIn(BaseModel):
    token: str


class Released(BaseModel):
    released: bool


class BookingIn(BaseModel):
    slot_id: int
    patient_id: int
    token: str
    appointment_type: AppointmentType = AppointmentType.OFFLINE
    symptoms: str = ""


class SlotIn(BaseModel):
    slot_id: int


class StatusIn(BaseModel):
    status: AppointmentStatus


class ReasonIn(BaseModel):
    reason: str


# --- session ----------------------------------------------------------------------------------


@router.post("/session", response_model=SessionOut, summary="Log in: access + refresh tokens")
def login(body: Credentials, request: Request, clinic: ClinicDep, limits: RateLimitsDep) -> Any:
    address = client_address(request)
    limits.check_login(address, body.username)
    try:
        user = accounts.authenticate(clinic, body.username, body.password)
    except AuthenticationFailed:
        limits.record_login_failure(address, body.username)
        raise
    tokens = accounts.issue_tokens(clinic, user)
    return _json({"access": tokens.access, "refresh": tokens.refresh, "user": user})


@router.post("/session/refresh", response_model=AccessOut, summary="A new access token")
def refresh(body: RefreshBody, clinic: ClinicDep) -> Any:
    return _json({"access": accounts.refresh_access(clinic, body.refresh)})


@router.post("/session/logout", status_code=204, summary="Log out: both tokens are revoked")
def logout(body: RefreshBody, clinic: ClinicDep, bearer: BearerDep) -> None:
    accounts.revoke_token(clinic, body.refresh, ("refresh",))
    if bearer is not None and bearer.credentials:
        try:
            accounts.revoke_token(clinic, bearer.credentials, ("access",))
        except TokenInvalid:
            log.debug("logout: the access token had already expired")


@limited.get("/session", response_model=UserInfo, summary="Who is logged in")
def current_session(clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(accounts.get_user(clinic, actor.user_id or 0))


# --- patients ---------------------------------------------------------------------------------


@limited.get("/patients", response_model=list[PatientRecord], summary="Search patients")
def search_patients(
    clinic: ClinicDep,
    actor: CurrentUser,
    q: Annotated[str, Query(description="a name fragment, phone prefix or birth date")] = "",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Any:
    return _json(patients.search_patients(clinic, actor, q, limit))


@limited.get("/patients/{patient_id}", response_model=PatientRecord)
def get_patient(patient_id: int, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(patients.get_patient(clinic, actor, patient_id))


@limited.post(
    "/patients/duplicates",
    response_model=list[PatientRecord],
    summary="Patients this form may duplicate (same name and birth date, or same phone)",
)
def find_likely_duplicates(body: PatientFormIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(patients.find_likely_duplicates(clinic, actor, body.to_form()))


@limited.post("/patients", response_model=PatientRecord, status_code=201)
def register_patient(body: PatientFormIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(patients.register_patient(clinic, actor, body.to_form()), 201)


@limited.put("/patients/{patient_id}", response_model=PatientRecord)
def update_patient(
    patient_id: int, body: PatientFormIn, clinic: ClinicDep, actor: CurrentUser
) -> Any:
    return _json(patients.update_patient(clinic, actor, patient_id, body.to_form()))


@limited.get("/patients/{patient_id}/history", response_model=list[AppointmentRecord])
def patient_history(patient_id: int, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.patient_history(clinic, actor, patient_id))


# --- doctors and catalogue --------------------------------------------------------------------


@limited.get("/specialisations", response_model=list[NamedItem])
def specialisations(clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(catalogue.list_named(clinic, Specialisation))


@limited.post("/specialisations", response_model=NamedItem, status_code=201)
def create_specialisation(body: NamedIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    item = catalogue.create_named(clinic, actor, Specialisation, body.name, body.slug)
    return _json(item, 201)


@limited.get("/designations", response_model=list[NamedItem])
def designations(clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(catalogue.list_named(clinic, Designation))


@limited.post("/designations", response_model=NamedItem, status_code=201)
def create_designation(body: NamedIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(catalogue.create_named(clinic, actor, Designation, body.name, body.slug), 201)


@limited.get("/doctors", response_model=list[DoctorSummary])
def list_doctors(
    clinic: ClinicDep,
    actor: CurrentUser,
    specialisation_id: int | None = None,
    designation_id: int | None = None,
) -> Any:
    return _json(
        doctors.list_doctors(
            clinic, specialisation_id=specialisation_id, designation_id=designation_id
        )
    )


@limited.get("/doctors/{doctor_id}", response_model=DoctorDetails)
def doctor_details(doctor_id: int, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(doctors.doctor_details(clinic, doctor_id))


@limited.put(
    "/doctors/{doctor_id}/working-hours",
    response_model=SlotCount,
    summary="Replace a doctor's weekly hours; answers how many slots now lie ahead",
)
def set_working_hours(
    doctor_id: int, body: list[WorkingHoursIn], clinic: ClinicDep, actor: CurrentUser
) -> Any:
    hours = [WorkingHours(**window.model_dump()) for window in body]
    return _json({"slots": doctors.set_working_hours(clinic, actor, doctor_id, hours)})


@limited.get("/doctors/{doctor_id}/day", response_model=list[AppointmentRecord])
def doctor_day(doctor_id: int, day: date, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.doctor_day(clinic, actor, doctor_id, day))


@limited.get(
    "/free-slots",
    response_model=list[FreeSlot],
    summary="Free slots of every doctor of a speciality in [start, end)",
)
def free_slots_by_speciality(
    speciality: str, start: datetime, end: datetime, clinic: ClinicDep, actor: CurrentUser
) -> Any:
    return _json(doctors.free_slots_by_speciality(clinic, speciality, start, end))


# --- calendar and booking ---------------------------------------------------------------------


@limited.get(
    "/calendar",
    response_model=list[CalendarSlot],
    summary="Every slot of these doctors in [start, end) with its state for this desk",
)
def calendar(
    clinic: ClinicDep,
    actor: CurrentUser,
    start: datetime,
    end: datetime,
    doctor_id: Annotated[list[int], Query()],
) -> Any:
    return _json(scheduling.calendar(clinic, actor, doctor_id, start, end))


@limited.post("/holds", response_model=Hold, status_code=201, summary="Hold a slot")
def hold_slot(body: HoldIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.hold_slot(clinic, actor, body.slot_id, body.patient_id), 201)


@limited.post("/holds/{slot_id}/release", response_model=Released, summary="Let a hold go")
def release_hold(slot_id: int, body: ReleaseIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json({"released": scheduling.release_hold(clinic, actor, slot_id, body.token)})


@limited.post(
    "/appointments",
    response_model=AppointmentRecord,
    status_code=201,
    summary="Confirm a held slot as an appointment",
)
def confirm_booking(body: BookingIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
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


@limited.post("/appointments/{appointment_id}/reschedule", response_model=AppointmentRecord)
def reschedule(appointment_id: int, body: SlotIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.reschedule_appointment(clinic, actor, appointment_id, body.slot_id))


@limited.post("/appointments/{appointment_id}/cancel", response_model=AppointmentRecord)
def cancel(appointment_id: int, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.cancel_appointment(clinic, actor, appointment_id))


@limited.post("/appointments/{appointment_id}/status", response_model=AppointmentRecord)
def set_status(appointment_id: int, body: StatusIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.set_status(clinic, actor, appointment_id, body.status))


@limited.get("/requests", response_model=list[AppointmentRecord], summary="The request queue")
def pending_requests(clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.pending_requests(clinic, actor))


@limited.post("/requests/{appointment_id}/assign", response_model=AppointmentRecord)
def assign_request(appointment_id: int, body: SlotIn, clinic: ClinicDep, actor: CurrentUser) -> Any:
    return _json(scheduling.assign_request(clinic, actor, appointment_id, body.slot_id))


@limited.post("/requests/{appointment_id}/decline", response_model=AppointmentRecord)
def decline_request(
    appointment_id: int, body: ReasonIn, clinic: ClinicDep, actor: CurrentUser
) -> Any:
    return _json(scheduling.decline_request(clinic, actor, appointment_id, body.reason))


# --- live changes -----------------------------------------------------------------------------


async def _event_stream(
    queue: asyncio.Queue[ChangeEvent], subscription: Subscription
) -> AsyncIterator[str]:
    try:
        # At once, so the desk knows it is subscribed before it relies on the stream.
        yield ": connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": heartbeat\n\n"
                continue
            yield f"data: {json.dumps(to_jsonable(event))}\n\n"
    finally:
        # The desk went away (or the server stops): stop listening, without blocking the loop.
        asyncio.get_running_loop().run_in_executor(None, subscription.close)


@limited.get(
    "/events",
    response_class=StreamingResponse,
    summary="Change events as server-sent events",
    description=(
        "A `text/event-stream`: each change on any desk as `data: <ChangeEvent JSON>`, and a "
        f"`: heartbeat` comment every {HEARTBEAT_SECONDS:.0f} s. After a dropped connection "
        "the desk reconnects and reloads what it shows."
    ),
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
)
async def events(clinic: ClinicDep, actor: CurrentUser) -> StreamingResponse:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[ChangeEvent] = asyncio.Queue()

    def deliver(event: ChangeEvent) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        except RuntimeError:  # the server's loop is already closed: nobody is listening
            log.debug("change event after the stream closed: %s", event.kind)

    subscription = await asyncio.to_thread(clinic.events.subscribe, deliver)
    return StreamingResponse(
        _event_stream(queue, subscription),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


router.include_router(limited)
