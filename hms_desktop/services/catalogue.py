"""The clinic's catalogue: specialisations, designations, available times, services,
contact messages and stored images."""

from __future__ import annotations

import hashlib
import io
from typing import TypeVar

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_desktop.domain import validation
from hms_desktop.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from hms_desktop.domain.models import Actor, AvailableTimeItem, ContactItem, NamedItem, ServiceItem
from hms_desktop.services import audit
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import (
    AvailableTime,
    ClinicService,
    Contact,
    Designation,
    Specialisation,
    StoredImage,
)

_IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
Named = TypeVar("Named", Specialisation, Designation)


def require_staff(actor: Actor) -> None:
    if not actor.is_staff:
        raise PermissionDenied()


# --- specialisations and designations ------------------------------------------------------


def _named(row: Specialisation | Designation) -> NamedItem:
    return NamedItem(id=row.id, name=row.name, slug=row.slug)


def list_named(clinic: Clinic, table: type[Named]) -> list[NamedItem]:
    with clinic.db.read() as session:
        return [_named(row) for row in session.scalars(select(table).order_by(table.name))]


def create_named(
    clinic: Clinic, actor: Actor, table: type[Named], name: str, slug: str = ""
) -> NamedItem:
    require_staff(actor)
    clean = validation.clean_name(name, field="name")
    with clinic.db.transaction() as session:
        row = table(name=clean, slug=validation.clean_slug(slug, fallback=clean))
        session.add(row)
        try:
            session.flush()
        except IntegrityError as error:
            raise Conflict(f"{table.__name__} with this name or slug already exists.") from error
        audit.record(session, actor, "create", table.__tablename__, row.id, name=clean)
        return _named(row)


def update_named(
    clinic: Clinic,
    actor: Actor,
    table: type[Named],
    item_id: int,
    name: str | None,
    slug: str | None,
) -> NamedItem:
    require_staff(actor)
    with clinic.db.transaction() as session:
        row = session.get(table, item_id)
        if row is None:
            raise NotFound()
        if name is not None:
            row.name = validation.clean_name(name, field="name")
        if slug is not None:
            row.slug = validation.clean_slug(slug, fallback=row.name)
        try:
            session.flush()
        except IntegrityError as error:
            raise Conflict(f"{table.__name__} with this name or slug already exists.") from error
        audit.record(session, actor, "update", table.__tablename__, item_id)
        return _named(row)


def delete_row(clinic: Clinic, actor: Actor, table: type, item_id: int) -> None:
    require_staff(actor)
    with clinic.db.transaction() as session:
        row = session.get(table, item_id)
        if row is None:
            raise NotFound()
        session.delete(row)
        audit.record(session, actor, "delete", table.__tablename__, item_id)


def specialisation_by_name(session: Session, name: str) -> Specialisation | None:
    """Match a speciality by name or slug, ignoring case (the booking API takes names)."""
    key = (name or "").strip().lower()
    for row in session.scalars(select(Specialisation)):
        if key in (row.name.lower(), row.slug.lower()):
            return row
    return None


# --- available times --------------------------------------------------------------------------


def list_available_times(clinic: Clinic, item_id: int | None = None) -> list[AvailableTimeItem]:
    with clinic.db.read() as session:
        query = select(AvailableTime).order_by(AvailableTime.id)
        if item_id is not None:
            query = query.where(AvailableTime.id == item_id)
        return [AvailableTimeItem(row.id, row.time) for row in session.scalars(query)]


def save_available_time(
    clinic: Clinic, actor: Actor, label: str, item_id: int | None = None
) -> AvailableTimeItem:
    require_staff(actor)
    clean = validation.clean_name(label, field="time")
    with clinic.db.transaction() as session:
        row = session.get(AvailableTime, item_id) if item_id is not None else AvailableTime()
        if row is None:
            raise NotFound()
        row.time = clean
        session.add(row)
        session.flush()
        audit.record(session, actor, "save", "available_times", row.id, time=clean)
        return AvailableTimeItem(row.id, row.time)


# --- images -----------------------------------------------------------------------------------


