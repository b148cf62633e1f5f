"""Accounts: registration, log-in with lock-out, roles, and JWT access/refresh tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import bcrypt
import jwt
from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_desktop.domain import validation
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    AccountInactive,
    AccountLocked,
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    TokenInvalid,
    UsernameTaken,
)
from hms_desktop.domain.models import SYSTEM, Actor, TokenPair, UserInfo
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import audit
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Doctor, Patient, Profile, RevokedToken, User

ALGORITHM = "HS256"
# bcrypt's own cost; a desk log-in takes ~0.2 s, slow enough to blunt guessing.
BCRYPT_ROUNDS = 12
# A hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = bcrypt.hashpw(b"no-such-user", bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def _password_matches(password: str, password_hash: str | None) -> bool:
    return bcrypt.checkpw(password.encode(), (password_hash or _DUMMY_HASH).encode())


def user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id,
        username=user.username,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=Role(user.role),
        is_staff=user.is_staff,
        is_active=user.is_active,
        date_joined=as_utc(user.date_joined),  # SQLite hands back naive UTC
        patient_id=user.patient.id if user.patient else None,
        doctor_id=user.doctor.id if user.doctor else None,
    )


def actor_for(info: UserInfo) -> Actor:
    return Actor(
        user_id=info.id,
        username=info.username,
        role=info.role,
        patient_id=info.patient_id,
        doctor_id=info.doctor_id,
    )


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))


def add_user(
    session: Session,
    *,
    username: str,
    role: Role,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    gender: str = "",
    date_of_birth: date | None = None,
    address: str = "",
    password_rounds: int = BCRYPT_ROUNDS,
) -> User:
    """Insert a user with their profile (inside the caller's transaction)."""
    username = validation.clean_username(username)
    if find_user(session, username) is not None:
        raise UsernameTaken()
    user = User(
        username=username,
        email=validation.clean_email(email),
        first_name=first_name,
        last_name=last_name,
        password_hash=hash_password(password, password_rounds) if password else None,
        role=role.value,
        is_staff=role.is_staff,
        is_active=True,
    )
    user.profile = Profile(gender=gender, date_of_birth=date_of_birth, address=address)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as error:  # a racing registration of the same name
        raise UsernameTaken() from error
    return user


def create_user(
    clinic: Clinic,
    actor: Actor,
    *,
    username: str,
    role: Role,
    password: str | None,
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> UserInfo:
    """Staff accounts (admin, receptionist, doctor) made by an admin or IT."""
    if actor.role is not Role.ADMIN:
        raise PermissionDenied()
    if password is not None:
        validation.clean_password(password)
    with clinic.db.transaction() as session:
        user = add_user(
            session,
            username=username,
            role=role,
            password=password,
            first_name=validation.clean_name(first_name, field="first_name", required=False),
            last_name=validation.clean_name(last_name, field="last_name", required=False),
            email=email,
        )
        if role is Role.DOCTOR:
            user.doctor = Doctor()
        elif role is Role.PATIENT:
            user.patient = Patient()
        session.flush()
        audit.record(session, actor, "create", "user", user.id, username=user.username, role=role)
        return user_info(user)


def register_patient_account(
    clinic: Clinic,
    *,
    username: str,
    password: str,
    first_name: str,
    last_name: str = "",
    email: str = "",
    gender: str = "",
    date_of_birth: date | None = None,
) -> UserInfo:
    """Self-registration through either API: user, profile and patient record together."""
    validation.clean_password(password)
    first = validation.clean_name(first_name, field="first_name")
    last = validation.clean_name(last_name, field="last_name", required=False)
    birth = validation.clean_birth_date(date_of_birth, today=clinic.today())
    with clinic.db.transaction() as session:
        user = add_user(
            session,
            username=username,
            role=Role.PATIENT,
            password=password,
            first_name=first,
            last_name=last,
            email=email,
            gender=validation.clean_gender(gender),
            date_of_birth=birth,
        )
        user.patient = Patient()
        session.flush()
        audit.record(
            session, Actor(user.id, user.username, Role.PATIENT), "register", "user", user.id
        )
        return user_info(user)


def authenticate(clinic: Clinic, username: str, password: str) -> UserInfo:
    """Check a password; too many failures lock the account for a while."""
    settings = clinic.settings
    now = clinic.now()
    failure: AuthenticationFailed | None = None
    with clinic.db.transaction() as session:
        # Row-locked so racing failed log-ins all count; parallel guessing cannot dodge lock-out.
        user = session.scalar(
            select(User)
            .where(func.lower(User.username) == (username or "").strip().lower())
            .with_for_update()
        )
        matches = _password_matches(password or "", user.password_hash if user else None)
        if user is None or user.password_hash is None:
            failure = AuthenticationFailed()
        elif user.locked_until is not None and _aware(user.locked_until) > now:
            failure = AccountLocked()
        elif not matches:
            # The failure count is committed even though the log-in fails.
            user.failed_logins += 1
            if user.failed_logins >= settings.login_lockout_failures:
                user.locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                user.failed_logins = 0
                audit.record(session, SYSTEM, "lock", "user", user.id)
            failure = AuthenticationFailed()
        elif not user.is_active:
            failure = AccountInactive()
        else:
            user.failed_logins = 0
            user.locked_until = None
            info = user_info(user)
    if failure is not None:
        raise failure
    return info


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def password_is(clinic: Clinic, username: str, password: str) -> bool:
    """Whether an active account still has this password (no failure is counted)."""
    with clinic.db.read() as session:
        user = find_user(session, username)
        return bool(
            user
            and user.is_active
            and user.password_hash
            and _password_matches(password, user.password_hash)
        )


def get_user(clinic: Clinic, user_id: int) -> UserInfo:
    with clinic.db.read() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        return user_info(user)


def set_active(clinic: Clinic, actor: Actor, user_id: int, active: bool) -> UserInfo:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied()
    with clinic.db.transaction() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        user.is_active = active
        audit.record(session, actor, "activate" if active else "deactivate", "user", user_id)
        return user_info(user)


# --- tokens -------------------------------------------------------------------------------


def _encode(clinic: Clinic, info: UserInfo, kind: str, lifetime: timedelta) -> str:
    now = clinic.now()
    claims: dict[str, Any] = {
        "sub": str(info.id),
        "username": info.username,
        "role": info.role.value,
        "type": kind,
        "jti": uuid.uuid4().hex,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    return jwt.encode(claims, clinic.settings.secret_key, algorithm=ALGORITHM)


def issue_tokens(clinic: Clinic, info: UserInfo) -> TokenPair:
    settings = clinic.settings
    return TokenPair(
        access=_encode(clinic, info, "access", timedelta(minutes=settings.access_token_minutes)),
        refresh=_encode(clinic, info, "refresh", timedelta(days=settings.refresh_token_days)),
    )


def issue_session_token(clinic: Clinic, info: UserInfo) -> str:
    """The booking API's cookie session: lives as long as a refresh token, revocable."""
    return _encode(clinic, info, "session", timedelta(days=clinic.settings.refresh_token_days))


def _decode(clinic: Clinic, token: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            clinic.settings.secret_key,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "sub", "jti", "type"]},
            leeway=0,
        )
    except jwt.PyJWTError as error:
        raise TokenInvalid() from error
    if claims.get("type") not in kinds:
        raise TokenInvalid()
    return claims


def _is_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def verify_token(
    clinic: Clinic, token: str, kinds: tuple[str, ...] = ("access", "session")
) -> Actor:
    """The acting user behind a valid, unrevoked token of an active account."""
    claims = _decode(clinic, token, kinds)
    # Runs on every API request: one round trip for the account, its records and revocation.
    revoked = exists().where(RevokedToken.jti == claims["jti"])
    with clinic.db.read() as session:
        row = session.execute(
            select(User.username, User.role, User.is_active, Patient.id, Doctor.id, revoked)
            .outerjoin(Patient, Patient.user_id == User.id)
            .outerjoin(Doctor, Doctor.user_id == User.id)
            .where(User.id == int(claims["sub"]))
        ).first()
    if row is None or row[5] or not row.is_active:
        raise TokenInvalid()
    username, role, _, patient_id, doctor_id, _ = row
    return Actor(int(claims["sub"]), username, Role(role), patient_id, doctor_id)


def refresh_access(clinic: Clinic, refresh_token: str) -> str:
    claims = _decode(clinic, refresh_token, ("refresh",))
    with clinic.db.read() as session:
        if _is_revoked(session, claims["jti"]):
            raise TokenInvalid()
        user = session.get(User, int(claims["sub"]))
        if user is None or not user.is_active:
            raise TokenInvalid()
        info = user_info(user)
    return _encode(clinic, info, "access", timedelta(minutes=clinic.settings.access_token_minutes))


def revoke_token(
    clinic: Clinic, token: str, kinds: tuple[str, ...] = ("refresh", "session", "access")
) -> None:
    """Blacklist a token for good (logout); expired revocations are pruned on the way."""
    claims = _decode(clinic, token, kinds)
    expires = datetime.fromtimestamp(claims["exp"], UTC)
    try:
        with clinic.db.transaction() as session:
            session.execute(delete(RevokedToken).where(RevokedToken.expires_at < clinic.now()))
            if not _is_revoked(session, claims["jti"]):
                session.add(RevokedToken(jti=claims["jti"], expires_at=expires))
            audit.record(
                session,
                Actor(int(claims["sub"]), claims.get("username", ""), Role(claims["role"])),
                "logout",
                "token",
                claims["jti"],
            )
    except IntegrityError:
        # Another desk revoked the same token at the same moment: it is revoked either way.
        return
