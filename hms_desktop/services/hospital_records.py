"""The hospital API's patient and doctor records as that document shows them (username,
picture, phone / catalogue links), with paging and search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session, selectinload

from hms_desktop.domain import phones, policy, validation
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    DoctorMissing,
    DuplicateEntry,
    NotFound,
    PermissionDenied,
    PhoneTaken,
    ValidationError,
)
from hms_desktop.domain.models import Actor, Page
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.services import access
from hms_desktop.services.catalogue import drop_image, replace_image
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.doctors import set_doctor_catalogue, with_catalogue_filters
from hms_desktop.store.sql import AnyRow, AnySelect, contains, page_of
from hms_desktop.store.tables import (
    Appointment,
    Doctor,
    Patient,
    Specialisation,
    User,
    doctor_specialisations,
)


@dataclass(frozen=True)
class PatientCard:
    id: int
    user_id: int
    username: str
    picture_id: int | None
    phone: str | None


@dataclass(frozen=True)
class DoctorCard:
    id: int
    user_id: int
    username: str
    full_name: str
    picture_id: int | None
    designations: tuple[str, ...]
    specialisations: tuple[str, ...]
    available_time_ids: tuple[int, ...]
    fee: int | None
    meet_link: str


# --- patient records ----------------------------------------------------------------------------


def _patient_query() -> AnySelect:
    return select(Patient, User.username).join(User, User.id == Patient.user_id)


def _patient(row: AnyRow) -> PatientCard:
    patient, username = row
    return PatientCard(patient.id, patient.user_id, username, patient.picture_id, patient.phone)


def list_patient_cards(
    clinic: Clinic,
    actor: Actor,
    *,
    search: str | None = None,
    phone: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Page:
    """The patient records the actor may see: the desk all, a doctor those on their
    schedule, a patient their own."""
    visible = access.visible(
        actor,
        Kind.PATIENT,
        Action.READ,
        user=Patient.user_id,
        patient=Patient.id,
        seen_by_doctor=Patient.id,
    )
    query = _patient_query().where(visible).order_by(Patient.id)
    if phone:
        query = query.where(Patient.phone == _phone_filter(clinic, phone))
    if search and search.strip():
        text = search.strip()
        conditions = [
            contains(User.username, text),
            contains(Patient.phone, validation.phone_digits(text) or text),
        ]
        if phones.looks_like_phone(text):
            region = clinic.settings.default_phone_region
            conditions += [
                contains(Patient.phone, prefix)
                for prefix in phones.search_prefixes(text, region=region)
            ]
        if (patient_id := validation.as_record_id(text)) is not None:
            conditions.append(Patient.id == patient_id)
        query = query.where(or_(*conditions))
    with clinic.db.read() as session:
        return page_of(session, query, offset, limit, _patient)


def _load_patient(
    session: Session, actor: Actor, patient_id: int, action: Action = Action.READ
) -> Patient:
    """The patient record, if the actor may take `action` on it; one they may not even
    see is not shown to exist."""
    policy.require(actor, Kind.PATIENT, Action.READ)
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound()
    owner = access.patient_owner(session, patient.id, patient.user_id)
    if not policy.allows(actor, Kind.PATIENT, Action.READ, owner):
        if actor.role is Role.ANONYMOUS:
            raise policy.refusal(actor)
        raise NotFound()
    policy.require(actor, Kind.PATIENT, action, owner)
    return patient


def get_patient_card(clinic: Clinic, actor: Actor, patient_id: int) -> PatientCard:
    with clinic.db.read() as session:
        _load_patient(session, actor, patient_id)
        return _patient(session.execute(_patient_query().where(Patient.id == patient_id)).one())


def _phone_filter(clinic: Clinic, phone: str) -> str:
    """A `phone` filter in any form finds the E.164 number; one that is no number, itself."""
    try:
        return phones.to_e164(phone, region=clinic.settings.default_phone_region) or phone
    except ValidationError:
        return phone


def _set_phone(clinic: Clinic, session: Session, patient: Patient, phone: str | None) -> None:
    clean = phones.to_e164(phone, region=clinic.settings.default_phone_region)
    if clean is not None:
        owner = session.scalar(select(Patient.id).where(Patient.phone == clean))
        if owner is not None and owner != patient.id:
            raise PhoneTaken(field="phone")
    patient.phone = clean


def create_patient_card(
    clinic: Clinic, actor: Actor, *, phone: str | None = None, picture: bytes | None = None
) -> PatientCard:
    """The authenticated user's own patient record (one per user)."""
    policy.require(actor, Kind.PATIENT, Action.CREATE, Owner(user_id=actor.user_id))
    with clinic.work(actor) as work:
        session = work.session
        if session.scalar(select(Patient.id).where(Patient.user_id == actor.user_id)) is not None:
            raise DuplicateEntry("patient with this user already exists.", field="user")
        patient = Patient(user_id=actor.user_id)
        session.add(patient)
        session.flush()
        _set_phone(clinic, session, patient, phone)
        if picture is not None:
            patient.picture_id = replace_image(session, clinic, patient.picture_id, picture)
        session.flush()
        work.record("create", "patient", patient.id)
        patient_id = patient.id
    with clinic.db.read() as session:
        return _patient(session.execute(_patient_query().where(Patient.id == patient_id)).one())


