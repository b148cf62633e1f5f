"""Finding, registering and updating patients at the desk."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hms_desktop.api.deps import ClinicDep, DbInt, DeskUser
from hms_desktop.api.desk.bodies import PatientFormIn
from hms_desktop.api.desk.common import answer
from hms_desktop.api.fields import Search
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.models import AppointmentRecord, PatientRecord
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import patients, scheduling

router = APIRouter(dependencies=EVERY_REQUEST)


@router.get(
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
    return answer(patients.search_patients(clinic, actor, q, limit))


@router.get(
    "/patients/{patient_id:int}",
    response_model=PatientRecord,
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def get_patient(patient_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(patients.get_patient(clinic, actor, patient_id))


@router.post(
    "/patients/duplicates",
    response_model=list[PatientRecord],
    summary="Patients this form may duplicate (same name and birth date, or same phone)",
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def find_likely_duplicates(body: PatientFormIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(patients.find_likely_duplicates(clinic, actor, body.to_form()))


@router.post(
    "/patients",
    response_model=PatientRecord,
    status_code=201,
    openapi_extra=access(Kind.PATIENT, Action.CREATE),
)
def register_patient(body: PatientFormIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(patients.register_patient(clinic, actor, body.to_form()), 201)


@router.put(
    "/patients/{patient_id:int}",
    response_model=PatientRecord,
    openapi_extra=access(Kind.PATIENT, Action.UPDATE),
)
def update_patient(
    patient_id: DbInt, body: PatientFormIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return answer(patients.update_patient(clinic, actor, patient_id, body.to_form()))


@router.get(
    "/patients/{patient_id:int}/history",
    response_model=list[AppointmentRecord],
    openapi_extra=access(Kind.APPOINTMENT, Action.READ),
)
def patient_history(patient_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(scheduling.patient_history(clinic, actor, patient_id))
