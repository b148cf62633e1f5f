"""The admin's doctors: add one (with or without a log-in), edit the record, change the
picture, deactivate (no longer bookable; their booked future visits are listed for
rebooking, never dropped) and reactivate. Weekly hours are `doctors.set_working_hours`."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hms_desktop.domain import policy, validation
from hms_desktop.domain.doctor_records import DoctorDeactivation, DoctorForm, DoctorRecord
from hms_desktop.domain.enums import FREEING_STATUSES, Role
from hms_desktop.domain.errors import DoctorMissing, UsernameTaken, ValidationError
from hms_desktop.domain.models import Actor, AppointmentRecord
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.services.accounts import add_user, find_user, hash_password
from hms_desktop.services.catalogue import replace_image
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.doctors import set_doctor_catalogue
from hms_desktop.services.scheduling.records import record_query, to_record
from hms_desktop.services.unit_of_work import UnitOfWork
from hms_desktop.store.tables import Appointment, Doctor, Slot, User


def _query():  # type: ignore[no-untyped-def]
    return select(Doctor).options(
        selectinload(Doctor.user),
        selectinload(Doctor.specialisations),
        selectinload(Doctor.designations),
    )


def _record(doctor: Doctor) -> DoctorRecord:
    user = doctor.user
    return DoctorRecord(
        id=doctor.id,
        user_id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        specialisation_ids=tuple(item.id for item in doctor.specialisations),
        specialisations=tuple(item.name for item in doctor.specialisations),
        designation_ids=tuple(item.id for item in doctor.designations),
        designations=tuple(item.name for item in doctor.designations),
        fee=doctor.fee,
        description=doctor.description,
        meet_link=doctor.meet_link,
        picture_id=doctor.picture_id,
        is_active=doctor.is_active,
        has_login=user.password_hash is not None,
    )


def _load(session: Session, doctor_id: int) -> Doctor:
    doctor = session.scalar(_query().where(Doctor.id == doctor_id))
    if doctor is None:
        raise DoctorMissing()
    return doctor


def doctor_roster(clinic: Clinic, actor: Actor) -> list[DoctorRecord]:
    """Every doctor, the deactivated ones too (the booking lists show only active ones)."""
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    with clinic.db.read() as session:
        query = _query().join(User, User.id == Doctor.user_id)
        rows = session.scalars(query.order_by(User.first_name, User.last_name, Doctor.id))
        return [_record(doctor) for doctor in rows]


def get_doctor_record(clinic: Clinic, actor: Actor, doctor_id: int) -> DoctorRecord:
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    with clinic.db.read() as session:
        return _record(_load(session, doctor_id))


def _clean_fee(fee: int | None) -> int | None:
    if fee is not None and fee < 0:
        raise ValidationError("Fee cannot be negative.", field="fee")
    return fee


def _apply(session: Session, clinic: Clinic, doctor: Doctor, form: DoctorForm) -> None:
    """The form's fields onto the doctor and their account (checked first, field by field)."""
    first = validation.clean_name(form.first_name, field="first_name")
    last = validation.clean_name(form.last_name, field="last_name", required=False)
    fee = _clean_fee(form.fee)
    meet_link = validation.clean_text(
        form.meet_link, field="meet_link", max_length=validation.SHORT_TEXT_MAX
    )
    description = validation.clean_text(
        form.description, field="description", max_length=validation.LONG_TEXT_MAX
    )
    email = validation.clean_email(form.email)
    doctor.user.first_name, doctor.user.last_name, doctor.user.email = first, last, email
    doctor.fee, doctor.meet_link, doctor.description = fee, meet_link, description
    set_doctor_catalogue(
        session,
        doctor,
        specialisation_ids=list(form.specialisation_ids),
        designation_ids=list(form.designation_ids),
    )


def _placeholder_username(session: Session) -> str:
    """A doctor without a log-in still has an account row (it carries the name); its
    username is one nobody can log in with, since it has no password."""
    while True:
        name = f"doctor-{secrets.token_hex(4)}"
        if find_user(session, name) is None:
            return name


def _set_login(session: Session, doctor: Doctor, form: DoctorForm) -> None:
    """A username in the form gives a doctor without a log-in one (a password is then
    needed), renames an existing log-in, and a password given replaces theirs."""
    if not form.username.strip():
        return
    username = validation.clean_username(form.username)
    if doctor.user.password_hash is None or form.password:
        doctor.user.password_hash = hash_password(validation.clean_password(form.password))
    if username.lower() != doctor.user.username.lower():
        taken = find_user(session, username)
        if taken is not None and taken.id != doctor.user_id:
            raise UsernameTaken()
    doctor.user.username = username


def _check_login_fields(form: DoctorForm) -> None:
    if form.username.strip():
        validation.clean_username(form.username)
        validation.clean_password(form.password)
    elif form.password:
        raise ValidationError("A log-in needs a username.", field="username")