def update_patient_card(
    clinic: Clinic,
    actor: Actor,
    patient_id: int,
    *,
    phone: str | None = None,
    picture: bytes | None = None,
    clear_phone: bool = False,
) -> PatientCard:
    with clinic.work(actor) as work:
        session = work.session
        patient = _load_patient(session, actor, patient_id, Action.UPDATE)
        if phone is not None or clear_phone:
            _set_phone(clinic, session, patient, phone)
        if picture is not None:
            patient.picture_id = replace_image(session, clinic, patient.picture_id, picture)
        session.flush()
        work.record("update", "patient", patient_id)
    return get_patient_card(clinic, actor, patient_id)


def delete_patient_card(clinic: Clinic, actor: Actor, patient_id: int) -> None:
    """Removes the patient record with its appointments and reviews; the account stays.
    Desks showing those appointments hear of each one's going."""
    with clinic.work(actor) as work:
        session = work.session
        patient = _load_patient(session, actor, patient_id, Action.DELETE)
        going = session.execute(
            select(Appointment.id, Appointment.slot_id, Appointment.doctor_id).where(
                Appointment.patient_id == patient_id
            )
        )
        for appointment_id, slot_id, doctor_id in going:
            work.publish(
                "cancel",
                appointment_id=appointment_id,
                slot_id=slot_id,
                doctor_id=doctor_id,
                patient_id=patient_id,
            )
        session.delete(patient)
        drop_image(session, patient.picture_id)
        work.record("delete", "patient", patient_id)


# --- doctor records -----------------------------------------------------------------------------


def _doctor_query() -> Select[Doctor]:
    return (
        select(Doctor)
        .join(User, User.id == Doctor.user_id)
        .options(
            selectinload(Doctor.user),
            selectinload(Doctor.specialisations),
            selectinload(Doctor.designations),
            selectinload(Doctor.available_times),
        )
    )


def _doctor(doctor: Doctor) -> DoctorCard:
    return DoctorCard(
        id=doctor.id,
        user_id=doctor.user_id,
        username=doctor.user.username,
        full_name=f"{doctor.user.first_name} {doctor.user.last_name}".strip(),
        picture_id=doctor.picture_id,
        designations=tuple(item.name for item in doctor.designations),
        specialisations=tuple(item.name for item in doctor.specialisations),
        available_time_ids=tuple(sorted(item.id for item in doctor.available_times)),
        fee=doctor.fee,
        meet_link=doctor.meet_link,
    )


@dataclass(frozen=True)
class DoctorListing:
    """The booking API's doctor list entry: the first specialisation is "the" speciality."""

    id: int
    full_name: str
    speciality: str | None


def doctor_listing(clinic: Clinic, actor: Actor) -> list[DoctorListing]:
    """Every doctor with their first specialisation: two flat queries, no ORM objects."""
    policy.require(actor, Kind.DOCTOR, Action.READ)
    doctors_query = (
        select(Doctor.id, User.first_name, User.last_name)
        .join(User, User.id == Doctor.user_id)
        .where(Doctor.is_active.is_(True))  # a deactivated doctor is not bookable
        .order_by(User.first_name, User.last_name, Doctor.id)
    )
    links_query = (
        select(doctor_specialisations.c.doctor_id, Specialisation.name)
        .join(Specialisation, Specialisation.id == doctor_specialisations.c.specialisation_id)
        .order_by(doctor_specialisations.c.position.desc())
    )
    with clinic.db.read() as session:
        # Ordered last to first, so the first specialisation is the one that stays.
        first = {doctor_id: name for doctor_id, name in session.execute(links_query)}
        return [
            DoctorListing(doctor_id, f"{first_name} {last_name}".strip(), first.get(doctor_id))
            for doctor_id, first_name, last_name in session.execute(doctors_query)
        ]


