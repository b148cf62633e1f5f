"""The admin area's doctors, catalogue and contact inbox (admin-only where the policy says)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Response, UploadFile

from hms_desktop.api.deps import ClinicDep, DbInt, DeskUser
from hms_desktop.api.desk.bodies import CatalogueEntryIn, DoctorFormIn, HandledIn
from hms_desktop.api.desk.common import answer
from hms_desktop.api.media import read_upload
from hms_desktop.api.openapi import access
from hms_desktop.api.ratelimit import EVERY_REQUEST
from hms_desktop.domain.doctor_records import (
    CatalogueEntry,
    CatalogueKind,
    DoctorDeactivation,
    DoctorRecord,
)
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import AppointmentRecord, ContactItem
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import catalogue_admin, doctor_admin

router = APIRouter(dependencies=EVERY_REQUEST)
Picture = Annotated[UploadFile, File()]
MANAGE = access(Kind.DOCTOR, Action.MANAGE)


def _picture(upload: UploadFile, max_bytes: int, field: str) -> bytes:
    data = read_upload(upload, max_bytes)
    if not data:
        raise ValidationError("Choose a picture.", field=field)
    return data


# --- doctors ----------------------------------------------------------------------------------


@router.get("/admin/doctors", response_model=list[DoctorRecord], openapi_extra=MANAGE)
def doctor_roster(clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctor_admin.doctor_roster(clinic, actor))


@router.post("/admin/doctors", response_model=DoctorRecord, status_code=201, openapi_extra=MANAGE)
def create_doctor(body: DoctorFormIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctor_admin.create_doctor(clinic, actor, body.to_form()), 201)


@router.get("/admin/doctors/{doctor_id}", response_model=DoctorRecord, openapi_extra=MANAGE)
def doctor_record(doctor_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctor_admin.get_doctor_record(clinic, actor, doctor_id))


@router.put("/admin/doctors/{doctor_id}", response_model=DoctorRecord, openapi_extra=MANAGE)
def update_doctor(doctor_id: DbInt, body: DoctorFormIn, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctor_admin.update_doctor_record(clinic, actor, doctor_id, body.to_form()))


@router.put("/admin/doctors/{doctor_id}/picture", response_model=DoctorRecord, openapi_extra=MANAGE)
def set_doctor_picture(
    doctor_id: DbInt, picture: Picture, clinic: ClinicDep, actor: DeskUser
) -> Any:
    data = _picture(picture, clinic.settings.image_max_bytes, "picture")
    return answer(doctor_admin.set_doctor_picture(clinic, actor, doctor_id, data))


@router.post(
    "/admin/doctors/{doctor_id}/deactivate",
    response_model=DoctorDeactivation,
    summary="No longer bookable; answers the booked future appointments to move",
    openapi_extra=MANAGE,
)
def deactivate_doctor(doctor_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctor_admin.deactivate_doctor(clinic, actor, doctor_id))


@router.post(
    "/admin/doctors/{doctor_id}/reactivate", response_model=DoctorRecord, openapi_extra=MANAGE
)
def reactivate_doctor(doctor_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctor_admin.reactivate_doctor(clinic, actor, doctor_id))


@router.get(
    "/admin/doctors/{doctor_id}/to-rebook",
    response_model=list[AppointmentRecord],
    summary="A doctor's booked future appointments",
    openapi_extra=MANAGE,
)
def bookings_to_rebook(doctor_id: DbInt, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(doctor_admin.bookings_to_rebook(clinic, actor, doctor_id))


# --- the catalogue ----------------------------------------------------------------------------


@router.get(
    "/catalogue/{kind}",
    response_model=list[CatalogueEntry],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def catalogue_entries(kind: CatalogueKind, clinic: ClinicDep, actor: DeskUser) -> Any:
    return answer(catalogue_admin.list_entries(clinic, actor, kind))


@router.post(
    "/catalogue/{kind}",
    response_model=CatalogueEntry,
    status_code=201,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def add_catalogue_entry(
    kind: CatalogueKind, body: CatalogueEntryIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    entry = catalogue_admin.save_entry(clinic, actor, kind, body.name, description=body.description)
    return answer(entry, 201)


@router.put(
    "/catalogue/{kind}/{item_id}",
    response_model=CatalogueEntry,
    openapi_extra=access(Kind.CATALOGUE, Action.UPDATE),
)
def save_catalogue_entry(
    kind: CatalogueKind, item_id: DbInt, body: CatalogueEntryIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return answer(
        catalogue_admin.save_entry(
            clinic, actor, kind, body.name, item_id=item_id, description=body.description
        )
    )


@router.delete(
    "/catalogue/{kind}/{item_id}",
    status_code=204,
    summary="Refused (409) while doctors or requests use the entry",
    openapi_extra=access(Kind.CATALOGUE, Action.DELETE),
)
def delete_catalogue_entry(
    kind: CatalogueKind, item_id: DbInt, clinic: ClinicDep, actor: DeskUser
) -> Response:
    catalogue_admin.delete_entry(clinic, actor, kind, item_id)
    return Response(status_code=204)


@router.put(
    "/catalogue/services/{item_id}/image",
    response_model=CatalogueEntry,
    openapi_extra=access(Kind.CATALOGUE, Action.UPDATE),
)
def set_service_image(item_id: DbInt, image: Picture, clinic: ClinicDep, actor: DeskUser) -> Any:
    data = _picture(image, clinic.settings.image_max_bytes, "image")
    return answer(
        catalogue_admin.save_entry(
            clinic, actor, CatalogueKind.SERVICES, None, item_id=item_id, image=data
        )
    )


# --- the contact inbox ------------------------------------------------------------------------


@router.get(
    "/contacts",
    response_model=list[ContactItem],
    summary="Contact messages, newest first; `handled` narrows to handled or not",
    openapi_extra=access(Kind.CONTACT, Action.READ),
)
def contact_messages(clinic: ClinicDep, actor: DeskUser, handled: bool | None = None) -> Any:
    return answer(catalogue_admin.inbox(clinic, actor, handled))


@router.post(
    "/contacts/{contact_id}/handled",
    response_model=ContactItem,
    openapi_extra=access(Kind.CONTACT, Action.UPDATE),
)
def mark_contact_handled(
    contact_id: DbInt, body: HandledIn, clinic: ClinicDep, actor: DeskUser
) -> Any:
    return answer(catalogue_admin.mark_handled(clinic, actor, contact_id, body.handled))
