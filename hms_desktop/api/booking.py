# ruff: noqa: N815 - field names are the booking API document's own (camelCase on the wire)
"""The booking API (seed 000): patients register, log in with a cookie session, hold a slot,
confirm, reschedule, cancel; doctors and their free slots. Paths have no trailing slash."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from hms_desktop.domain.errors import (
    NoDoctorsAvailable,
    SlotAlreadyBooked,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import Actor, AppointmentRecord
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.schedule import iso_millis, local_midnight_utc
from hms_desktop.domain.validation import (
    as_record_id,
    check_instant,
    clean_gender,
    split_full_name,
)
from hms_desktop.services import accounts, doctors, hospital_records, scheduling
from hms_desktop.services.clinic import Clinic

from .answer_cache import AnswerCacheDep, public_answer
from .deps import SESSION_COOKIE, ClinicDep, CurrentUser, DbInt, PresentedToken
from .fields import Name, Password, Search, ShortText, Token
from .openapi import PUBLIC, access
from .patient_answers import PatientAnswers
from .ratelimit import EVERY_REQUEST, client_address

router = APIRouter(tags=["booking API"], dependencies=EVERY_REQUEST)


# --- shapes -----------------------------------------------------------------------------


class NewPatient(BaseModel):
    username: Name
    password: Password
    full_name: Name
    gender: Name = ""
    dob: Name | None = Field(default=None, description="a date (YYYY-MM-DD) or ISO 8601 instant")


class PatientCreated(BaseModel):
    userId: int
    userName: str
    fullName: str
    gender: str
    dob: str | None


class UsernameExists(BaseModel):
    message: str


class Credentials(BaseModel):
    username: Name
    password: Password


class Message(BaseModel):
    message: str


class SlotChoice(BaseModel):
    """The slot, as `slot`; the original client sends `newSlot` or `appointmentId` too."""

    model_config = ConfigDict(extra="allow")

    slot: DbInt | None = None
    newSlot: DbInt | None = None
    appointmentId: DbInt | Token | None = None

    def slot_id(self) -> int | None:
        for value in (self.slot, self.newSlot, self.appointmentId):
            if isinstance(value, int):
                return value
            if isinstance(value, str) and as_record_id(value) is not None:
                return as_record_id(value)
        return None

    def hold_token(self) -> str | None:
        """POST /appointments/me returns the hold token as `appointmentId`."""
        if isinstance(self.appointmentId, str) and as_record_id(self.appointmentId) is None:
            return self.appointmentId
        return None


class HoldCreated(BaseModel):
    appointmentId: str


class BookingAppointment(BaseModel):
    appointment_id: int
    doctor_name: str
    patient_id: int
    patient_name: str
    slot_date: str | None
    start_time: str | None
    duration: int | None
    status: str


class DoctorListItem(BaseModel):
    doctor_id: int
    full_name: str
    speciality: str | None


_DOCTOR_LIST = TypeAdapter(list[DoctorListItem])


class AvailableSlot(BaseModel):
    slotId: int
    slotDate: str
    startTime: str
    duration: int


class DoctorProfile(BaseModel):
    full_name: str
    gender: str | None
    dob: str | None
    speciality: str | None
    description: str | None
    fees: int | None
    availableTimeSlots: list[AvailableSlot]


class SpecialitySlot(BaseModel):
    doctor_id: int
    full_name: str
    gender: str | None
    fees: int | None
    slot_id: int
    slot_time: str
    duration: int


def _local_date_millis(day: date | None, clinic: Clinic) -> str | None:
    """A date as the booking API writes it: local midnight, in UTC, with milliseconds."""
    if day is None:
        return None
    midnight = datetime.combine(day, datetime.min.time(), tzinfo=clinic.settings.tz)
    return iso_millis(midnight)


def _appointment(record: AppointmentRecord, clinic: Clinic) -> BookingAppointment:
    tz = clinic.settings.tz
    start = record.start
    return BookingAppointment(
        appointment_id=record.id,
        doctor_name=record.doctor_name,
        patient_id=record.patient_id,
        patient_name=record.patient_name,
        slot_date=iso_millis(local_midnight_utc(start, tz)) if start else None,
        start_time=start.astimezone(tz).strftime("%H:%M:%S") if start else None,
        duration=record.duration,
        status=record.status.booking_word,
    )


def _parse_birth_date(text: str | None, clinic: Clinic) -> date | None:
    if not text:
        return None
    try:
        if len(text.strip()) == 10:
            return date.fromisoformat(text.strip())
        instant = check_instant(datetime.fromisoformat(text.strip()), field="dob")
    except ValueError as error:
        raise ValidationError("dob must be a date (YYYY-MM-DD).", field="dob") from error
    return instant.astimezone(clinic.settings.tz).date()


def _parse_instant(text: str, clinic: Clinic, name: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValidationError(f"{name} must be an ISO 8601 date and time.", field=name) from error
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=clinic.settings.tz)
    return check_instant(instant, field=name)


# --- accounts and sessions ----------------------------------------------------------------


@router.post(
    "/patients",
    status_code=status.HTTP_201_CREATED,
    response_model=PatientCreated,
    summary="Register a patient",
    openapi_extra=access(Kind.ACCOUNT, Action.CREATE),
)
def register_patient(
    body: NewPatient, request: Request, clinic: ClinicDep, user: CurrentUser
) -> PatientCreated | JSONResponse:
    first, last = split_full_name(body.full_name)
    birth_date = _parse_birth_date(body.dob, clinic)
    try:
        created = accounts.register_patient_account(
            clinic,
            user,
            client=client_address(request),
            username=body.username,
            password=body.password,
            first_name=first,
            last_name=last,
            gender=body.gender,
            date_of_birth=birth_date,
        )
    except UsernameTaken as error:
        return JSONResponse({"message": error.message}, status_code=400)
    return PatientCreated(
        userId=created.id,
        userName=created.username,
        fullName=created.full_name,
        gender=clean_gender(body.gender),
        dob=_local_date_millis(birth_date, clinic),
    )


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=Message,
    summary="Log in: sets the session cookie",
    openapi_extra=access(PUBLIC),
)
def create_session(
    body: Credentials, request: Request, response: Response, clinic: ClinicDep
) -> Message:
    user = accounts.log_in(clinic, body.username, body.password, client=client_address(request))
    response.set_cookie(
        SESSION_COOKIE,
        accounts.issue_session_token(clinic, user),
        max_age=clinic.settings.refresh_token_days * 86_400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return Message(message="Session created.")


@router.delete(
    "/sessions",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Log out: the session is revoked for good",
    openapi_extra=access(Kind.ACCOUNT, Action.UPDATE),
)
def delete_session(clinic: ClinicDep, user: CurrentUser, token: PresentedToken) -> Response:
    accounts.end_session(clinic, user, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --- holding and booking ------------------------------------------------------------------


@router.post(
    "/appointments/me",
    status_code=status.HTTP_201_CREATED,
    response_model=HoldCreated,
    summary="Hold a slot for the logged-in patient",
    openapi_extra=access(Kind.HOLD, Action.CREATE),
)
def hold_slot(body: SlotChoice, clinic: ClinicDep, user: CurrentUser) -> HoldCreated:
    return hold_for(clinic, user, body)


def hold_for(clinic: Clinic, user: Actor, body: SlotChoice) -> HoldCreated:
    """The route's work, which api/booking_writes.py answers with before the router too."""
    hold = scheduling.hold_slot(clinic, user, body.slot_id())
    return HoldCreated(appointmentId=hold.token)


