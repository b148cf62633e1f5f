"""The desk's view of the clinic: doctors, their hours and days, the catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from hms_desktop.api.deps import ClinicDep, DbInt, DeskUser
from hms_desktop.api.desk.bodies import NamedIn, WorkingHoursIn
from hms_desktop.api.desk.common import answer
from hms_desktop.api.fields import Day, Instant, Search
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.models import (
    AppointmentRecord,
    DoctorDetails,
    DoctorSummary,
    FreeSlot,
    HoursSaved,
    NamedItem,
    WorkingHours,
)
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.schedule import MAX_WINDOWS
from hms_desktop.services import catalogue, doctors, hours, scheduling
from hms_desktop.services.catalogue import NamedList

router = APIRouter(dependencies=EVERY_REQUEST)


@router.get(
    "/specialisations",
    response_model=list[NamedItem],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def specialisations(clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(catalogue.list_named(clinic, actor, NamedList.SPECIALISATIONS))


@router.post(
    "/specialisations",
    response_model=NamedItem,
    status_code=201,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_specialisation(body: NamedIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    item = catalogue.create_named(clinic, actor, NamedList.SPECIALISATIONS, body.name, body.slug)
    return answer(item, 201)


@router.get(
    "/designations",
    response_model=list[NamedItem],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def designations(clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(catalogue.list_named(clinic, actor, NamedList.DESIGNATIONS))


@router.post(
    "/designations",
    response_model=NamedItem,
    status_code=201,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_designation(body: NamedIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(
        catalogue.create_named(clinic, actor, NamedList.DESIGNATIONS, body.name, body.slug), 201
    )


@router.get(
    "/doctors", response_model=list[DoctorSummary], openapi_extra=access(Kind.DOCTOR, Action.READ)
)
def list_doctors(
    clinic: ClinicDep,
    actor: DeskUser,
    specialisation_id: DbInt | None = None,
    designation_id: DbInt | None = None,
) -> Any:
    return answer(
        doctors.list_doctors(
            clinic, actor, specialisation_id=specialisation_id, designation_id=designation_id
        )
    )


@router.get(
    "/doctors/{doctor_id}",
    response_model=DoctorDetails,
    openapi_extra=access(Kind.DOCTOR, Action.READ),
)
def doctor_details(doctor_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctors.doctor_details(clinic, actor, doctor_id))


@router.put(
    "/doctors/{doctor_id}/working-hours",
    response_model=HoursSaved,
    summary=(
        "Replace a doctor's weekly hours; answers how many slots they make ahead, how many "
        "held slots were kept, and the booked appointments now outside the hours"
    ),
    openapi_extra=access(Kind.DOCTOR, Action.UPDATE),
)
def set_working_hours(
    doctor_id: DbInt,
    body: Annotated[list[WorkingHoursIn], Body(max_length=MAX_WINDOWS)],
    clinic: ClinicDep,
    actor: DeskUser,
) -> Any:
    windows = [WorkingHours(**window.model_dump()) for window in body]
    return answer(hours.change_working_hours(clinic, actor, doctor_id, windows))


@router.get(
    "/doctors/{doctor_id}/day",
    response_model=list[AppointmentRecord],
    openapi_extra=access(Kind.CALENDAR, Action.READ),
)
def doctor_day(doctor_id: DbInt, day: Day, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.doctor_day(clinic, actor, doctor_id, day))


@router.get(
    "/day",
    response_model=list[AppointmentRecord],
    summary="Every doctor's appointments of a day in time order (a doctor: their own)",
    openapi_extra=access(Kind.CALENDAR, Action.READ),
)
def clinic_day(day: Day, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.clinic_day(clinic, actor, day))


@router.get(
    "/free-slots",
    response_model=list[FreeSlot],
    summary="Free slots of every doctor of a speciality in [start, end)",
    openapi_extra=access(Kind.SLOT, Action.READ),
)
def free_slots_by_speciality(
    speciality: Search, start: Instant, end: Instant, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return answer(doctors.free_slots_by_speciality(clinic, actor, speciality, start, end))
