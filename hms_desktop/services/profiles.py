"""The hospital API's records: user profiles, patient and doctor records as that document
shows them (username, picture, phone / catalogue links), with paging and search."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, and_, delete, func, or_, select
from sqlalchemy.orm import Session, selectinload

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    DoctorMissing,
    DuplicateEntry,
    NotFound,
    PermissionDenied,
    PhoneTaken,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import Actor, Page, UserInfo
from hms_desktop.domain.policy import NOBODY, Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import access
from hms_desktop.services.accounts import (
    add_user,
    count_attempt,
    find_user,
    refuse_if_throttled,
    user_info,
)
from hms_desktop.services.catalogue import drop_image, replace_image
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.doctors import set_doctor_catalogue
from hms_desktop.store.sql import contains
from hms_desktop.store.tables import (
    Appointment,
    Doctor,
    Patient,
    Profile,
    Specialisation,
    User,
    doctor_available_times,
    doctor_designations,
    doctor_specialisations,
)


@dataclass(frozen=True)
class ProfileRecord:
    id: int
    user: UserInfo
    bio: str
    address: str
    date_of_birth: date | None
    picture_id: int | None
    created_at: datetime
    updated_at: datetime


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


def _page(session: Session, query: Select, offset: int, limit: int | None, convert) -> Page:  # type: ignore[no-untyped-def, type-arg]
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return Page(items=tuple(convert(row) for row in session.execute(query)), total=total)


# --- profiles ---------------------------------------------------------------------------------


def _profile_query() -> Select:  # type: ignore[type-arg]
    return (
        select(Profile, User)
        .join(User, User.id == Profile.user_id)
        .options(selectinload(User.patient), selectinload(User.doctor))
    )


def _profile(row) -> ProfileRecord:  # type: ignore[no-untyped-def]
    profile, user = row
    return ProfileRecord(
        id=profile.id,
        user=user_info(user),
        bio=profile.bio,
        address=profile.address,
        date_of_birth=profile.date_of_birth,
        picture_id=profile.picture_id,
        created_at=as_utc(profile.created_at),
        updated_at=as_utc(profile.updated_at),
    )


def list_profiles(
    clinic: Clinic,
    actor: Actor,
    *,
    search: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Page:
    """The profiles the actor may see: their own, and the patients' they may see (the desk:
    every patient; a doctor: those on their schedule); an admin all."""
    policy.require(actor, Kind.ACCOUNT, Action.READ)
    query = (
        _profile_query()
        .where(
            or_(
                and_(
                    User.role == Role.PATIENT.value,
                    access.condition(
                        actor,
                        Kind.PATIENT,
                        Action.READ,
                        user=User.id,
                        seen_by_doctor=select(Patient.id)
                        .where(Patient.user_id == User.id)
                        .scalar_subquery(),
                    ),
                ),
                and_(
                    User.role != Role.PATIENT.value,
                    access.condition(actor, Kind.ACCOUNT, Action.READ, user=User.id),
                ),
            )
        )
        .order_by(Profile.id)
    )
    if search and search.strip():
        query = query.where(
            or_(
                contains(User.username, search),
                contains(User.email, search),
                contains(User.first_name, search),
                contains(User.last_name, search),
            )
        )
    with clinic.db.read() as session:
        return _page(session, query, offset, limit, _profile)


def _account_access(session: Session, user: User) -> tuple[Kind, Owner]:
    """A patient's account is part of their patient record; anyone else's is an account."""
    if user.role == Role.PATIENT.value and user.patient is not None:
        return Kind.PATIENT, access.patient_owner(session, user.patient.id, user.id)
    return Kind.ACCOUNT, Owner(user_id=user.id)


def _own_profile(
    session: Session, actor: Actor, profile_id: int, action: Action = Action.READ
) -> tuple[Profile, User]:
    """The profile, if the actor may take `action` on it. One they may not even see is
    not shown to exist."""
    policy.require(actor, Kind.ACCOUNT, Action.READ)
    row = session.execute(_profile_query().where(Profile.id == profile_id)).first()
    if row is None:
        raise NotFound()
    profile, user = row
    kind, owner = _account_access(session, user)
    if not policy.allows(actor, kind, Action.READ, owner):
        if actor.role is Role.ANONYMOUS:
            raise policy.refusal(actor)
        raise NotFound()
    policy.require(actor, kind, action, owner)
    return profile, user


def get_profile(clinic: Clinic, actor: Actor, profile_id: int) -> ProfileRecord:
    with clinic.db.read() as session:
        return _profile(_own_profile(session, actor, profile_id))


def my_profile(clinic: Clinic, actor: Actor) -> ProfileRecord:
    policy.require(actor, Kind.ACCOUNT, Action.READ, Owner(user_id=actor.user_id))
    with clinic.db.read() as session:
        row = session.execute(
            _profile_query().where(Profile.user_id == (actor.user_id or -1))
        ).first()
        if row is None:
            raise NotFound()
        return _profile(row)


@dataclass(frozen=True)
class ProfileChanges:
    """Fields a profile form may change; None leaves a field as it is."""

    username: str | None = None
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    bio: str | None = None
    address: str | None = None
    date_of_birth: date | None = None
    picture: bytes | None = None


def _apply_profile(
    session: Session, clinic: Clinic, profile: Profile, user: User, changes: ProfileChanges
) -> None:
    if changes.username is not None:
        username = validation.clean_username(changes.username)
        other = find_user(session, username)
        if other is not None and other.id != user.id:
            # Asking for taken names counts like failed log-ins: usernames cannot be listed.
            guesser = f"rename:{user.id}"
            refuse_if_throttled(clinic, guesser, "")
            count_attempt(clinic, guesser, "")
            raise UsernameTaken(field="username")
        user.username = username
    if changes.email is not None:
        user.email = validation.clean_email(changes.email)
    if changes.first_name is not None:
        user.first_name = validation.clean_name(
            changes.first_name, field="first_name", required=False
        )
    if changes.last_name is not None:
        user.last_name = validation.clean_name(changes.last_name, field="last_name", required=False)
    if changes.bio is not None:
        profile.bio = validation.clean_text(
            changes.bio, field="bio", max_length=validation.LONG_TEXT_MAX
        )
    if changes.address is not None:
        profile.address = validation.clean_text(
            changes.address, field="address", max_length=validation.ADDRESS_MAX
        )
    if changes.date_of_birth is not None:
        profile.date_of_birth = validation.clean_birth_date(
            changes.date_of_birth, today=clinic.today()
        )
    if changes.picture is not None:
        profile.picture_id = replace_image(session, clinic, profile.picture_id, changes.picture)
    profile.updated_at = clinic.now()


def create_profile(clinic: Clinic, actor: Actor, changes: ProfileChanges) -> ProfileRecord:
    """The desk makes an account (a patient without a login yet) with its profile."""
    policy.require(actor, Kind.PATIENT, Action.CREATE, NOBODY)
    if not changes.username:
        raise ValidationError("Username is required.", field="username")
    with clinic.work(actor) as work:
        session = work.session
        user = add_user(session, username=changes.username, role=Role.PATIENT, password=None)
        user.patient = Patient()
        assert user.profile is not None
        _apply_profile(session, clinic, user.profile, user, changes)
        session.flush()
        work.record("create", "profile", user.profile.id, username=user.username)
        profile_id = user.profile.id
    return get_profile(clinic, actor, profile_id)


def update_profile(
    clinic: Clinic, actor: Actor, profile_id: int, changes: ProfileChanges
) -> ProfileRecord:
    with clinic.work(actor) as work:
        session = work.session
        profile, user = _own_profile(session, actor, profile_id, Action.UPDATE)
        _apply_profile(session, clinic, profile, user, changes)
        session.flush()
        work.record("update", "profile", profile_id)
    return get_profile(clinic, actor, profile_id)


def delete_profile(clinic: Clinic, actor: Actor, profile_id: int) -> None:
    """Removes the profile's details (bio, address, birth date, picture); the account stays."""
    with clinic.work(actor) as work:
        session = work.session
        profile, _ = _own_profile(session, actor, profile_id, Action.DELETE)
        session.delete(profile)
        drop_image(session, profile.picture_id)
        work.record("delete", "profile", profile_id)


