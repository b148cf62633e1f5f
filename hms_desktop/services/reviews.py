"""Patients' reviews of doctors (rating 1-5, shown as stars)."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session, aliased

from hms_desktop.domain import policy, validation
from hms_desktop.domain.errors import DoctorMissing, NotFound, PermissionDenied
from hms_desktop.domain.models import Actor, Page, ReviewRecord
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.sql import contains
from hms_desktop.store.tables import Doctor, Patient, Review, User

_Reviewer = aliased(User, name="reviewer_user")
_DoctorUser = aliased(User, name="doctor_user")


def _query() -> Select:  # type: ignore[type-arg]
    return (
        select(
            Review,
            _Reviewer.first_name,
            _Reviewer.last_name,
            _DoctorUser.first_name,
            _DoctorUser.last_name,
        )
        .join(Patient, Patient.id == Review.reviewer_id)
        .join(_Reviewer, _Reviewer.id == Patient.user_id)
        .join(Doctor, Doctor.id == Review.doctor_id)
        .join(_DoctorUser, _DoctorUser.id == Doctor.user_id)
    )


def _record(row) -> ReviewRecord:  # type: ignore[no-untyped-def]
    review, r_first, r_last, d_first, d_last = row
    return ReviewRecord(
        id=review.id,
        reviewer_patient_id=review.reviewer_id,
        reviewer=policy.public_name(r_first, r_last),
        doctor_id=review.doctor_id,
        doctor_name=f"{d_first} {d_last}".strip(),
        body=review.body,
        rating=review.rating,
        created_on=review.created_on,
    )


def _load(session: Session, review_id: int) -> ReviewRecord:
    row = session.execute(_query().where(Review.id == review_id)).first()
    if row is None:
        raise NotFound()
    return _record(row)


def list_reviews(
    clinic: Clinic,
    actor: Actor,
    *,
    doctor_id: int | None = None,
    reviewer_id: int | None = None,
    rating: int | None = None,
    search: str | None = None,
    offset: int = 0,
    limit: int | None = None,
) -> Page:
    policy.require(actor, Kind.REVIEW, Action.READ)
    query = _query()
    if doctor_id is not None:
        query = query.where(Review.doctor_id == doctor_id)
    if reviewer_id is not None:
        query = query.where(Review.reviewer_id == reviewer_id)
    if rating is not None:
        query = query.where(Review.rating == rating)
    if search and search.strip():
        # Reviewers are found by the name the public sees of them (their first name).
        query = query.where(
            or_(
                contains(_Reviewer.first_name, search),
                contains(_DoctorUser.first_name + " " + _DoctorUser.last_name, search),
            )
        )
    with clinic.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        query = query.order_by(Review.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return Page(items=tuple(_record(row) for row in session.execute(query)), total=total)


def get_review(clinic: Clinic, actor: Actor, review_id: int) -> ReviewRecord:
    policy.require(actor, Kind.REVIEW, Action.READ)
    with clinic.db.read() as session:
        return _load(session, review_id)


def write_review(
    clinic: Clinic, actor: Actor, doctor_id: int, body: str, rating: int | str
) -> ReviewRecord:
    if not policy.allows(actor, Kind.REVIEW, Action.CREATE, Owner(patient_id=actor.patient_id)):
        raise (
            policy.refusal(actor)
            if actor.user_id is None
            else PermissionDenied("Only patients can write reviews.")
        )
    assert actor.patient_id is not None  # a patient's own review
    stars = validation.clean_rating(rating)
    body = validation.clean_text(body, field="body", max_length=validation.LONG_TEXT_MAX)
    with clinic.work(actor) as work:
        session = work.session
        if session.get(Doctor, doctor_id) is None:
            raise DoctorMissing()
        review = Review(
            reviewer_id=actor.patient_id,
            doctor_id=doctor_id,
            body=body,
            rating=stars,
            created_on=clinic.today(),
        )
        session.add(review)
        session.flush()
        work.record("create", "review", review.id)
        return _load(session, review.id)


def _own_review(session: Session, actor: Actor, review_id: int, action: Action) -> Review:
    review = session.get(Review, review_id)
    if review is None:
        raise NotFound()
    policy.require(actor, Kind.REVIEW, action, Owner(patient_id=review.reviewer_id))
    return review


def edit_review(
    clinic: Clinic,
    actor: Actor,
    review_id: int,
    *,
    doctor_id: int | None = None,
    body: str | None = None,
    rating: int | str | None = None,
) -> ReviewRecord:
    if body is not None:
        body = validation.clean_text(body, field="body", max_length=validation.LONG_TEXT_MAX)
    with clinic.work(actor) as work:
        session = work.session
        review = _own_review(session, actor, review_id, Action.UPDATE)
        if doctor_id is not None:
            if session.get(Doctor, doctor_id) is None:
                raise DoctorMissing()
            review.doctor_id = doctor_id
        if body is not None:
            review.body = body
        if rating is not None:
            review.rating = validation.clean_rating(rating)
        session.flush()
        work.record("update", "review", review_id)
        return _load(session, review_id)


def delete_review(clinic: Clinic, actor: Actor, review_id: int) -> None:
    with clinic.work(actor) as work:
        session = work.session
        session.delete(_own_review(session, actor, review_id, Action.DELETE))
        work.record("delete", "review", review_id)
