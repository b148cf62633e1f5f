"""The admin's catalogue page and contact inbox: one set of verbs (list, add, rename,
delete) over specialisations, designations, available-time labels and services, and the
messages left through the contact form, marked handled when the desk has dealt with them.

Deleting an entry still linked to doctors (or, for an available time, to appointment
requests) is refused with how many use it: deleting it would change those records
silently (the link tables cascade)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hms_desktop.domain import policy
from hms_desktop.domain.doctor_records import CatalogueEntry, CatalogueKind
from hms_desktop.domain.errors import InUse, NotFound
from hms_desktop.domain.models import Actor, ContactItem
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import catalogue
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import (
    Appointment,
    AvailableTime,
    ClinicService,
    Contact,
    Designation,
    Specialisation,
    doctor_available_times,
    doctor_designations,
    doctor_specialisations,
)

_NAMED = {
    CatalogueKind.SPECIALISATIONS: NamedList.SPECIALISATIONS,
    CatalogueKind.DESIGNATIONS: NamedList.DESIGNATIONS,
}


def _uses(session: Session, kind: CatalogueKind) -> dict[int, int]:
    """How many records link to each entry of `kind`."""
    by_kind: dict[CatalogueKind, list[tuple[Any, Any]]] = {
        CatalogueKind.SPECIALISATIONS: [
            (doctor_specialisations.c.specialisation_id, doctor_specialisations)
        ],
        CatalogueKind.DESIGNATIONS: [(doctor_designations.c.designation_id, doctor_designations)],
        CatalogueKind.AVAILABLE_TIMES: [
            (doctor_available_times.c.available_time_id, doctor_available_times),
            (Appointment.available_time_id, Appointment.__table__),
        ],
        CatalogueKind.SERVICES: [],
    }
    links = by_kind[kind]
    counts: dict[int, int] = {}
    for column, table in links:
        query = select(column, func.count()).select_from(table).group_by(column)
        for item_id, count in session.execute(query):
            if item_id is not None:
                counts[item_id] = counts.get(item_id, 0) + count
    return counts


def list_entries(clinic: Clinic, actor: Actor, kind: CatalogueKind) -> list[CatalogueEntry]:
    policy.require(actor, Kind.CATALOGUE, Action.READ)
    with clinic.db.read() as session:
        uses = _uses(session, kind)
        if kind is CatalogueKind.SERVICES:
            services = session.scalars(select(ClinicService).order_by(ClinicService.name))
            return [
                CatalogueEntry(row.id, kind, row.name, row.description, row.image_id)
                for row in services
            ]
        if kind is CatalogueKind.AVAILABLE_TIMES:
            times = session.scalars(select(AvailableTime).order_by(AvailableTime.id))
            return [
                CatalogueEntry(row.id, kind, row.time, uses=uses.get(row.id, 0)) for row in times
            ]
        table = Specialisation if kind is CatalogueKind.SPECIALISATIONS else Designation
        rows = session.scalars(select(table).order_by(table.name))
        return [CatalogueEntry(row.id, kind, row.name, uses=uses.get(row.id, 0)) for row in rows]


def _entry(clinic: Clinic, actor: Actor, kind: CatalogueKind, item_id: int) -> CatalogueEntry:
    for entry in list_entries(clinic, actor, kind):
        if entry.id == item_id:
            return entry
    raise NotFound()


def save_entry(
    clinic: Clinic,
    actor: Actor,
    kind: CatalogueKind,
    name: str | None,
    *,
    item_id: int | None = None,
    description: str | None = None,
    image: bytes | None = None,
) -> CatalogueEntry:
    """Add an entry (`item_id` None) or rename one (`name` None: keep it); a service also
    keeps a description and an image. Every change is audited by the catalogue's own use cases."""
    if kind in _NAMED:
        named = _NAMED[kind]
        if item_id is None:
            item_id = catalogue.create_named(clinic, actor, named, name or "").id
        else:
            catalogue.update_named(clinic, actor, named, item_id, name, None)
    elif kind is CatalogueKind.AVAILABLE_TIMES:
        item_id = catalogue.save_available_time(clinic, actor, name or "", item_id).id
    else:
        item_id = catalogue.save_service(
            clinic,
            actor,
            service_id=item_id,
            name=name,
            description=description,
            image=image,
        ).id
    return _entry(clinic, actor, kind, item_id)


def delete_entry(clinic: Clinic, actor: Actor, kind: CatalogueKind, item_id: int) -> None:
    policy.require(actor, Kind.CATALOGUE, Action.DELETE)
    with clinic.db.read() as session:
        uses = _uses(session, kind).get(item_id, 0)
    if uses:
        what = "appointment request" if kind is CatalogueKind.AVAILABLE_TIMES else "doctor"
        noun = "record" if kind is CatalogueKind.AVAILABLE_TIMES else what
        raise InUse(
            f"{kind.label} is used by {uses} {noun}{'s' if uses != 1 else ''}; "
            f"remove it from {'them' if uses != 1 else 'it'} first.",
            field="name",
        )
    if kind in _NAMED:
        catalogue.delete_named(clinic, actor, _NAMED[kind], item_id)
    elif kind is CatalogueKind.SERVICES:
        catalogue.delete_service(clinic, actor, item_id)
    else:
        catalogue.delete_available_time(clinic, actor, item_id)


# --- the contact inbox ------------------------------------------------------------------------


def _message(row: Contact) -> ContactItem:
    return ContactItem(
        row.id, row.name, row.phone, row.message, as_utc(row.created_at), row.handled_at is not None
    )


def inbox(clinic: Clinic, actor: Actor, handled: bool | None = None) -> list[ContactItem]:
    """The contact form's messages, newest first; `handled` narrows to handled or not."""
    policy.require(actor, Kind.CONTACT, Action.READ)
    query = select(Contact).order_by(Contact.created_at.desc(), Contact.id.desc())
    if handled is not None:
        query = query.where(
            Contact.handled_at.is_not(None) if handled else Contact.handled_at.is_(None)
        )
    with clinic.db.read() as session:
        return [_message(row) for row in session.scalars(query)]


def mark_handled(
    clinic: Clinic, actor: Actor, contact_id: int, handled: bool = True
) -> ContactItem:
    policy.require(actor, Kind.CONTACT, Action.UPDATE)
    with clinic.work(actor) as work:
        row = work.session.get(Contact, contact_id)
        if row is None:
            raise NotFound()
        row.handled_at = clinic.now() if handled else None
        work.session.flush()
        work.record("handled" if handled else "unhandled", "contacts", contact_id)
        return _message(row)