def list_doctor_cards(
    clinic: Clinic,
    actor: Actor,
    *,
    specialisation_id: int | None = None,
    designation_id: int | None = None,
    fee: int | None = None,
    available_time_id: int | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Page:
    policy.require(actor, Kind.DOCTOR, Action.READ)
    query = with_catalogue_filters(
        _doctor_query().where(Doctor.is_active.is_(True)).order_by(Doctor.id),
        specialisation_id=specialisation_id,
        designation_id=designation_id,
        available_time_id=available_time_id,
        fee=fee,
    )
    if search and search.strip():
        query = query.where(
            or_(
                contains(User.username, search),
                contains(User.first_name + " " + User.last_name, search),
            )
        )
    with clinic.db.read() as session:
        return page_of(session, query, offset, limit, lambda row: _doctor(row[0]))


def get_doctor_card(clinic: Clinic, actor: Actor, doctor_id: int) -> DoctorCard:
    policy.require(actor, Kind.DOCTOR, Action.READ, Owner(doctor_id=doctor_id))
    with clinic.db.read() as session:
        doctor = session.scalar(_doctor_query().where(Doctor.id == doctor_id))
        if doctor is None:
            raise DoctorMissing()
        return _doctor(doctor)


def create_doctor_record(
    clinic: Clinic,
    actor: Actor,
    *,
    fee: int | None = None,
    meet_link: str = "",
    specialisation_ids: Sequence[int] = (),
    designation_ids: Sequence[int] = (),
    available_time_ids: Sequence[int] = (),
    picture: bytes | None = None,
) -> DoctorCard:
    """The authenticated doctor's own record, when their account has none yet."""
    policy.require(actor, Kind.DOCTOR, Action.CREATE, Owner(user_id=actor.user_id))
    if actor.role is not Role.DOCTOR or actor.user_id is None:
        raise PermissionDenied("Only a doctor's account can have a doctor record.")
    if fee is not None and fee < 0:
        raise ValidationError("Fee cannot be negative.", field="fee")
    with clinic.work(actor) as work:
        session = work.session
        if session.scalar(select(Doctor.id).where(Doctor.user_id == actor.user_id)) is not None:
            raise DuplicateEntry("doctor with this user already exists.", field="user")
        doctor = Doctor(
            user_id=actor.user_id,
            fee=fee,
            meet_link=validation.clean_text(
                meet_link, field="meet_link", max_length=validation.SHORT_TEXT_MAX
            ),
        )
        session.add(doctor)
        session.flush()
        set_doctor_catalogue(
            session,
            doctor,
            specialisation_ids=list(specialisation_ids),
            designation_ids=list(designation_ids),
            available_time_ids=list(available_time_ids),
        )
        if picture is not None:
            doctor.picture_id = replace_image(session, clinic, doctor.picture_id, picture)
        session.flush()
        work.record("create", "doctor", doctor.id)
        work.publish("doctors", doctor_id=doctor.id)
        doctor_id = doctor.id
    return get_doctor_card(clinic, actor, doctor_id)


def delete_doctor_record(clinic: Clinic, actor: Actor, doctor_id: int) -> None:
    """Admins only: the doctor's slots, appointments and reviews go with the record."""
    policy.require(actor, Kind.DOCTOR, Action.DELETE, Owner(doctor_id=doctor_id))
    with clinic.work(actor) as work:
        session = work.session
        doctor = session.get(Doctor, doctor_id)
        if doctor is None:
            raise DoctorMissing()
        # Appointments point at slots with RESTRICT; they go first, then the cascade.
        session.execute(delete(Appointment).where(Appointment.doctor_id == doctor_id))
        session.delete(doctor)
        drop_image(session, doctor.picture_id)
        work.record("delete", "doctor", doctor_id)
        work.publish("schedule", doctor_id=doctor_id)
