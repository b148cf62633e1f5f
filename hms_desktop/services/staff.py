"""Staff administration: the admin's list of accounts, creating, deactivating, unlocking,
resetting a password; and everyone's own password change.

A reset password is temporary: it is shown once to the admin, and until its owner changes
it the policy lets the account do nothing else (`policy.WHILE_PASSWORD_RESET`), on the
desktop and through every API alike. A deactivated account cannot log in and its tokens
stop working (`accounts.authenticate`, `accounts.verify_token`).
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from hms_desktop.domain import policy, validation
from hms_desktop.domain.admin import STAFF_ROLES, StaffForm, StaffMember, TemporaryPassword
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import NotFound, UsernameTaken, ValidationError
from hms_desktop.domain.models import Actor, UserInfo
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import accounts, login_throttle
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Doctor, User

# Letters and digits no one misreads when reading a password aloud or off a screen.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TEMPORARY_LENGTH = 12
_STAFF = [role.value for role in STAFF_ROLES]


def temporary_password() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(TEMPORARY_LENGTH))


def member(user: User) -> StaffMember:
    return StaffMember(
        id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        role=Role(user.role),
        is_active=user.is_active,
        date_joined=as_utc(user.date_joined),
        locked_until=as_utc(user.locked_until) if user.locked_until else None,
        must_change_password=bool(user.must_change_password),
        has_password=user.password_hash is not None,
        doctor_id=user.doctor.id if user.doctor else None,
    )


def list_staff(clinic: Clinic, actor: Actor) -> list[StaffMember]:
    """Every admin, receptionist and doctor account, by role then name."""
    policy.require(actor, Kind.STAFF, Action.READ)
    with clinic.db.read() as session:
        users = session.scalars(
            select(User)
            .where(User.role.in_(_STAFF))
            .options(selectinload(User.doctor))
            .order_by(User.role, User.last_name, User.first_name, User.username)
        )
        return [member(user) for user in users]


def _staff_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.role not in _STAFF:
        raise NotFound("Staff account not found.")
    return user


def create_staff(clinic: Clinic, actor: Actor, form: StaffForm) -> TemporaryPassword:
    """A new account with a temporary password its owner changes at the first log-in."""
    policy.require(actor, Kind.STAFF, Action.CREATE)
    if form.role not in STAFF_ROLES:
        raise ValidationError("Choose receptionist, doctor or admin.", field="role")
    validation.clean_username(form.username)
    first = validation.clean_name(form.first_name, field="first_name")
    last = validation.clean_name(form.last_name, field="last_name", required=False)
    password = temporary_password()
    try:
        return _add_staff(clinic, actor, form, first, last, password)
    except UsernameTaken as error:
        raise UsernameTaken(field="username") from error


def _add_staff(
    clinic: Clinic, actor: Actor, form: StaffForm, first: str, last: str, password: str
) -> TemporaryPassword:
    with clinic.work(actor) as work:
        session = work.session
        user = accounts.add_user(
            session,
            username=form.username,
            role=form.role,
            password=password,
            first_name=first,
            last_name=last,
            email=form.email,
        )
        user.must_change_password = True
        if form.role is Role.DOCTOR:
            user.doctor = Doctor()
        session.flush()
        work.record("create", "user", user.id, username=user.username, role=form.role)
        return TemporaryPassword(member(user), password)


def set_staff_active(clinic: Clinic, actor: Actor, user_id: int, active: bool) -> StaffMember:
    """Deactivate (no log-in anywhere, its tokens refused) or reactivate an account."""
    policy.require(actor, Kind.STAFF, Action.UPDATE)
    if not active and user_id == actor.user_id:
        raise ValidationError("You cannot deactivate your own account.")
    with clinic.work(actor) as work:
        user = _staff_user(work.session, user_id)
        if not active and user.role == Role.ADMIN.value and _last_admin(work.session, user):
            raise ValidationError("The clinic needs at least one active admin.")
        if user.is_active != active:
            user.is_active = active
            work.record("reactivate" if active else "deactivate", "user", user_id)
        return member(user)


def _last_admin(session: Session, user: User) -> bool:
    others = session.scalars(
        select(User.id)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True), User.id != user.id)
        .limit(1)
    ).first()
    return others is None


def unlock_staff(clinic: Clinic, actor: Actor, user_id: int) -> StaffMember:
    """Forget the failed log-ins counted against this name on every desk and server."""
    policy.require(actor, Kind.STAFF, Action.UPDATE)
    with clinic.work(actor) as work:
        user = _staff_user(work.session, user_id)
        clinic.throttle.forget(login_throttle.throttle_name(user.username))
        user.locked_until = None
        user.failed_logins = 0
        work.record("unlock", "user", user_id)
        return member(user)


def reset_password(clinic: Clinic, actor: Actor, user_id: int) -> TemporaryPassword:
    """A new temporary password, shown once; the old one stops working at once and the
    account may do nothing but change it (also unlocks the name)."""
    policy.require(actor, Kind.STAFF, Action.UPDATE)
    if user_id == actor.user_id:
        # A reset would lock the admin out of everything but a password change, mid-session.
        raise ValidationError("Change your own password with “Change password”, not a reset.")
    password = temporary_password()
    with clinic.work(actor) as work:
        user = _staff_user(work.session, user_id)
        user.password_hash = accounts.hash_password(password)
        user.must_change_password = True
        user.locked_until = None
        clinic.throttle.forget(login_throttle.throttle_name(user.username))
        # The password itself is never written down, only that it was reset.
        work.record("reset_password", "user", user_id)
        return TemporaryPassword(member(user), password)


def change_own_password(clinic: Clinic, actor: Actor, current: str, new: str) -> UserInfo:
    """The caller's own password: the current one, then a new one by the API's rules."""
    policy.require(actor, Kind.PASSWORD, Action.UPDATE, Owner(user_id=actor.user_id))
    # Guessing the current password with a stolen session is throttled like a log-in.
    login_throttle.count_attempt(clinic, f"password-change:{actor.user_id}", actor.username)
    try:
        validation.clean_password(new)
    except ValidationError as error:
        raise ValidationError(error.message, field="new_password") from error
    if new == current:
        raise ValidationError("Choose a new password, not the current one.", field="new_password")
    with clinic.db.read() as session:
        user = session.get(User, actor.user_id)
        stored = user.password_hash if user else None
    if not accounts.password_matches(current or "", stored):
        raise ValidationError("The current password is not right.", field="current_password")
    with clinic.work(actor) as work:
        user = work.session.get(User, actor.user_id)
        if user is None or not user.is_active:
            raise NotFound("User not found.")
        user.password_hash = accounts.hash_password(new)
        user.must_change_password = False
        work.record("change_password", "user", user.id)
        return accounts.user_info(user)
