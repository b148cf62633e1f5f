"""The hospital API's user profiles (bio, address, date of birth, picture): the owner's to
keep, with paging and search for those the policy lets see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    NotFound,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import Actor, Page, UserInfo
from hms_desktop.domain.policy import NOBODY, Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import access
from hms_desktop.services.accounts import (
    add_user,
    find_user,
    user_info,
)
from hms_desktop.services.catalogue import drop_image, replace_image
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.login_throttle import count_attempt, refuse_if_throttled
from hms_desktop.store.sql import AnyRow, AnySelect, contains, page_of
from hms_desktop.store.tables import (
    Patient,
    Profile,
    User,
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


# --- profiles ---------------------------------------------------------------------------------


def _profile_query() -> AnySelect:
    return (
        select(Profile, User)
        .join(User, User.id == Profile.user_id)
        .options(selectinload(User.patient), selectinload(User.doctor))
    )


def _profile(row: AnyRow | tuple[Profile, User]) -> ProfileRecord:
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
        return page_of(session, query, offset, limit, _profile)


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
