"""Doctors: listing by speciality, details, weekly hours that generate slots, free slots."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    Exists,
    Select,
    bindparam,
    delete,
    exists,
    func,
    insert,
    select,
)
from sqlalchemy.orm import Session, selectinload

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import FREEING_STATUSES
from hms_desktop.domain.errors import (
    DoctorMissing,
    InvalidSpeciality,
    ValidationError,
)
from hms_desktop.domain.models import (
    Actor,
    AvailableTimeItem,
    DoctorDetails,
    DoctorSummary,
    FreeSlot,
    ReviewRecord,
    SlotInfo,
    WorkingHours,
)
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import hours as hours_service
from hms_desktop.services.blocking import slot_is_blocked
from hms_desktop.services.catalogue import replace_image, specialisation_by_name
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.sql import AnySelect
from hms_desktop.store.tables import (
    Appointment,
    AvailableTime,
    Designation,
    Doctor,
    Patient,
    Profile,
    Review,
    Slot,
    Specialisation,
    User,
    doctor_available_times,
    doctor_designations,
    doctor_specialisations,
)

NEXT_FREE_SLOTS = 12
_ROSTER = (Kind.DOCTOR, Action.MANAGE)  # who sees deactivated doctors
MAX_WINDOW = validation.MAX_WINDOW


def slot_is_booked() -> Exists:
    """SQL: the slot has a live appointment (mirrors the partial unique index)."""
    return exists().where(
        Appointment.slot_id == Slot.id, Appointment.status.not_in(FREEING_STATUSES)
    )


def _summaries(session: Session, doctors: Sequence[Doctor]) -> list[DoctorSummary]:
    ids = [doctor.id for doctor in doctors]
    ratings = dict.fromkeys(ids, (None, 0))
    if ids:
        rows = session.execute(
            select(Review.doctor_id, func.avg(Review.rating), func.count(Review.id))
            .where(Review.doctor_id.in_(ids))
            .group_by(Review.doctor_id)
        )
        ratings.update({doctor_id: (float(avg), count) for doctor_id, avg, count in rows})
    return [
        DoctorSummary(
            id=doctor.id,
            user_id=doctor.user_id,
            full_name=f"{doctor.user.first_name} {doctor.user.last_name}".strip(),
            gender=doctor.user.profile.gender if doctor.user.profile else "",
            specialisations=tuple(item.name for item in doctor.specialisations),
            designations=tuple(item.name for item in doctor.designations),
            fee=doctor.fee,
            average_rating=ratings[doctor.id][0],
            review_count=ratings[doctor.id][1],
        )
        for doctor in doctors
    ]


def _doctor_query() -> Select[Doctor]:
    return select(Doctor).options(
        selectinload(Doctor.user).selectinload(User.profile),
        selectinload(Doctor.specialisations),
        selectinload(Doctor.designations),
        selectinload(Doctor.available_times),
    )


def with_catalogue_filters(
    query: Select[Doctor],
    *,
    specialisation_id: int | None = None,
    designation_id: int | None = None,
    available_time_id: int | None = None,
    fee: int | None = None,
) -> Select[Doctor]:
    """Doctors linked to each catalogue entry given (and charging `fee`, if given)."""
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
    return query


def list_doctors(
    clinic: Clinic,
    actor: Actor,
    *,
    specialisation_id: int | None = None,
    designation_id: int | None = None,
    fee: int | None = None,
    available_time_id: int | None = None,
    ids: Iterable[int] | None = None,
    inactive_too: bool = False,
) -> list[DoctorSummary]:
    policy.require(actor, Kind.DOCTOR, Action.READ)
    query = (
        _doctor_query()
        .join(User, User.id == Doctor.user_id)
        .order_by(User.first_name, User.last_name)
    )
    query = with_catalogue_filters(
        query,
        specialisation_id=specialisation_id,
        designation_id=designation_id,
        available_time_id=available_time_id,
        fee=fee,
    )
    if ids is not None:
        query = query.where(Doctor.id.in_(list(ids)))
    if not inactive_too:  # a deactivated doctor is in no booking list (the roster has them)
        query = query.where(Doctor.is_active.is_(True))
    with clinic.db.read() as session:
        return _summaries(session, session.scalars(query).all())


def get_doctor_summary(clinic: Clinic, actor: Actor, doctor_id: int) -> DoctorSummary:
    found = list_doctors(clinic, actor, ids=[doctor_id], inactive_too=True)
    if not found:
        raise DoctorMissing()
    return found[0]


def doctor_details(clinic: Clinic, actor: Actor, doctor_id: int) -> DoctorDetails:
    policy.require(actor, Kind.DOCTOR, Action.READ, Owner(doctor_id=doctor_id))
    with clinic.db.read() as session:
        doctor = session.scalar(
            _doctor_query()
            .options(selectinload(Doctor.working_hours))
            .where(Doctor.id == doctor_id)
        )
        if doctor is None or not (doctor.is_active or policy.allows(actor, *_ROSTER)):
            raise DoctorMissing()
        summary = _summaries(session, [doctor])[0]
        reviews = _reviews(session, doctor_id)
        details = DoctorDetails(
            summary=summary,
            description=doctor.description,
            meet_link=doctor.meet_link,
            date_of_birth=doctor.user.profile.date_of_birth if doctor.user.profile else None,
            working_hours=tuple(
                WorkingHours(row.weekday, row.start_time, row.end_time, row.slot_minutes)
                for row in doctor.working_hours
            ),
            available_times=tuple(
                AvailableTimeItem(row.id, row.time) for row in doctor.available_times
            ),
            next_free_slots=(),
            reviews=tuple(reviews),
        )
    now = clinic.now()
    free = free_slots(clinic, actor, [doctor_id], now, now + MAX_WINDOW, limit=NEXT_FREE_SLOTS)
    return dataclasses.replace(details, next_free_slots=tuple(free))


def _reviews(session: Session, doctor_id: int) -> list[ReviewRecord]:
    reviewer = select(Patient.id, User.first_name, User.last_name).join(User).subquery()
    rows = session.execute(
        select(Review, reviewer.c.first_name, reviewer.c.last_name)
        .join(reviewer, reviewer.c.id == Review.reviewer_id)
        .where(Review.doctor_id == doctor_id)
        .order_by(Review.created_on.desc(), Review.id.desc())
        .limit(50)
    )
    doctor_name = session.scalar(
        select(User.first_name + " " + User.last_name).join(Doctor).where(Doctor.id == doctor_id)
    )
    return [
        ReviewRecord(
            id=review.id,
            reviewer_patient_id=review.reviewer_id,
            reviewer=policy.public_name(first, last),
            doctor_id=doctor_id,
            doctor_name=(doctor_name or "").strip(),
            body=review.body,
            rating=review.rating,
            created_on=review.created_on,
        )
        for review, first, last in rows
    ]


def free_slots(
    clinic: Clinic,
    actor: Actor,
    doctor_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    limit: int | None = None,
) -> list[SlotInfo]:
    """Future slots of these doctors in [start, end) that are neither booked, held nor in
    leave, a holiday or blocked time."""
    policy.require(actor, Kind.SLOT, Action.READ)
    start, end = validation.check_window(start, end, fields=("startTime", "endTime"))
    query = (
        select(Slot.id, Slot.doctor_id, Slot.start_at, Slot.duration)
        .where(
            Slot.doctor_id.in_(
                select(Doctor.id).where(Doctor.id.in_(list(doctor_ids)), Doctor.is_active)
            ),
            Slot.start_at >= max(start, clinic.now()),
            Slot.start_at < end,
            ~slot_is_booked(),
            ~slot_is_blocked(Slot.doctor_id, Slot.start_at),
        )
        .order_by(Slot.start_at, Slot.doctor_id)
    )
    # Over-fetch a little so holds filtered out below still leave `limit` slots; if many are
    # held, read on page by page until there are enough or none are left.
    batch = limit * 4 if limit else None
    found: list[SlotInfo] = []
    offset = 0
    while True:
        with clinic.db.read() as session:
            rows = session.execute(query.offset(offset or None).limit(batch)).all()
        held = clinic.locks.get_many(row.id for row in rows)
        found += [
            SlotInfo(row.id, row.doctor_id, as_utc(row.start_at), row.duration)
            for row in rows
            if row.id not in held
        ]
        if not limit or len(found) >= limit or len(rows) < limit * 4:
            return found[:limit] if limit else found
        offset += len(rows)


def _free_by_speciality(speciality: Any) -> AnySelect:
    """Free future slots of a speciality's active doctors in [start, end), each with its
    doctor's name, gender and fee: one statement, narrow Core rows."""
    return (
        select(
            Slot.id,
            Slot.doctor_id,
            Slot.start_at,
            Slot.duration,
            User.first_name,
            User.last_name,
            Profile.gender,
            Doctor.fee,
        )
        .select_from(Slot)
        .join(
            doctor_specialisations,
            (doctor_specialisations.c.doctor_id == Slot.doctor_id)
            & (doctor_specialisations.c.specialisation_id == speciality),
        )
        # A deactivated doctor's slots are not bookable.
        .join(Doctor, (Doctor.id == Slot.doctor_id) & Doctor.is_active)
        .join(User, User.id == Doctor.user_id)
        .join(Profile, Profile.user_id == User.id, isouter=True)
        .where(
            Slot.start_at >= bindparam("start"),
            Slot.start_at < bindparam("end"),
            ~slot_is_booked(),
            ~slot_is_blocked(Slot.doctor_id, Slot.start_at),
        )
        .order_by(Slot.start_at, Slot.doctor_id)
    )


