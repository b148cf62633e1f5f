"""The hospital API's doctor records: `/doctors/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel

from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import doctors, hospital_records
from hms_desktop.services.hospital_records import DoctorCard

from ..deps import ClinicDep, CurrentUser, DbInt
from ..fields import Search, ShortText
from ..media import image_url, read_upload
from ..openapi import access
from ..pagination import PageDep, Paginated, paginated
from .common import deleted, gone, put_and_patch

router = APIRouter()


class DoctorOut(BaseModel):
    id: int
    user: str
    profile: str | None
    designation: list[str]
    specialisation: list[str]
    available_time: list[int]
    fee: int | None
    meet_link: str


def _doctor(request: Request, card: DoctorCard) -> DoctorOut:
    return DoctorOut(
        id=card.id,
        user=card.username,
        profile=image_url(request, card.picture_id),
        designation=list(card.designations),
        specialisation=list(card.specialisations),
        available_time=list(card.available_time_ids),
        fee=card.fee,
        meet_link=card.meet_link,
    )


@router.get(
    "/doctors/", response_model=Paginated[DoctorOut], openapi_extra=access(Kind.DOCTOR, Action.READ)
)
def list_doctors(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    wanted: PageDep,
    search: Search | None = None,
    specialisation: DbInt | None = None,
    designation: DbInt | None = None,
    fee: DbInt | None = None,
    available_time: DbInt | None = None,
) -> Paginated[DoctorOut]:
    page = hospital_records.list_doctor_cards(
        clinic,
        user,
        specialisation_id=specialisation,
        designation_id=designation,
        fee=fee,
        available_time_id=available_time,
        search=search,
        offset=wanted.offset,
        limit=wanted.limit,
    )
    return paginated(request, wanted, page.total, [_doctor(request, c) for c in page.items])


@router.post(
    "/doctors/",
    status_code=status.HTTP_201_CREATED,
    response_model=DoctorOut,
    openapi_extra=access(Kind.DOCTOR, Action.CREATE),
)
def create_doctor(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    designation: Annotated[list[DbInt] | None, Form()] = None,
    specialisation: Annotated[list[DbInt] | None, Form()] = None,
    available_time: Annotated[list[DbInt] | None, Form()] = None,
    fee: Annotated[DbInt | None, Form()] = None,
    meet_link: Annotated[ShortText | None, Form()] = None,
    profile: Annotated[UploadFile | None, File()] = None,
) -> DoctorOut:
    """The logged-in doctor's own record, when their account has none yet."""
    card = hospital_records.create_doctor_record(
        clinic,
        user,
        fee=fee,
        meet_link=meet_link or "",
        specialisation_ids=specialisation or [],
        designation_ids=designation or [],
        available_time_ids=available_time or [],
        picture=read_upload(profile, clinic.settings.image_max_bytes),
    )
    return _doctor(request, card)


@router.get(
    "/doctors/{doctor_id}/",
    response_model=DoctorOut,
    openapi_extra=access(Kind.DOCTOR, Action.READ),
)
def get_doctor(
    doctor_id: DbInt, request: Request, clinic: ClinicDep, user: CurrentUser
) -> DoctorOut:
    return _doctor(request, hospital_records.get_doctor_card(clinic, user, doctor_id))


def _update_doctor(
    doctor_id: DbInt,
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    designation: Annotated[list[DbInt] | None, Form()] = None,
    specialisation: Annotated[list[DbInt] | None, Form()] = None,
    available_time: Annotated[list[DbInt] | None, Form()] = None,
    fee: Annotated[DbInt | None, Form()] = None,
    meet_link: Annotated[ShortText | None, Form()] = None,
    profile: Annotated[UploadFile | None, File()] = None,
) -> DoctorOut:
    doctors.update_doctor(
        clinic,
        user,
        doctor_id,
        fee=fee,
        meet_link=meet_link,
        specialisation_ids=specialisation,
        designation_ids=designation,
        available_time_ids=available_time,
        picture=read_upload(profile, clinic.settings.image_max_bytes),
    )
    return _doctor(request, hospital_records.get_doctor_card(clinic, user, doctor_id))


@router.delete("/doctors/{doctor_id}/", **deleted(Kind.DOCTOR))
def delete_doctor(doctor_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    hospital_records.delete_doctor_record(clinic, user, doctor_id)
    return gone()


put_and_patch(
    router, "/doctors/{doctor_id}/", _update_doctor, DoctorOut, access(Kind.DOCTOR, Action.UPDATE)
)