def store_image(session: Session, clinic: Clinic, data: bytes) -> StoredImage:
    """Keep an uploaded picture centrally, after checking it really is PNG, JPEG or WebP."""
    if len(data) > clinic.settings.image_max_bytes:
        limit_kib = clinic.settings.image_max_bytes // 1024
        raise ValidationError(f"Image is too large (at most {limit_kib} KiB).", field="image")
    try:
        with Image.open(io.BytesIO(data)) as picture:
            picture.verify()
            kind = picture.format
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValidationError("Upload a valid PNG, JPEG or WebP image.", field="image") from error
    if kind not in _IMAGE_TYPES:
        raise ValidationError("Upload a valid PNG, JPEG or WebP image.", field="image")
    image = StoredImage(
        content_type=_IMAGE_TYPES[kind], data=data, sha256=hashlib.sha256(data).hexdigest()
    )
    session.add(image)
    session.flush()
    return image


def load_image(clinic: Clinic, image_id: int) -> tuple[str, bytes]:
    with clinic.db.read() as session:
        image = session.get(StoredImage, image_id)
        if image is None:
            raise NotFound("Image not found.")
        return image.content_type, image.data


# --- services and contacts ---------------------------------------------------------------------


def _service(row: ClinicService) -> ServiceItem:
    return ServiceItem(row.id, row.name, row.description, row.image_id)


def _contact(row: Contact) -> ContactItem:
    return ContactItem(row.id, row.name, row.phone, row.message)


def list_services(clinic: Clinic) -> list[ServiceItem]:
    with clinic.db.read() as session:
        return [
            _service(row)
            for row in session.scalars(select(ClinicService).order_by(ClinicService.id))
        ]


def get_service(clinic: Clinic, service_id: int) -> ServiceItem:
    with clinic.db.read() as session:
        row = session.get(ClinicService, service_id)
        if row is None:
            raise NotFound()
        return _service(row)


def save_service(
    clinic: Clinic,
    actor: Actor,
    *,
    service_id: int | None = None,
    name: str | None = None,
    description: str | None = None,
    image: bytes | None = None,
) -> ServiceItem:
    require_staff(actor)
    with clinic.db.transaction() as session:
        row = session.get(ClinicService, service_id) if service_id is not None else ClinicService()
        if row is None:
            raise NotFound()
        if name is not None or service_id is None:
            row.name = validation.clean_name(name, field="name")
        if description is not None:
            row.description = description
        if image is not None:
            row.image_id = store_image(session, clinic, image).id
        session.add(row)
        session.flush()
        audit.record(session, actor, "save", "services", row.id)
        return _service(row)


def list_contacts(clinic: Clinic, actor: Actor) -> list[ContactItem]:
    require_staff(actor)
    with clinic.db.read() as session:
        return [_contact(row) for row in session.scalars(select(Contact).order_by(Contact.id))]


def get_contact(clinic: Clinic, actor: Actor, contact_id: int) -> ContactItem:
    require_staff(actor)
    with clinic.db.read() as session:
        row = session.get(Contact, contact_id)
        if row is None:
            raise NotFound()
        return _contact(row)


def save_contact(
    clinic: Clinic,
    actor: Actor,
    *,
    contact_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    message: str | None = None,
) -> ContactItem:
    """Anyone may leave a message; only staff change one."""
    if contact_id is not None:
        require_staff(actor)
    with clinic.db.transaction() as session:
        row = session.get(Contact, contact_id) if contact_id is not None else Contact()
        if row is None:
            raise NotFound()
        creating = contact_id is None
        if name is not None or creating:
            row.name = validation.clean_name(name, field="name")
        if phone is not None or creating:
            row.phone = validation.normalize_phone(phone) or ""
            if not row.phone:
                raise ValidationError("Phone is required.", field="phone")
        if message is not None or creating:
            if not (message or "").strip():
                raise ValidationError("Message is required.", field="massage")
            row.message = message or ""
        session.add(row)
        session.flush()
        audit.record(session, actor, "save", "contacts", row.id)
        return _contact(row)