# Built once (thousands of slots per answer, on every calendar and patient search): the
# speciality is matched by name or slug inside the same statement, so an answer is one
# round trip. SQL's lower() folds only ASCII on SQLite, so an empty answer is checked
# against `specialisation_by_name` (Python's folding) before it is believed.
_key: BindParameter[str] = bindparam("key")
_FREE_BY_SPECIALITY_NAME = _free_by_speciality(
    select(Specialisation.id)
    .where((func.lower(Specialisation.name) == _key) | (func.lower(Specialisation.slug) == _key))
    .order_by(Specialisation.id)
    .limit(1)
    .scalar_subquery()
)
_FREE_BY_SPECIALITY_ID = _free_by_speciality(bindparam("speciality_id"))


def free_slots_by_speciality(
    clinic: Clinic, actor: Actor, speciality: str, start: datetime, end: datetime
) -> list[FreeSlot]:
    """Every free future slot of every doctor of a speciality in [start, end)."""
    policy.require(actor, Kind.SLOT, Action.READ)
    start, end = validation.check_window(start, end, fields=("startTime", "endTime"))
    window = {"start": max(start, clinic.now()), "end": end}
    with clinic.db.read() as session:
        connection = session.connection()
        key = (speciality or "").strip().lower()
        rows = connection.execute(_FREE_BY_SPECIALITY_NAME, {"key": key, **window}).all()
        if not rows:
            specialisation = specialisation_by_name(session, speciality)
            if specialisation is None:
                raise InvalidSpeciality()
            rows = connection.execute(
                _FREE_BY_SPECIALITY_ID, {"speciality_id": specialisation.id, **window}
            ).all()
    held = clinic.locks.get_many(row[0] for row in rows)
    # PostgreSQL sessions run in UTC and hand back `timezone.utc` times already; SQLite's
    # come back naive. One check for the whole answer, not a call per slot.
    in_utc = not rows or rows[0][2].tzinfo is UTC
    doctor_of: dict[int, tuple[str, str, int | None]] = {}
    found = []
    for slot_id, doctor_id, start_at, duration, first, last, gender, fee in rows:
        if slot_id in held:
            continue
        doctor = doctor_of.get(doctor_id)
        if doctor is None:
            doctor = doctor_of[doctor_id] = (f"{first} {last}".strip(), gender or "", fee)
        found.append(
            FreeSlot(
                slot_id,
                doctor_id,
                *doctor,
                start_at if in_utc else as_utc(start_at),
                duration,
            )
        )
    return found


