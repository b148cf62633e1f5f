"""The clinic's catalogue: specialisations, designations, available times, services,
contact messages and stored images."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_desktop.domain import policy, validation
from hms_desktop.domain.errors import DuplicateEntry, NotFound, ValidationError
from hms_desktop.domain.images import reencode_image
from hms_desktop.domain.models import Actor, AvailableTimeItem, ContactItem, NamedItem, ServiceItem
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import (
    AvailableTime,
    ClinicService,
    Contact,
    Designation,
    NamedRow,
    Specialisation,
    StoredImage,
)

# The change event of a catalogue entry (a list, a service, an hour): it empties the API's
# kept answers of the public catalogue at once (an open desk calendar reloads once, as on
# any event naming no doctor; catalogue changes are an admin's rare work).
CATALOGUE = "catalogue"


class NamedList(StrEnum):
    """The catalogue's lists of named entries (each name and slug unique in its list)."""

    SPECIALISATIONS = "specialisations"
    DESIGNATIONS = "designations"

    @property
    def label(self) -> str:
        """One entry, in the API documents' words."""
        return self.value.removesuffix("s")


_TABLES: dict[NamedList, type[NamedRow]] = {
    NamedList.SPECIALISATIONS: Specialisation,
    NamedList.DESIGNATIONS: Designation,
}


# --- specialisations and designations ------------------------------------------------------


def _named(row: NamedRow) -> NamedItem:
    return NamedItem(id=row.id, name=row.name, slug=row.slug)


def list_named(clinic: Clinic, actor: Actor, kind: NamedList) -> list[NamedItem]:
    policy.require(actor, Kind.CATALOGUE, Action.READ)
    table = _TABLES[kind]
    with clinic.db.read() as session:
        return [_named(row) for row in session.scalars(select(table).order_by(table.name))]


def _refuse_duplicates(session: Session, kind: NamedList, row: NamedRow) -> None:
    """A taken name or slug is the field's error (as the hospital document's clients expect
    of a unique field), checked before the insert so the answer names the field."""
    table = _TABLES[kind]
    for field in ("name", "slug"):
        column = getattr(table, field)
        with session.no_autoflush:  # the row's own change must not be written to ask
            taken = session.scalar(
                select(table.id).where(func.lower(column) == getattr(row, field).lower())
            )
        if taken is not None and taken != row.id:
            raise DuplicateEntry(f"{kind.label} with this {field} already exists.", field=field)


def _flush_unique(session: Session, kind: NamedList) -> None:
    try:
        session.flush()
    except IntegrityError as error:  # another desk took the name since our check
        message = f"{kind.label} with this name already exists."
        raise DuplicateEntry(message, field="name") from error


def create_named(
    clinic: Clinic, actor: Actor, kind: NamedList, name: str, slug: str = ""
) -> NamedItem:
    policy.require(actor, Kind.CATALOGUE, Action.CREATE)
    clean = validation.clean_name(name, field="name", max_length=validation.CATALOGUE_NAME_MAX)
    with clinic.work(actor) as work:
        session = work.session
        row = _TABLES[kind](name=clean, slug=validation.clean_slug(slug, fallback=clean))
        _refuse_duplicates(session, kind, row)
        session.add(row)
        _flush_unique(session, kind)
        work.record("create", kind.value, row.id, name=clean)
        work.publish(CATALOGUE)
        return _named(row)


def update_named(
    clinic: Clinic,
    actor: Actor,
    kind: NamedList,
    item_id: int,
    name: str | None,
    slug: str | None,
) -> NamedItem:
    policy.require(actor, Kind.CATALOGUE, Action.UPDATE)
    with clinic.work(actor) as work:
        session = work.session
        row = session.get(_TABLES[kind], item_id)
        if row is None:
            raise NotFound()
        if name is not None:
            row.name = validation.clean_name(
                name, field="name", max_length=validation.CATALOGUE_NAME_MAX
            )
        if slug is not None:
            row.slug = validation.clean_slug(slug, fallback=row.name)
        _refuse_duplicates(session, kind, row)
        _flush_unique(session, kind)
        work.record("update", kind.value, item_id)
        work.publish(CATALOGUE)
        return _named(row)


def _delete(clinic: Clinic, actor: Actor, kind: Kind, table: type, item_id: int) -> None:
    policy.require(actor, kind, Action.DELETE)
    with clinic.work(actor) as work:
        session = work.session
        row = session.get(table, item_id)
        if row is None:
            raise NotFound()
        session.delete(row)
        drop_image(session, getattr(row, "image_id", None))
        work.record("delete", table.__tablename__, item_id)
        work.publish(CATALOGUE)


def delete_named(clinic: Clinic, actor: Actor, kind: NamedList, item_id: int) -> None:
    _delete(clinic, actor, Kind.CATALOGUE, _TABLES[kind], item_id)


def delete_service(clinic: Clinic, actor: Actor, service_id: int) -> None:
    _delete(clinic, actor, Kind.CATALOGUE, ClinicService, service_id)


def delete_available_time(clinic: Clinic, actor: Actor, item_id: int) -> None:
    _delete(clinic, actor, Kind.CATALOGUE, AvailableTime, item_id)


def delete_contact(clinic: Clinic, actor: Actor, contact_id: int) -> None:
    _delete(clinic, actor, Kind.CONTACT, Contact, contact_id)