@router.put(
    "/appointments/me",
    response_model=BookingAppointment,
    summary="Confirm the held slot as an appointment",
    openapi_extra=access(Kind.APPOINTMENT, Action.CREATE),
)
def confirm_booking(body: SlotChoice, clinic: ClinicDep, user: CurrentUser) -> BookingAppointment:
    return booking_for(clinic, user, body)


def booking_for(clinic: Clinic, user: Actor, body: SlotChoice) -> BookingAppointment:
    """The route's work, which api/booking_writes.py answers with before the router too."""
    record = scheduling.confirm_booking(clinic, user, body.slot_id(), token=body.hold_token())
    return _appointment(record, clinic)


@router.put(
    "/appointments/{appointment_id:int}",
    response_model=BookingAppointment,
    summary="Reschedule an appointment to another slot",
    openapi_extra=access(Kind.APPOINTMENT, Action.MOVE),
)
def reschedule(
    appointment_id: DbInt, body: SlotChoice, clinic: ClinicDep, user: CurrentUser
) -> BookingAppointment:
    slot_id = body.slot if body.slot is not None else body.newSlot
    if slot_id is None and isinstance(body.appointmentId, int):
        slot_id = body.appointmentId
    try:
        record = scheduling.reschedule_appointment(clinic, user, appointment_id, slot_id)
    except SlotAlreadyBooked as error:
        # The seed writes this one message without its full stop.
        raise SlotAlreadyBooked("Slot is already booked") from error
    return _appointment(record, clinic)