def create_doctor(
    clinic: Clinic, actor: Actor, form: DoctorForm, picture: bytes | None = None
) -> DoctorRecord:
    """A new doctor; with `form.username`, also their log-in (a doctor account)."""
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    policy.require(actor, Kind.DOCTOR, Action.CREATE, Owner())
    _check_login_fields(form)
    with clinic.work(actor) as work:
        session = work.session
        with_login = bool(form.username.strip())
        user = add_user(
            session,
            username=form.username if with_login else _placeholder_username(session),
            role=Role.DOCTOR,
            password=form.password if with_login else None,
        )
        doctor = Doctor(user=user)
        session.add(doctor)
        session.flush()
        _apply(session, clinic, doctor, form)
        if picture is not None:
            doctor.picture_id = replace_image(session, clinic, None, picture)
        session.flush()
        work.record("create", "doctor", doctor.id, name=user.first_name, login=with_login)
        work.publish("doctors", doctor_id=doctor.id)
        return _record(_load(session, doctor.id))


def update_doctor_record(
    clinic: Clinic, actor: Actor, doctor_id: int, form: DoctorForm
) -> DoctorRecord:
    """Everything the editor shows, the log-in too (`_set_login`)."""
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    policy.require(actor, Kind.DOCTOR, Action.UPDATE, Owner(doctor_id=doctor_id))
    with clinic.work(actor) as work:
        session = work.session
        doctor = _load(session, doctor_id)
        _apply(session, clinic, doctor, form)
        _set_login(session, doctor, form)
        session.flush()
        work.record("update", "doctor", doctor_id, name=doctor.user.first_name)
        work.publish("doctors", doctor_id=doctor_id)
        return _record(_load(session, doctor_id))


def set_doctor_picture(clinic: Clinic, actor: Actor, doctor_id: int, data: bytes) -> DoctorRecord:
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    with clinic.work(actor) as work:
        session = work.session
        doctor = _load(session, doctor_id)
        doctor.picture_id = replace_image(session, clinic, doctor.picture_id, data)
        work.record("set_picture", "doctor", doctor_id)
        return _record(doctor)


def _future_bookings(session: Session, clinic: Clinic, doctor_id: int) -> list[AppointmentRecord]:
    rows = session.execute(
        record_query()
        .where(
            Appointment.doctor_id == doctor_id,
            Appointment.status.not_in(FREEING_STATUSES),
            Slot.start_at > clinic.now(),
        )
        .order_by(Slot.start_at)
    )
    return [to_record(row) for row in rows]


def bookings_to_rebook(clinic: Clinic, actor: Actor, doctor_id: int) -> list[AppointmentRecord]:
    """A doctor's booked future appointments (of a deactivated doctor: those to move)."""
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    with clinic.db.read() as session:
        _load(session, doctor_id)
        return _future_bookings(session, clinic, doctor_id)


def _set_active(work: UnitOfWork, doctor_id: int, active: bool) -> Doctor:
    doctor = _load(work.session, doctor_id)
    doctor.is_active = active
    work.session.flush()
    work.record("reactivate" if active else "deactivate", "doctor", doctor_id)
    # Every desk's lists and calendars follow at once.
    work.publish("doctors", doctor_id=doctor_id)
    work.publish("schedule", doctor_id=doctor_id)
    return doctor


def deactivate_doctor(clinic: Clinic, actor: Actor, doctor_id: int) -> DoctorDeactivation:
    """No longer bookable: hidden from the booking lists and both APIs' listings, holds on
    their slots refused. Booked future appointments stay booked and are answered for the
    desk to move; nothing is cancelled here."""
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    with clinic.work(actor) as work:
        doctor = _set_active(work, doctor_id, False)
        to_rebook = _future_bookings(work.session, clinic, doctor_id)
        deactivated = DoctorDeactivation(_record(doctor), tuple(to_rebook))
    _release_holds(clinic, doctor_id)
    return deactivated


def _release_holds(clinic: Clinic, doctor_id: int) -> None:
    """Holds taken on the doctor's slots before the deactivation are let go, so none of
    them can still be confirmed (new ones are refused by the hold check)."""
    with clinic.db.read() as session:
        slot_ids = session.scalars(
            select(Slot.id).where(Slot.doctor_id == doctor_id, Slot.start_at > clinic.now())
        ).all()
    for slot_id, hold in clinic.locks.get_many(slot_ids).items():
        if clinic.locks.release(slot_id, hold.token):
            clinic.publish(
                "release", slot_id=slot_id, doctor_id=doctor_id, patient_id=hold.patient_id
            )


def reactivate_doctor(clinic: Clinic, actor: Actor, doctor_id: int) -> DoctorRecord:
    policy.require(actor, Kind.DOCTOR, Action.MANAGE)
    with clinic.work(actor) as work:
        return _record(_set_active(work, doctor_id, True))