def specialisation_by_name(session: Session, name: str) -> Specialisation | None:
    """Match a speciality by name or slug, ignoring case (the booking API takes names)."""
    key = (name or "").strip().lower()
    for row in session.scalars(select(Specialisation)):
        if key in (row.name.lower(), row.slug.lower()):
            return row
    return None


# --- available times --------------------------------------------------------------------------


def list_available_times(
    clinic: Clinic, actor: Actor, item_id: int | None = None
) -> list[AvailableTimeItem]:
    policy.require(actor, Kind.CATALOGUE, Action.READ)
    with clinic.db.read() as session:
        query = select(AvailableTime).order_by(AvailableTime.id)
        if item_id is not None:
            query = query.where(AvailableTime.id == item_id)
        return [AvailableTimeItem(row.id, row.time) for row in session.scalars(query)]


def save_available_time(
    clinic: Clinic, actor: Actor, label: str, item_id: int | None = None
) -> AvailableTimeItem:
    policy.require(actor, Kind.CATALOGUE, Action.CREATE if item_id is None else Action.UPDATE)
    clean = validation.clean_name(label, field="time", max_length=validation.CATALOGUE_NAME_MAX)
    with clinic.work(actor) as work:
        session = work.session
        row = session.get(AvailableTime, item_id) if item_id is not None else AvailableTime()
        if row is None:
            raise NotFound()
        row.time = clean
        session.add(row)
        session.flush()
        work.record("save", "available_times", row.id, time=clean)
        work.publish(CATALOGUE)
        return AvailableTimeItem(row.id, row.time)


# --- images -----------------------------------------------------------------------------------


def store_image(session: Session, clinic: Clinic, data: bytes) -> StoredImage:
    """Keep an uploaded picture centrally, after checking it really is PNG, JPEG or WebP."""
    content_type, clean = reencode_image(
        data,
        max_bytes=clinic.settings.image_max_bytes,
        max_pixels=clinic.settings.image_max_pixels,
    )
    image = StoredImage(
        content_type=content_type, data=clean, sha256=hashlib.sha256(clean).hexdigest()
    )
    session.add(image)
    session.flush()
    return image


def replace_image(session: Session, clinic: Clinic, old_id: int | None, data: bytes) -> int:
    """Store a new picture in place of `old_id`, which goes: a replaced picture is not
    kept (nor served) for ever."""
    new_id = store_image(session, clinic, data).id
    drop_image(session, old_id)
    return new_id


def drop_image(session: Session, image_id: int | None) -> None:
    if image_id is not None:
        session.execute(delete(StoredImage).where(StoredImage.id == image_id))


def load_image(clinic: Clinic, actor: Actor, image_id: int) -> tuple[str, bytes]:
    policy.require(actor, Kind.IMAGE, Action.READ)
    with clinic.db.read() as session:
        image = session.get(StoredImage, image_id)
        if image is None:
            raise NotFound("Image not found.")
        return image.content_type, image.data


# --- services and contacts ---------------------------------------------------------------------


def _service(row: ClinicService) -> ServiceItem:
    return ServiceItem(row.id, row.name, row.description, row.image_id)


def _contact(row: Contact) -> ContactItem:
    return ContactItem(
        row.id, row.name, row.phone, row.message, as_utc(row.created_at), row.handled_at is not None
    )


def list_services(clinic: Clinic, actor: Actor) -> list[ServiceItem]:
    policy.require(actor, Kind.CATALOGUE, Action.READ)
    with clinic.db.read() as session:
        return [
            _service(row)
            for row in session.scalars(select(ClinicService).order_by(ClinicService.id))
        ]


def get_service(clinic: Clinic, actor: Actor, service_id: int) -> ServiceItem:
    policy.require(actor, Kind.CATALOGUE, Action.READ)
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
    policy.require(actor, Kind.CATALOGUE, Action.CREATE if service_id is None else Action.UPDATE)
    with clinic.work(actor) as work:
        session = work.session
        row = session.get(ClinicService, service_id) if service_id is not None else ClinicService()
        if row is None:
            raise NotFound()
        if name is not None or service_id is None:
            row.name = validation.clean_name(name, field="name")
        if description is not None:
            row.description = validation.clean_text(
                description, field="description", max_length=validation.LONG_TEXT_MAX
            )
        if image is not None:
            row.image_id = replace_image(session, clinic, row.image_id, image)
        session.add(row)
        session.flush()
        work.record("save", "services", row.id)
        work.publish(CATALOGUE)
        return _service(row)


def list_contacts(clinic: Clinic, actor: Actor) -> list[ContactItem]:
    policy.require(actor, Kind.CONTACT, Action.READ)
    with clinic.db.read() as session:
        return [_contact(row) for row in session.scalars(select(Contact).order_by(Contact.id))]


def get_contact(clinic: Clinic, actor: Actor, contact_id: int) -> ContactItem:
    policy.require(actor, Kind.CONTACT, Action.READ)
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
    """Anyone may leave a message; the desk reads and keeps them."""
    policy.require(actor, Kind.CONTACT, Action.CREATE if contact_id is None else Action.UPDATE)
    with clinic.work(actor) as work:
        session = work.session
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
            row.message = validation.clean_text(
                message, field="massage", max_length=validation.LONG_TEXT_MAX, required=True
            )
        session.add(row)
        session.flush()
        work.record("save", "contacts", row.id)
        return _contact(row)