# --- patient records ----------------------------------------------------------------------------


def _patient_query() -> Select:  # type: ignore[type-arg]
    return select(Patient, User.username).join(User, User.id == Patient.user_id)


def _patient(row) -> PatientCard:  # type: ignore[no-untyped-def]
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
        query = query.where(Patient.phone == (validation.normalize_phone(phone) or phone))
    if search and search.strip():
        text = search.strip()
        conditions = [
            contains(User.username, text),
            contains(Patient.phone, validation.phone_digits(text) or text),
        ]
        if (patient_id := validation.as_record_id(text)) is not None:
            conditions.append(Patient.id == patient_id)
        query = query.where(or_(*conditions))
    with clinic.db.read() as session:
        return _page(session, query, offset, limit, _patient)


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


def _set_phone(session: Session, patient: Patient, phone: str | None) -> None:
    clean = validation.normalize_phone(phone)
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
        _set_phone(session, patient, phone)
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
            _set_phone(session, patient, phone)
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


def _doctor_query() -> Select:  # type: ignore[type-arg]
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
    query = _doctor_query().order_by(Doctor.id)
    links = (
        (doctor_specialisations, doctor_specialisations.c.specialisation_id, specialisation_id),
        (doctor_designations, doctor_designations.c.designation_id, designation_id),
        (doctor_available_times, doctor_available_times.c.available_time_id, available_time_id),
    )
    for table, column, wanted in links:
        if wanted is not None:
            query = query.where(Doctor.id.in_(select(table.c.doctor_id).where(column == wanted)))
    if fee is not None:
        query = query.where(Doctor.fee == fee)
    if search and search.strip():
        query = query.where(
            or_(
                contains(User.username, search),
                contains(User.first_name + " " + User.last_name, search),
            )
        )
    with clinic.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return Page(items=tuple(_doctor(row) for row in session.scalars(query)), total=total or 0)


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
