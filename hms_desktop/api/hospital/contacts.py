"""The hospital API's contact messages: `/contacts/` (the document spells the message
`massage`)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import BaseModel

from hms_desktop.domain.models import (
    ContactItem,
)
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import catalogue

from ..deps import ClinicDep, CurrentUser, DbInt
from ..fields import LongText, Name, ShortText
from ..openapi import access
from .common import deleted, gone

router = APIRouter()


class ContactOut(BaseModel):
    id: int
    name: str
    phone: str
    massage: str


class ContactIn(BaseModel):
    name: Name
    phone: ShortText
    massage: LongText


class ContactPatch(BaseModel):
    name: Name | None = None
    phone: ShortText | None = None
    massage: LongText | None = None


def _contact(item: ContactItem) -> ContactOut:
    return ContactOut(id=item.id, name=item.name, phone=item.phone, massage=item.message)


@router.get(
    "/contacts/", response_model=list[ContactOut], openapi_extra=access(Kind.CONTACT, Action.READ)
)
def list_contacts(clinic: ClinicDep, user: CurrentUser) -> list[ContactOut]:
    return [_contact(item) for item in catalogue.list_contacts(clinic, user)]


@router.post(
    "/contacts/",
    status_code=status.HTTP_201_CREATED,
    response_model=ContactOut,
    openapi_extra=access(Kind.CONTACT, Action.CREATE),
)
def create_contact(body: ContactIn, clinic: ClinicDep, user: CurrentUser) -> ContactOut:
    """Anyone may leave a message; only staff read them."""
    item = catalogue.save_contact(
        clinic, user, name=body.name, phone=body.phone, message=body.massage
    )
    return _contact(item)


@router.get(
    "/contacts/{contact_id}/",
    response_model=ContactOut,
    openapi_extra=access(Kind.CONTACT, Action.READ),
)
def get_contact(contact_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> ContactOut:
    return _contact(catalogue.get_contact(clinic, user, contact_id))


@router.put(
    "/contacts/{contact_id}/",
    response_model=ContactOut,
    openapi_extra=access(Kind.CONTACT, Action.UPDATE),
)
def update_contact(
    contact_id: DbInt, body: ContactIn, clinic: ClinicDep, user: CurrentUser
) -> ContactOut:
    item = catalogue.save_contact(
        clinic, user, contact_id=contact_id, name=body.name, phone=body.phone, message=body.massage
    )
    return _contact(item)


@router.patch(
    "/contacts/{contact_id}/",
    response_model=ContactOut,
    openapi_extra=access(Kind.CONTACT, Action.UPDATE),
)
def patch_contact(
    contact_id: DbInt, body: ContactPatch, clinic: ClinicDep, user: CurrentUser
) -> ContactOut:
    item = catalogue.save_contact(
        clinic, user, contact_id=contact_id, name=body.name, phone=body.phone, message=body.massage
    )
    return _contact(item)


@router.delete("/contacts/{contact_id}/", **deleted(Kind.CONTACT))
def delete_contact(contact_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    catalogue.delete_contact(clinic, user, contact_id)
    return gone()
