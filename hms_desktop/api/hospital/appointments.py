"""The hospital API's appointments: `/appointments/`; one posted here has no slot and waits
in the desk's request queue."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.errors import NotFound
from hms_desktop.domain.models import (
    AppointmentRecord,
)
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import scheduling

from ..deps import ClinicDep, CurrentUser, DbInt
from ..fields import LongText
from ..openapi import access
from ..pagination import PageDep, Paginated, paginated
from .common import deleted, gone

router = APIRouter()


class AppointmentOut(BaseModel):
    id: int
    patient: int
    doctor: int
    appointment_type: str
    appointment_status: str
    symptoms: str
    time: int | None
    cancel: bool


class AppointmentIn(BaseModel):
    doctor: DbInt
    appointment_type: AppointmentType = AppointmentType.OFFLINE
    symptoms: LongText = ""
    time: DbInt | None = None
    cancel: bool = False
    patient: DbInt | None = None  # staff booking a request for a patient


class AppointmentPatch(BaseModel):
    doctor: DbInt | None = None
    appointment_type: AppointmentType | None = None
    symptoms: LongText | None = None
    time: DbInt | None = None
    cancel: bool | None = None


def _appointment(record: AppointmentRecord) -> AppointmentOut:
    return AppointmentOut(
        id=record.id,
        patient=record.patient_id,
        doctor=record.doctor_id,
        appointment_type=record.appointment_type.value,
        appointment_status=record.status.hospital_word,
        symptoms=record.symptoms,
        time=record.available_time_id,
        cancel=record.status in (AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED),
    )


@router.get(
    "/appointments/",
    response_model=Paginated[AppointmentOut],
    openapi_extra=access(Kind.APPOINTMENT, Action.READ),
)
def list_appointments(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    wanted: PageDep,
    patient_id: DbInt | None = None,
    doctor_id: DbInt | None = None,
) -> Paginated[AppointmentOut]:
    """A patient sees their own appointments, a doctor theirs, staff all."""
    page = scheduling.list_appointments(
        clinic,
        user,
        patient_id=patient_id,
        doctor_id=doctor_id,
        offset=wanted.offset,
        limit=wanted.limit,
    )
    return paginated(request, wanted, page.total, [_appointment(r) for r in page.items])


@router.post(
    "/appointments/",
    status_code=status.HTTP_201_CREATED,
    response_model=AppointmentOut,
    openapi_extra=access(Kind.REQUEST, Action.CREATE),
)
def create_appointment(body: AppointmentIn, clinic: ClinicDep, user: CurrentUser) -> AppointmentOut:
    """A request without a slot: it waits in the reception queue until staff give it one."""
    record = scheduling.request_appointment(
        clinic,
        user,
        doctor_id=body.doctor,
        patient_id=body.patient,
        available_time_id=body.time,
        appointment_type=body.appointment_type,
        symptoms=body.symptoms,
    )
    if body.cancel:
        record = scheduling.update_appointment(clinic, user, record.id, cancel=True)
    return _appointment(record)


@router.get(
    "/appointments/{appointment_id}/",
    response_model=AppointmentOut,
    openapi_extra=access(Kind.APPOINTMENT, Action.READ),
)
def get_appointment(appointment_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> AppointmentOut:
    return _appointment(_visible_appointment(clinic, user, appointment_id))


def _visible_appointment(
    clinic: ClinicDep, user: CurrentUser, appointment_id: DbInt
) -> AppointmentRecord:
    page = scheduling.list_appointments(clinic, user, appointment_id=appointment_id)
    if not page.items:
        raise NotFound()
    return page.items[0]


def _change_appointment(
    clinic: ClinicDep, user: CurrentUser, appointment_id: DbInt, body: AppointmentPatch
) -> AppointmentOut:
    _visible_appointment(clinic, user, appointment_id)
    record = scheduling.update_appointment(
        clinic,
        user,
        appointment_id,
        doctor_id=body.doctor,
        appointment_type=body.appointment_type,
        symptoms=body.symptoms,
        available_time_id=body.time,
        cancel=body.cancel,
    )
    return _appointment(record)


@router.put(
    "/appointments/{appointment_id}/",
    response_model=AppointmentOut,
    openapi_extra=access(Kind.APPOINTMENT, Action.UPDATE),
)
def update_appointment(
    appointment_id: DbInt, body: AppointmentIn, clinic: ClinicDep, user: CurrentUser
) -> AppointmentOut:
    changes = AppointmentPatch(**body.model_dump(exclude={"patient"}))
    return _change_appointment(clinic, user, appointment_id, changes)


@router.patch(
    "/appointments/{appointment_id}/",
    response_model=AppointmentOut,
    openapi_extra=access(Kind.APPOINTMENT, Action.UPDATE),
)
def patch_appointment(
    appointment_id: DbInt, body: AppointmentPatch, clinic: ClinicDep, user: CurrentUser
) -> AppointmentOut:
    return _change_appointment(clinic, user, appointment_id, body)


@router.delete("/appointments/{appointment_id}/", **deleted(Kind.APPOINTMENT))
def delete_appointment(appointment_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    _visible_appointment(clinic, user, appointment_id)
    scheduling.delete_appointment(clinic, user, appointment_id)
    return gone()
