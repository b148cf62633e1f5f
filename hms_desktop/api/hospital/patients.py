"""The hospital API's patient records: `/patients/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel

from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import hospital_records
from hms_desktop.services.hospital_records import PatientCard

from ..deps import ClinicDep, CurrentUser, DbInt
from ..fields import Search, ShortText
from ..media import image_url, read_upload
from ..openapi import access
from ..pagination import PageDep, Paginated, paginated
from .common import deleted, gone, put_and_patch

router = APIRouter()


class PatientOut(BaseModel):
    id: int
    user: str
    profile: str | None
    phone: str | None


def _patient(request: Request, card: PatientCard) -> PatientOut:
    return PatientOut(
        id=card.id,
        user=card.username,
        profile=image_url(request, card.picture_id),
        phone=card.phone,
    )


@router.get(
    "/patients/",
    response_model=Paginated[PatientOut],
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def list_patients(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    wanted: PageDep,
    search: Search | None = None,
    phone: ShortText | None = None,
) -> Paginated[PatientOut]:
    """Patient records: staff and doctors see all, a patient their own."""
    page = hospital_records.list_patient_cards(
        clinic, user, search=search, phone=phone, offset=wanted.offset, limit=wanted.limit
    )
    return paginated(request, wanted, page.total, [_patient(request, c) for c in page.items])


@router.post(
    "/patients/",
    status_code=status.HTTP_201_CREATED,
    response_model=PatientOut,
    openapi_extra=access(Kind.PATIENT, Action.CREATE),
)
def create_patient(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    phone: Annotated[ShortText | None, Form()] = None,
    profile: Annotated[UploadFile | None, File()] = None,
) -> PatientOut:
    """The logged-in user's own patient record."""
    picture = read_upload(profile, clinic.settings.image_max_bytes)
    card = hospital_records.create_patient_card(clinic, user, phone=phone, picture=picture)
    return _patient(request, card)


@router.get(
    "/patients/{patient_id}/",
    response_model=PatientOut,
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def get_patient(
    patient_id: DbInt, request: Request, clinic: ClinicDep, user: CurrentUser
) -> PatientOut:
    return _patient(request, hospital_records.get_patient_card(clinic, user, patient_id))


def _update_patient(
    patient_id: DbInt,
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    phone: Annotated[ShortText | None, Form()] = None,
    profile: Annotated[UploadFile | None, File()] = None,
) -> PatientOut:
    picture = read_upload(profile, clinic.settings.image_max_bytes)
    card = hospital_records.update_patient_card(
        clinic, user, patient_id, phone=phone, picture=picture
    )
    return _patient(request, card)


@router.delete("/patients/{patient_id}/", **deleted(Kind.PATIENT))
def delete_patient(patient_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    hospital_records.delete_patient_card(clinic, user, patient_id)
    return gone()


put_and_patch(
    router,
    "/patients/{patient_id}/",
    _update_patient,
    PatientOut,
    access(Kind.PATIENT, Action.UPDATE),
)