@router.delete(
    "/appointments/{appointment_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Cancel an appointment",
    openapi_extra=access(Kind.APPOINTMENT, Action.CANCEL),
)
def cancel(appointment_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    scheduling.cancel_appointment(clinic, user, appointment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/appointments",
    response_model=list[BookingAppointment],
    summary="The patient's appointments, or the doctor's schedule",
    openapi_extra=access(Kind.APPOINTMENT, Action.READ),
)
async def my_appointments(request: Request, clinic: ClinicDep, user: CurrentUser) -> Response:
    """A patient's list is kept for them (api/patient_answers.py; api/fast_path.py answers
    it again before FastAPI's router); anyone else's is read every time."""
    answers: PatientAnswers = request.app.state.patient_answers
    body = await answers.answer(user, lambda: encode_appointments(clinic, user))
    return Response(body, media_type="application/json")


def encode_appointments(clinic: Clinic, user: Actor) -> bytes:
    """The list as FastAPI rendered `list[BookingAppointment]` (JSONResponse's bytes)."""
    records = scheduling.my_appointments(clinic, user)
    return bytes(
        JSONResponse(
            [_appointment(record, clinic).model_dump(mode="json") for record in records]
        ).body
    )


# --- doctors ------------------------------------------------------------------------------


@router.get(
    "/doctors",
    response_model=list[DoctorListItem],
    summary="All doctors with their speciality",
    openapi_extra=access(Kind.DOCTOR, Action.READ),
)
async def list_doctors(
    request: Request, clinic: ClinicDep, answers: AnswerCacheDep, user: CurrentUser
) -> Response:
    return await public_answer(
        request, answers, user, (Kind.DOCTOR, Action.READ), lambda: _encode_doctors(clinic, user)
    )


def _encode_doctors(clinic: Clinic, user: Actor) -> bytes:
    return _DOCTOR_LIST.dump_json(
        [
            DoctorListItem(doctor_id=item.id, full_name=item.full_name, speciality=item.speciality)
            for item in hospital_records.doctor_listing(clinic, user)
        ]
    )


@router.get(
    "/doctors/specialities/{name}",
    response_model=list[SpecialitySlot],
    summary="Free slots of a speciality's doctors in a time window",
    openapi_extra=access(Kind.SLOT, Action.READ),
)
async def speciality_slots(
    request: Request,
    name: Search,
    clinic: ClinicDep,
    answers: AnswerCacheDep,
    user: CurrentUser,
    start_time: Annotated[ShortText | None, Query(alias="startTime")] = None,
    end_time: Annotated[ShortText | None, Query(alias="endTime")] = None,
) -> Response:
    if not start_time or not end_time:
        raise ValidationError("Start time and end time are required.")
    start = _parse_instant(start_time, clinic, "startTime")
    end = _parse_instant(end_time, clinic, "endTime")
    return await public_answer(
        request,
        answers,
        user,
        (Kind.SLOT, Action.READ),
        lambda: _encode_speciality_slots(clinic, user, name, start, end),
    )


def _encode_speciality_slots(
    clinic: Clinic, user: Actor, name: str, start: datetime, end: datetime
) -> bytes:
    found = doctors.free_slots_by_speciality(clinic, user, name, start, end)
    if not found:
        raise NoDoctorsAvailable()
    # A week of a busy speciality is thousands of slots sharing few start times: plain
    # dicts, each distinct start formatted once.
    stamps: dict[datetime, str] = {}
    # Starlette's body is bytes here, though typed as possibly a memoryview.
    return bytes(
        JSONResponse(
            [
                {
                    "doctor_id": item.doctor_id,
                    "full_name": item.doctor_name,
                    "gender": item.gender or None,
                    "fees": item.fee,
                    "slot_id": item.slot_id,
                    "slot_time": stamps.get(item.start)
                    or stamps.setdefault(item.start, iso_millis(item.start)),
                    "duration": item.duration,
                }
                for item in found
            ]
        ).body
    )


@router.get(
    "/doctors/{doctor_id}",
    response_model=DoctorProfile,
    summary="A doctor's details and free future slots",
    openapi_extra=access(Kind.DOCTOR, Action.READ),
)
async def doctor_profile(
    request: Request,
    doctor_id: DbInt,
    clinic: ClinicDep,
    answers: AnswerCacheDep,
    user: CurrentUser,
) -> Response:
    return await public_answer(
        request,
        answers,
        user,
        (Kind.DOCTOR, Action.READ),
        lambda: _encode_profile(clinic, user, doctor_id),
    )


def _encode_profile(clinic: Clinic, user: Actor, doctor_id: int) -> bytes:
    details = doctors.doctor_details(clinic, user, doctor_id)
    now = clinic.now()
    free = doctors.free_slots(clinic, user, [doctor_id], now, now + doctors.MAX_WINDOW)
    tz = clinic.settings.tz
    return (
        DoctorProfile(
            full_name=details.summary.full_name,
            gender=details.summary.gender or None,
            dob=_local_date_millis(details.date_of_birth, clinic),
            speciality=details.summary.speciality,
            description=details.description or None,
            fees=details.summary.fee,
            availableTimeSlots=[
                AvailableSlot(
                    slotId=slot.id,
                    slotDate=iso_millis(local_midnight_utc(slot.start, tz)),
                    startTime=slot.start.astimezone(tz).strftime("%H:%M:%S"),
                    duration=slot.duration,
                )
                for slot in free
            ],
        )
        .model_dump_json()
        .encode()
    )
