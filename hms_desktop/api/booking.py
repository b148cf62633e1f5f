# ruff: noqa: N815 - field names are the booking API document's own (camelCase on the wire)
"""The booking API (seed 000): patients register, log in with a cookie session, hold a slot,
confirm, reschedule, cancel; doctors and their free slots. Paths have no trailing slash."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    AuthenticationFailed,
    NoDoctorsAvailable,
    NotPatientOrDoctor,
    SlotAlreadyBooked,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import AppointmentRecord
from hms_desktop.domain.schedule import iso_millis, local_midnight_utc
from hms_desktop.domain.validation import clean_gender, split_full_name
from hms_desktop.services import accounts, doctors, profiles, scheduling
from hms_desktop.services.clinic import Clinic

from .answer_cache import AnswerCacheDep
from .deps import SESSION_COOKIE, BearerDep, ClinicDep, CurrentUser, DbInt, presented_token
from .ratelimit import RateLimitsDep, client_address, default_rate_limit

router = APIRouter(tags=["booking API"], dependencies=[Depends(default_rate_limit)])


class ErrorBody(BaseModel):
    error: str


ERRORS = {code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 422, 429, 503)}


# --- shapes -----------------------------------------------------------------------------


class NewPatient(BaseModel):
    username: str
    password: str
    full_name: str
    gender: str = ""
    dob: str | None = Field(default=None, description="a date (YYYY-MM-DD) or ISO 8601 instant")


class PatientCreated(BaseModel):
    userId: int
    userName: str
    fullName: str
    gender: str
    dob: str | None


class UsernameExists(BaseModel):
    message: str


class Credentials(BaseModel):
    username: str
    password: str


class Message(BaseModel):
    message: str


class SlotChoice(BaseModel):
    """The slot, as `slot`; the original client sends `newSlot` or `appointmentId` too."""

    model_config = ConfigDict(extra="allow")

    slot: DbInt | None = None
    newSlot: DbInt | None = None
    appointmentId: DbInt | str | None = None

    def slot_id(self) -> int | None:
        for value in (self.slot, self.newSlot, self.appointmentId):
            if isinstance(value, int):
                return value
            if isinstance(value, str) and value.strip().isdigit():
                return int(value)
        return None

    def hold_token(self) -> str | None:
        """POST /appointments/me returns the hold token as `appointmentId`."""
        if isinstance(self.appointmentId, str) and not self.appointmentId.strip().isdigit():
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
        instant = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValidationError("dob must be a date (YYYY-MM-DD).", field="dob") from error
    if instant.tzinfo is None:
        return instant.date()
    return instant.astimezone(clinic.settings.tz).date()


def _parse_instant(text: str, clinic: Clinic, name: str) -> datetime:
    try:
        instant = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValidationError(f"{name} must be an ISO 8601 date and time.", field=name) from error
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=clinic.settings.tz)
    return instant


# --- accounts and sessions ----------------------------------------------------------------


@router.post(
    "/patients",
    status_code=status.HTTP_201_CREATED,
    response_model=PatientCreated,
    responses={**ERRORS, 400: {"model": UsernameExists | ErrorBody}},
    summary="Register a patient",
)
def register_patient(
    body: NewPatient, request: Request, clinic: ClinicDep, limits: RateLimitsDep
) -> PatientCreated | JSONResponse:
    address = client_address(request)
    limits.check_login(address, body.username)
    first, last = split_full_name(body.full_name)
    birth_date = _parse_birth_date(body.dob, clinic)
    try:
        user = accounts.register_patient_account(
            clinic,
            username=body.username,
            password=body.password,
            first_name=first,
            last_name=last,
            gender=body.gender,
            date_of_birth=birth_date,
        )
    except UsernameTaken as error:
        limits.record_login_failure(address, body.username)
        return JSONResponse({"message": error.message}, status_code=400)
    return PatientCreated(
        userId=user.id,
        userName=user.username,
        fullName=user.full_name,
        gender=clean_gender(body.gender),
        dob=_local_date_millis(birth_date, clinic),
    )


@router.post(
    "/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=Message,
    responses=ERRORS,
    summary="Log in: sets the session cookie",
)
def create_session(
    body: Credentials,
    request: Request,
    response: Response,
    clinic: ClinicDep,
    limits: RateLimitsDep,
) -> Message:
    address = client_address(request)
    limits.check_login(address, body.username)
    try:
        user = accounts.authenticate(clinic, body.username, body.password)
    except AuthenticationFailed:
        limits.record_login_failure(address, body.username)
        raise
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
    responses=ERRORS,
    summary="Log out: the session is revoked for good",
)
def delete_session(
    request: Request, clinic: ClinicDep, user: CurrentUser, bearer: BearerDep
) -> Response:
    token = presented_token(request, bearer)
    assert token is not None  # CurrentUser guarantees one
    accounts.revoke_token(clinic, token)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")
    return response


# --- holding and booking ------------------------------------------------------------------


@router.post(
    "/appointments/me",
    status_code=status.HTTP_201_CREATED,
    response_model=HoldCreated,
    responses=ERRORS,
    summary="Hold a slot for the logged-in patient",
)
def hold_slot(body: SlotChoice, clinic: ClinicDep, user: CurrentUser) -> HoldCreated:
    hold = scheduling.hold_slot(clinic, user, body.slot_id())
    return HoldCreated(appointmentId=hold.token)


@router.put(
    "/appointments/me",
    response_model=BookingAppointment,
    responses=ERRORS,
    summary="Confirm the held slot as an appointment",
)
def confirm_booking(body: SlotChoice, clinic: ClinicDep, user: CurrentUser) -> BookingAppointment:
    record = scheduling.confirm_booking(clinic, user, body.slot_id(), token=body.hold_token())
    return _appointment(record, clinic)


@router.put(
    "/appointments/{appointment_id}",
    response_model=BookingAppointment,
    responses=ERRORS,
    summary="Reschedule an appointment to another slot",
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
    "/appointments/{appointment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="Cancel an appointment",
)
def cancel(appointment_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    scheduling.cancel_appointment(clinic, user, appointment_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/appointments",
    response_model=list[BookingAppointment],
    responses=ERRORS,
    summary="The patient's appointments, or the doctor's schedule",
)
def my_appointments(clinic: ClinicDep, user: CurrentUser) -> list[BookingAppointment]:
    if user.role not in (Role.PATIENT, Role.DOCTOR):
        raise NotPatientOrDoctor()
    page = scheduling.list_appointments(clinic, user, with_slot_only=True)
    return [_appointment(record, clinic) for record in page.items]


# --- doctors ------------------------------------------------------------------------------


@router.get(
    "/doctors",
    response_model=list[DoctorListItem],
    responses=ERRORS,
    summary="All doctors with their speciality",
)
def list_doctors(clinic: ClinicDep, user: CurrentUser) -> JSONResponse:
    return JSONResponse(
        [
            {"doctor_id": item.id, "full_name": item.full_name, "speciality": item.speciality}
            for item in profiles.doctor_listing(clinic)
        ]
    )


@router.get(
    "/doctors/specialities/{name}",
    response_model=list[SpecialitySlot],
    responses=ERRORS,
    summary="Free slots of a speciality's doctors in a time window",
)
def speciality_slots(
    name: str,
    clinic: ClinicDep,
    answers: AnswerCacheDep,
    user: CurrentUser,
    start_time: Annotated[str | None, Query(alias="startTime")] = None,
    end_time: Annotated[str | None, Query(alias="endTime")] = None,
) -> Response:
    if not start_time or not end_time:
        raise ValidationError("Start time and end time are required.")
    start = _parse_instant(start_time, clinic, "startTime")
    end = _parse_instant(end_time, clinic, "endTime")
    body = answers.answer(
        ("speciality", name.strip().lower(), start, end),
        lambda: _encode_speciality_slots(clinic, name, start, end),
    )
    return Response(body, media_type="application/json")


def _encode_speciality_slots(clinic: Clinic, name: str, start: datetime, end: datetime) -> bytes:
    found = doctors.free_slots_by_speciality(clinic, name, start, end)
    if not found:
        raise NoDoctorsAvailable()
    # A week of a busy speciality is thousands of slots sharing few start times: plain
    # dicts, each distinct start formatted once.
    stamps: dict[datetime, str] = {}
    return JSONResponse(
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


@router.get(
    "/doctors/{doctor_id}",
    response_model=DoctorProfile,
    responses=ERRORS,
    summary="A doctor's details and free future slots",
)
def doctor_profile(doctor_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> DoctorProfile:
    details = doctors.doctor_details(clinic, doctor_id)
    now = clinic.now()
    free = doctors.free_slots(clinic, [doctor_id], now, now + doctors.MAX_WINDOW)
    tz = clinic.settings.tz
    return DoctorProfile(
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
