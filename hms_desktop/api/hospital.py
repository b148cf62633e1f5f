"""The hospital API's records (seed 002): patients, doctors, catalogue, reviews,
appointments, services, contacts. Paths end in a slash; errors are DRF-style."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from pydantic import BaseModel

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.errors import NotFound
from hms_desktop.domain.models import (
    AppointmentRecord,
    AvailableTimeItem,
    ContactItem,
    NamedItem,
    ReviewRecord,
    ServiceItem,
)
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.validation import clean_rating
from hms_desktop.services import catalogue, doctors, profiles, reviews, scheduling
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.profiles import DoctorCard, PatientCard

from .deps import ClinicDep, CurrentUser, DbInt
from .fields import LongText, Name, Search, ShortText
from .media import image_url, read_upload
from .openapi import access
from .pagination import PageDep, Paginated, paginated
from .ratelimit import EVERY_REQUEST

router = APIRouter(tags=["hospital API"], dependencies=EVERY_REQUEST)


def _no_content(kind: Kind) -> dict[str, Any]:
    return {"status_code": status.HTTP_204_NO_CONTENT, "openapi_extra": access(kind, Action.DELETE)}


def _gone() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- shapes -----------------------------------------------------------------------------------


class PatientOut(BaseModel):
    id: int
    user: str
    profile: str | None
    phone: str | None


class DoctorOut(BaseModel):
    id: int
    user: str
    profile: str | None
    designation: list[str]
    specialisation: list[str]
    available_time: list[int]
    fee: int | None
    meet_link: str


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


class ReviewOut(BaseModel):
    id: int
    reviewer: str
    doctor_name: str
    body: str
    created_on: date
    rating: str


class ReviewIn(BaseModel):
    doctor: DbInt
    body: LongText = ""
    rating: ShortText | DbInt


class ReviewPatch(BaseModel):
    doctor: DbInt | None = None
    body: LongText | None = None
    rating: ShortText | DbInt | None = None


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


class ServiceOut(BaseModel):
    id: int
    image: str | None
    name: str
    description: str


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


def _patient(request: Request, card: PatientCard) -> PatientOut:
    return PatientOut(
        id=card.id,
        user=card.username,
        profile=image_url(request, card.picture_id),
        phone=card.phone,
    )


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


def _named(item: NamedItem) -> NamedOut:
    return NamedOut(id=item.id, name=item.name, slug=item.slug)


def _time(item: AvailableTimeItem) -> TimeOut:
    return TimeOut(id=item.id, time=item.time)


def _review(record: ReviewRecord) -> ReviewOut:
    return ReviewOut(
        id=record.id,
        reviewer=record.reviewer,
        doctor_name=record.doctor_name,
        body=record.body,
        created_on=record.created_on,
        rating="⭐" * record.rating,
    )


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


def _service(request: Request, item: ServiceItem) -> ServiceOut:
    return ServiceOut(
        id=item.id,
        image=image_url(request, item.image_id),
        name=item.name,
        description=item.description,
    )


def _contact(item: ContactItem) -> ContactOut:
    return ContactOut(id=item.id, name=item.name, phone=item.phone, massage=item.message)


# --- patients ---------------------------------------------------------------------------------


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
    page = profiles.list_patient_cards(
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
    card = profiles.create_patient_card(clinic, user, phone=phone, picture=picture)
    return _patient(request, card)


@router.get(
    "/patients/{patient_id}/",
    response_model=PatientOut,
    openapi_extra=access(Kind.PATIENT, Action.READ),
)
def get_patient(
    patient_id: DbInt, request: Request, clinic: ClinicDep, user: CurrentUser
) -> PatientOut:
    return _patient(request, profiles.get_patient_card(clinic, user, patient_id))


def _update_patient(
    patient_id: DbInt,
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    phone: Annotated[ShortText | None, Form()] = None,
    profile: Annotated[UploadFile | None, File()] = None,
) -> PatientOut:
    picture = read_upload(profile, clinic.settings.image_max_bytes)
    card = profiles.update_patient_card(clinic, user, patient_id, phone=phone, picture=picture)
    return _patient(request, card)


router.put(
    "/patients/{patient_id}/",
    response_model=PatientOut,
    operation_id="update_patient",
    openapi_extra=access(Kind.PATIENT, Action.UPDATE),
)(_update_patient)
router.patch(
    "/patients/{patient_id}/",
    response_model=PatientOut,
    operation_id="patch_patient",
    openapi_extra=access(Kind.PATIENT, Action.UPDATE),
)(_update_patient)


@router.delete("/patients/{patient_id}/", **_no_content(Kind.PATIENT))
def delete_patient(patient_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    profiles.delete_patient_card(clinic, user, patient_id)
    return _gone()


# --- doctors ----------------------------------------------------------------------------------


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
    page = profiles.list_doctor_cards(
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
    card = profiles.create_doctor_record(
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
    return _doctor(request, profiles.get_doctor_card(clinic, user, doctor_id))


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
    return _doctor(request, profiles.get_doctor_card(clinic, user, doctor_id))


router.put(
    "/doctors/{doctor_id}/",
    response_model=DoctorOut,
    operation_id="update_doctor",
    openapi_extra=access(Kind.DOCTOR, Action.UPDATE),
)(_update_doctor)
router.patch(
    "/doctors/{doctor_id}/",
    response_model=DoctorOut,
    operation_id="patch_doctor",
    openapi_extra=access(Kind.DOCTOR, Action.UPDATE),
)(_update_doctor)


@router.delete("/doctors/{doctor_id}/", **_no_content(Kind.DOCTOR))
def delete_doctor(doctor_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    profiles.delete_doctor_record(clinic, user, doctor_id)
    return _gone()


# --- designations, specialisations, available times --------------------------------------------


@router.get(
    "/designations/",
    response_model=list[NamedOut],
    openapi_extra=access(Kind.CATALOGUE, Action.READ),
)
def list_designations(clinic: ClinicDep, user: CurrentUser) -> list[NamedOut]:
    return [_named(item) for item in catalogue.list_named(clinic, user, NamedList.DESIGNATIONS)]


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
def list_specialisations(clinic: ClinicDep, user: CurrentUser) -> list[NamedOut]:
    return [_named(item) for item in catalogue.list_named(clinic, user, NamedList.SPECIALISATIONS)]


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


# --- reviews ----------------------------------------------------------------------------------


@router.get(
    "/reviews/", response_model=Paginated[ReviewOut], openapi_extra=access(Kind.REVIEW, Action.READ)
)
def list_reviews(
    request: Request,
    clinic: ClinicDep,
    user: CurrentUser,
    wanted: PageDep,
    doctor: DbInt | None = None,
    reviwer: DbInt | None = None,
    rating: ShortText | None = None,
    search: Search | None = None,
) -> Paginated[ReviewOut]:
    page = reviews.list_reviews(
        clinic,
        user,
        doctor_id=doctor,
        reviewer_id=reviwer,
        rating=clean_rating(rating) if rating else None,
        search=search,
        offset=wanted.offset,
        limit=wanted.limit,
    )
    return paginated(request, wanted, page.total, [_review(r) for r in page.items])


@router.post(
    "/reviews/",
    status_code=status.HTTP_201_CREATED,
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.CREATE),
)
def create_review(body: ReviewIn, clinic: ClinicDep, user: CurrentUser) -> ReviewOut:
    return _review(reviews.write_review(clinic, user, body.doctor, body.body, body.rating))


@router.get(
    "/reviews/{review_id}/",
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.READ),
)
def get_review(review_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> ReviewOut:
    return _review(reviews.get_review(clinic, user, review_id))


@router.put(
    "/reviews/{review_id}/",
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.UPDATE),
)
def update_review(
    review_id: DbInt, body: ReviewIn, clinic: ClinicDep, user: CurrentUser
) -> ReviewOut:
    record = reviews.edit_review(
        clinic, user, review_id, doctor_id=body.doctor, body=body.body, rating=body.rating
    )
    return _review(record)


@router.patch(
    "/reviews/{review_id}/",
    response_model=ReviewOut,
    openapi_extra=access(Kind.REVIEW, Action.UPDATE),
)
def patch_review(
    review_id: DbInt, body: ReviewPatch, clinic: ClinicDep, user: CurrentUser
) -> ReviewOut:
    record = reviews.edit_review(
        clinic, user, review_id, doctor_id=body.doctor, body=body.body, rating=body.rating
    )
    return _review(record)


@router.delete("/reviews/{review_id}/", **_no_content(Kind.REVIEW))
def delete_review(review_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    reviews.delete_review(clinic, user, review_id)
    return _gone()


# --- appointments -----------------------------------------------------------------------------


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


@router.delete("/appointments/{appointment_id}/", **_no_content(Kind.APPOINTMENT))
def delete_appointment(appointment_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    _visible_appointment(clinic, user, appointment_id)
    scheduling.delete_appointment(clinic, user, appointment_id)
    return _gone()


# --- services ---------------------------------------------------------------------------------


@router.get(
    "/services/", response_model=list[ServiceOut], openapi_extra=access(Kind.CATALOGUE, Action.READ)
)
def list_services(request: Request, clinic: ClinicDep, user: CurrentUser) -> list[ServiceOut]:
    return [_service(request, item) for item in catalogue.list_services(clinic, user)]


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


router.put(
    "/services/{service_id}/",
    response_model=ServiceOut,
    operation_id="update_service",
    openapi_extra=access(Kind.CATALOGUE, Action.UPDATE),
)(_update_service)
router.patch(
    "/services/{service_id}/",
    response_model=ServiceOut,
    operation_id="patch_service",
    openapi_extra=access(Kind.CATALOGUE, Action.UPDATE),
)(_update_service)


@router.delete("/services/{service_id}/", **_no_content(Kind.CATALOGUE))
def delete_service(service_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    catalogue.delete_service(clinic, user, service_id)
    return _gone()


# --- contacts ---------------------------------------------------------------------------------


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


@router.delete("/contacts/{contact_id}/", **_no_content(Kind.CONTACT))
def delete_contact(contact_id: DbInt, clinic: ClinicDep, user: CurrentUser) -> Response:
    catalogue.delete_contact(clinic, user, contact_id)
    return _gone()