# --- doctors' records and hours --------------------------------------------------------------


def set_doctor_catalogue(
    session: Session,
    doctor: Doctor,
    *,
    specialisation_ids: Sequence[int] | None = None,
    designation_ids: Sequence[int] | None = None,
    available_time_ids: Sequence[int] | None = None,
) -> None:
    """Link a doctor to catalogue entries, keeping the given order of specialisations."""
    if specialisation_ids is not None:
        found = {
            row.id: row
            for row in session.scalars(
                select(Specialisation).where(Specialisation.id.in_(specialisation_ids))
            )
        }
        _require_all(found, specialisation_ids, "specialisation")
        session.execute(
            delete(doctor_specialisations).where(doctor_specialisations.c.doctor_id == doctor.id)
        )
        for position, item_id in enumerate(dict.fromkeys(specialisation_ids)):
            session.execute(
                insert(doctor_specialisations).values(
                    doctor_id=doctor.id, specialisation_id=item_id, position=position
                )
            )
        session.expire(doctor, ["specialisations"])
    if designation_ids is not None:
        designations = list(
            session.scalars(select(Designation).where(Designation.id.in_(designation_ids)))
        )
        _require_all({row.id: row for row in designations}, designation_ids, "designation")
        doctor.designations = designations
    if available_time_ids is not None:
        times = list(
            session.scalars(select(AvailableTime).where(AvailableTime.id.in_(available_time_ids)))
        )
        _require_all({row.id: row for row in times}, available_time_ids, "available_time")
        doctor.available_times = times


