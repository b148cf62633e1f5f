"""The hospital API's catalogue: `/designations/`, `/specialisations/`, `/available-time/`
and `/services/`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel, TypeAdapter

from hms_desktop.domain.models import (
    Actor,
    AvailableTimeItem,
    NamedItem,
    ServiceItem,
)
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import catalogue
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic

from ..answer_cache import AnswerCacheDep, public_answer
from ..deps import ClinicDep, CurrentUser, DbInt
from ..fields import LongText, Name, ShortText
from ..media import image_url, read_upload
from ..openapi import access
from .common import deleted, gone, put_and_patch

router = APIRouter()


class NamedOut(BaseModel):
    id: int
    name: str
    slug: str


class NamedIn(BaseModel):
    name: Name
    slug: Name = ""


class TimeOut(BaseModel):
    id: int
    time: str


class TimeIn(BaseModel):
    time: Name


class ServiceOut(BaseModel):
    id: int
    image: str | None
    name: str
    description: str


_NAMED = TypeAdapter(list[NamedOut])
_SERVICES = TypeAdapter(list[ServiceOut])
# The lists are public: their encoded answers are kept (api/answer_cache.py).
_READ = (Kind.CATALOGUE, Action.READ)


def _encode_named(clinic: Clinic, user: Actor, kind: NamedList) -> bytes:
    return _NAMED.dump_json([_named(item) for item in catalogue.list_named(clinic, user, kind)])


def _named(item: NamedItem) -> NamedOut:
    return NamedOut(id=item.id, name=item.name, slug=item.slug)


def _time(item: AvailableTimeItem) -> TimeOut:
    return TimeOut(id=item.id, time=item.time)


def _service(request: Request, item: ServiceItem) -> ServiceOut:
    return ServiceOut(
        id=item.id,
        image=image_url(request, item.image_id),
        name=item.name,
        description=item.description,
    )


@router.get(
    "/designations/",
    response_model=list[NamedOut],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
async def list_designations(
    request: Request, clinic: ClinicDep, answers: AnswerCacheDep, user: CurrentUser
) -> Response:
    return await public_answer(
        request, answers, user, _READ, lambda: _encode_named(clinic, user, NamedList.DESIGNATIONS)
    )


@router.post(
    "/designations/",
    status_code=status.HTTP_201_CREATED,
    response_model=NamedOut,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_designation(body: NamedIn, clinic: ClinicDep, user: CurrentUser) -> NamedOut:
    return _named(
        catalogue.create_named(clinic, user, NamedList.DESIGNATIONS, body.name, body.slug)
    )


@router.get(
    "/specialisations/",
    response_model=list[NamedOut],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
async def list_specialisations(
    request: Request, clinic: ClinicDep, answers: AnswerCacheDep, user: CurrentUser
) -> Response:
    return await public_answer(
        request,
        answers,
        user,
        _READ,
        lambda: _encode_named(clinic, user, NamedList.SPECIALISATIONS),
    )


@router.post(
    "/specialisations/",
    status_code=status.HTTP_201_CREATED,
    response_model=NamedOut,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_specialisation(body: NamedIn, clinic: ClinicDep, user: CurrentUser) -> NamedOut:
    return _named(
        catalogue.create_named(clinic, user, NamedList.SPECIALISATIONS, body.name, body.slug)
    )


@router.get(
    "/available-time/",
    response_model=list[TimeOut],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def list_available_times(
    clinic: ClinicDep, user: CurrentUser, id: DbInt | None = None
) -> list[TimeOut]:
    return [_time(item) for item in catalogue.list_available_times(clinic, user, id)]


@router.post(
    "/available-time/",
    status_code=status.HTTP_201_CREATED,
    response_model=TimeOut,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_available_time(body: TimeIn, clinic: ClinicDep, user: CurrentUser) -> TimeOut:
    return _time(catalogue.save_available_time(clinic, user, body.time))


@router.get(
    "/services/", response_model=list[ServiceOut], openapi_extra=access(Kind.CATALOGUE, Action.READ)
)
async def list_services(
    request: Request, clinic: ClinicDep, answers: AnswerCacheDep, user: CurrentUser
) -> Response:
    return await public_answer(
        request,
        answers,
        user,
        _READ,
        lambda: _SERVICES.dump_json(
            [_service(request, item) for item in catalogue.list_services(clinic, user)]
        ),
    )


@router.post(
    "/services/",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceOut,
    openapi_extra=access(Kind.CATALOGUE, Action.CREATE),
)
def create_service(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    name: Annotated[Name, Form()],
    description: Annotated[LongText, Form()] = "",
    image: Annotated[UploadFile | None, File()] = None,
) -> ServiceOut:
    item = catalogue.save_service(
        clinic,
        user,
        name=name,
        description=description,
        image=read_upload(image, clinic.settings.image_max_bytes),
    )
    return _service(request, item)


@router.get(
    "/services/{service_id}/",
    response_model=ServiceOut,
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def get_service(
    service_id: DbInt, request: Request, clinic: ClinicDep, user: CurrentUser
) -> ServiceOut:
    return _service(request, catalogue.get_service(clinic, user, service_id))


def _update_service(
    service_id: DbInt,
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    name: Annotated[ShortText | None, Form()] = None,
    description: Annotated[ShortText | None, Form()] = None,
    image: Annotated[UploadFile | None, File()] = None,
) -> ServiceOut:
    item = catalogue.save_service(
        clinic,
        user,
        service_id=service_id,
        name=name,
        description=description,
        image=read_upload(image, clinic.settings.image_max_bytes),
    )
    return _service(request, item)


@router.delete("/services/{service_id}/", **deleted(Kind.CATALOGUE))
def delete_service(service_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    catalogue.delete_service(clinic, user, service_id)
    return gone()


put_and_patch(
    router,
    "/services/{service_id}/",
    _update_service,
    ServiceOut,
    access(Kind.CATALOGUE, Action.UPDATE),
)