def _require_all(found: Mapping[int, object], wanted: Sequence[int], field: str) -> None:
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise ValidationError(f"Unknown {field.replace('_', ' ')} id(s): {missing}.", field=field)


def set_working_hours(
    clinic: Clinic, actor: Actor, doctor_id: int, hours: Sequence[WorkingHours]
) -> int:
    """Replace a doctor's weekly hours (see `hours.change_working_hours`). Returns how many
    slots the new hours make within the booking horizon."""
    return hours_service.change_working_hours(clinic, actor, doctor_id, hours).slots


def update_doctor(
    clinic: Clinic,
    actor: Actor,
    doctor_id: int,
    *,
    fee: int | None = None,
    meet_link: str | None = None,
    description: str | None = None,
    specialisation_ids: Sequence[int] | None = None,
    designation_ids: Sequence[int] | None = None,
    available_time_ids: Sequence[int] | None = None,
    picture: bytes | None = None,
) -> DoctorSummary:
    policy.require(actor, Kind.DOCTOR, Action.UPDATE, Owner(doctor_id=doctor_id))
    if fee is not None and fee < 0:
        raise ValidationError("Fee cannot be negative.", field="fee")
    if meet_link is not None:
        meet_link = validation.clean_text(
            meet_link, field="meet_link", max_length=validation.SHORT_TEXT_MAX
        )
    if description is not None:
        description = validation.clean_text(
            description, field="description", max_length=validation.LONG_TEXT_MAX
        )
    with clinic.work(actor) as work:
        session = work.session
        doctor = session.get(Doctor, doctor_id)
        if doctor is None:
            raise DoctorMissing()
        if fee is not None:
            doctor.fee = fee
        if meet_link is not None:
            doctor.meet_link = meet_link
        if description is not None:
            doctor.description = description
        if picture is not None:
            doctor.picture_id = replace_image(session, clinic, doctor.picture_id, picture)
        set_doctor_catalogue(
            session,
            doctor,
            specialisation_ids=specialisation_ids,
            designation_ids=designation_ids,
            available_time_ids=available_time_ids,
        )
        work.record("update", "doctor", doctor_id)
        work.publish("doctors", doctor_id=doctor_id)  # the public's kept answers go
    return get_doctor_summary(clinic, actor, doctor_id)
