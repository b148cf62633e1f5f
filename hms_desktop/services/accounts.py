"""Accounts: registration, log-in with lock-out, roles, and JWT access/refresh tokens."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import bcrypt
import jwt
from sqlalchemy import delete, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_desktop.domain import policy, validation
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    AccountInactive,
    AuthenticationFailed,
    NotForDesk,
    NotFound,
    RateLimited,
    TokenInvalid,
    UsernameTaken,
)
from hms_desktop.domain.models import ANONYMOUS, Actor, TokenPair, UserInfo
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services.account_versions import TOKEN_OWNERS
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.login_throttle import (
    count_attempt,
    refuse_if_throttled,
    throttle_keys,
)
from hms_desktop.store.tables import Doctor, Patient, Profile, RevokedToken, User

ALGORITHM = "HS256"
# bcrypt's own cost; a desk log-in takes ~0.2 s, slow enough to blunt guessing.
BCRYPT_ROUNDS = 12
# A hash to compare against when the user does not exist, so timing does not tell. A
# constant: hashing it at import cost every process a third of a second.
_DUMMY_HASH = "$2b$12$sj1I7c0gKUMR61LuE50roeOKBqdrIcztWSv5EF8k5JgdzGbD.eXN2"
# bcrypt reads at most this many bytes of a password.
_BCRYPT_MAX_BYTES = 72


def hash_password(password: str, rounds: int = BCRYPT_ROUNDS) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def password_matches(password: str, password_hash: str | None) -> bool:
    """A password bcrypt cannot take (too long, not encodable) simply does not match, after
    the same work as a wrong one."""
    try:
        candidate = password.encode()
    except UnicodeEncodeError:
        candidate = b""
    if len(candidate) > _BCRYPT_MAX_BYTES:
        candidate = b""
    matches = bcrypt.checkpw(candidate, (password_hash or _DUMMY_HASH).encode())
    return matches and bool(candidate)


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
        must_change_password=bool(user.must_change_password),
    )


def actor_for(info: UserInfo) -> Actor:
    return Actor(
        user_id=info.id,
        username=info.username,
        role=info.role,
        patient_id=info.patient_id,
        doctor_id=info.doctor_id,
        must_change_password=info.must_change_password,
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
    policy.require(actor, Kind.STAFF, Action.CREATE)
    if password is not None:
        validation.clean_password(password)
    with clinic.work(actor) as work:
        session = work.session
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
        work.record("create", "user", user.id, username=user.username, role=role)
        return user_info(user)


def register_patient_account(
    clinic: Clinic,
    actor: Actor,
    *,
    client: str,
    username: str,
    password: str,
    first_name: str,
    last_name: str = "",
    email: str = "",
    gender: str = "",
    date_of_birth: date | None = None,
) -> UserInfo:
    """Self-registration through either API: user, profile and patient record together.
    Asking for a taken name counts like a failed log-in from `client`, so the names in use
    cannot be listed by trying them."""
    policy.require(actor, Kind.ACCOUNT, Action.CREATE)
    refuse_if_throttled(clinic, client, username)
    registrations = clinic.throttle.parse(clinic.settings.rate_limit_register)
    if not clinic.throttle.hit(registrations, "register", client):
        wait = clinic.throttle.retry_after(registrations, "register", client) or 1
        raise RateLimited.after(wait)
    validation.clean_password(password)
    first = validation.clean_name(first_name, field="first_name")
    last = validation.clean_name(last_name, field="last_name", required=False)
    birth = validation.clean_birth_date(date_of_birth, today=clinic.today())
    try:
        return _add_patient_account(
            clinic,
            username=username,
            password=password,
            first_name=first,
            last_name=last,
            email=email,
            gender=validation.clean_gender(gender),
            date_of_birth=birth,
        )
    except UsernameTaken:
        count_attempt(clinic, client, username)
        raise


def _add_patient_account(
    clinic: Clinic,
    *,
    username: str,
    password: str,
    first_name: str,
    last_name: str,
    email: str,
    gender: str,
    date_of_birth: date | None,
) -> UserInfo:
    with clinic.work(ANONYMOUS) as work:
        session = work.session
        user = add_user(
            session,
            username=username,
            role=Role.PATIENT,
            password=password,
            first_name=first_name,
            last_name=last_name,
            email=email,
            gender=gender,
            date_of_birth=date_of_birth,
        )
        user.patient = Patient()
        session.flush()
        # The new patient registered themselves.
        work.record("register", "user", user.id, by=Actor(user.id, user.username, Role.PATIENT))
        return user_info(user)


def log_in(clinic: Clinic, username: str, password: str, *, client: str) -> UserInfo:
    """Check a password for someone at `client` (an address, or a desk's name). Attempts are
    counted per client: a stranger guessing cannot lock the owner out elsewhere. A success
    forgets this client's earlier slips with this name."""
    count_attempt(clinic, client, username)
    user = authenticate(clinic, username, password)
    per_name, _ = throttle_keys(clinic, client, username)
    clinic.throttle.clear(clinic.throttle.parse(clinic.settings.rate_limit_login), *per_name)
    return user


def log_in_at_desk(clinic: Clinic, username: str, password: str, *, client: str) -> UserInfo:
    """A log-in to the desktop or the desk API: staff and doctors only."""
    user = log_in(clinic, username, password, client=client)
    require_desk(actor_for(user))
    return user


def require_desk(actor: Actor) -> Actor:
    if not policy.allows(actor, Kind.DESK, Action.USE):
        raise NotForDesk() if actor.role is Role.PATIENT else policy.refusal(actor)
    return actor


def authenticate(clinic: Clinic, username: str, password: str) -> UserInfo:
    """Whether the password is right; the same answer for a wrong password and for an
    account that does not exist. Throttling is `log_in`'s."""
    with clinic.db.read() as session:
        user = find_user(session, (username or "")[:150])
        matches = password_matches(password or "", user.password_hash if user else None)
        if user is None or user.password_hash is None or not matches:
            raise AuthenticationFailed()
        if not user.is_active:
            raise AccountInactive()
        return user_info(user)


def password_is(clinic: Clinic, username: str, password: str) -> bool:
    """Whether an active account still has this password (no failure is counted)."""
    with clinic.db.read() as session:
        user = find_user(session, username)
        return bool(
            user
            and user.is_active
            and user.password_hash
            and password_matches(password, user.password_hash)
        )


def get_user(clinic: Clinic, actor: Actor, user_id: int) -> UserInfo:
    policy.require(actor, Kind.ACCOUNT, Action.READ, Owner(user_id=user_id))
    with clinic.db.read() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        return user_info(user)


def set_active(clinic: Clinic, actor: Actor, user_id: int, active: bool) -> UserInfo:
    policy.require(actor, Kind.STAFF, Action.UPDATE)
    with clinic.work(actor) as work:
        session = work.session
        user = session.get(User, user_id)
        if user is None:
            raise NotFound("User not found.")
        user.is_active = active
        work.record("activate" if active else "deactivate", "user", user_id)
        return user_info(user)


# --- tokens -------------------------------------------------------------------------------


def _encode(
    clinic: Clinic,
    info: UserInfo,
    kind: str,
    lifetime: timedelta,
    sid: str | None = None,
    desk: str | None = None,
) -> str:
    """A signed token. `sid` names the log-in it belongs to: logging out revokes the sid,
    and with it every access token that log-in was ever given."""
    now = clinic.now()
    jti = uuid.uuid4().hex
    claims: dict[str, Any] = {
        "sub": str(info.id),
        "username": info.username,
        "role": info.role.value,
        "type": kind,
        "jti": jti,
        "sid": sid or jti,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    if desk is not None:  # a desk log-in: its holds are this desk's (desk_session)
        claims["desk"] = desk
    return jwt.encode(claims, clinic.settings.secret_key, algorithm=ALGORITHM)


def issue_tokens(clinic: Clinic, info: UserInfo, *, desk: str | None = None) -> TokenPair:
    """Access + refresh tokens of one log-in; `desk` names the desk it is made at."""
    settings = clinic.settings
    sid = uuid.uuid4().hex
    access = timedelta(minutes=settings.access_token_minutes)
    refresh = timedelta(days=settings.refresh_token_days)
    return TokenPair(
        access=_encode(clinic, info, "access", access, sid, desk),
        refresh=_encode(clinic, info, "refresh", refresh, sid, desk),
    )


def at_desk(actor: Actor, login_id: str, desk: str) -> Actor:
    """The actor of one desk log-in: its holds are its own, not every desk of the account's.
    Holds keep a digest of the log-in's id, never the id itself."""
    digest = hashlib.sha256(login_id.encode()).hexdigest()[:16]
    return dataclasses.replace(actor, desk_session=digest, desk_name=desk)


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


def token_claims(clinic: Clinic, token: str, kinds: tuple[str, ...]) -> dict[str, Any]:
    """A token's claims once its signature, expiry and type are checked (not whether it was
    revoked, nor its account: `verify_token` reads those)."""
    return _decode(clinic, token, kinds)


def _revocation_ids(claims: dict[str, Any]) -> list[str]:
    return list({claims["jti"], claims.get("sid") or claims["jti"]})


def _is_revoked(session: Session, claims: dict[str, Any]) -> bool:
    ids = _revocation_ids(claims)
    return bool(session.scalar(select(exists().where(RevokedToken.jti.in_(ids)))))


def verify_token(
    clinic: Clinic, token: str, kinds: tuple[str, ...] = ("access", "session")
) -> Actor:
    """The acting user behind a valid, unrevoked token of an active account."""
    claims = _decode(clinic, token, kinds)
    # Runs on every API request: one round trip for the account, its records and revocation.
    revoked = exists().where(RevokedToken.jti.in_(_revocation_ids(claims)))
    # A bare connection, no Session: a Core select, and this runs before every call.
    with clinic.db.read_connection() as connection:
        row = connection.execute(
            select(
                User.username,
                User.role,
                User.is_active,
                Patient.id,
                Doctor.id,
                revoked,
                User.must_change_password,
            )
            .outerjoin(Patient, Patient.user_id == User.id)
            .outerjoin(Doctor, Doctor.user_id == User.id)
            .where(User.id == int(claims["sub"]))
        ).first()
    if row is None or row[5] or not row.is_active:
        raise TokenInvalid()
    username, role, _, patient_id, doctor_id, _, must_change = row
    actor = Actor(
        int(claims["sub"]), username, Role(role), patient_id, doctor_id, bool(must_change)
    )
    if "desk" in claims:
        actor = at_desk(actor, claims.get("sid") or claims["jti"], str(claims["desk"]))
    return actor


def refresh_access(clinic: Clinic, refresh_token: str) -> str:
    claims = _decode(clinic, refresh_token, ("refresh",))
    with clinic.db.read() as session:
        if _is_revoked(session, claims):
            raise TokenInvalid()
        user = session.get(User, int(claims["sub"]))
        if user is None or not user.is_active:
            raise TokenInvalid()
        info = user_info(user)
    lifetime = timedelta(minutes=clinic.settings.access_token_minutes)
    sid = claims.get("sid") or claims["jti"]
    return _encode(clinic, info, "access", lifetime, sid, claims.get("desk"))


def end_session(clinic: Clinic, actor: Actor, token: str | None) -> None:
    """Log out the caller: the log-in behind the presented token is revoked."""
    policy.require(actor, Kind.ACCOUNT, Action.UPDATE, Owner(user_id=actor.user_id))
    if token:
        revoke_token(clinic, token)


def revoke_token(
    clinic: Clinic,
    token: str,
    kinds: tuple[str, ...] = ("refresh", "session", "access"),
    *,
    whole_login: bool = True,
) -> None:
    """Revoke a token for good: by default its whole log-in (`sid`), so the other tokens of
    that log-in (refreshed access tokens included) stop working at once too; with
    `whole_login=False`, only this token. Expired revocations are pruned on the way; a
    log-in's revocation lives as long as its longest token can."""
    claims = _decode(clinic, token, kinds)
    expires = max(
        datetime.fromtimestamp(claims["exp"], UTC),
        clinic.now() + timedelta(days=clinic.settings.refresh_token_days),
    )
    sid = (claims.get("sid") or claims["jti"]) if whole_login else claims["jti"]
    owner = Actor(int(claims["sub"]), claims.get("username", ""), Role(claims["role"]))
    try:
        with clinic.work(owner) as work:
            session = work.session
            # Whose kept token checks this revocation ends (services/account_versions.py).
            session.info.setdefault(TOKEN_OWNERS, set()).add(owner.user_id)
            session.execute(delete(RevokedToken).where(RevokedToken.expires_at < clinic.now()))
            if session.get(RevokedToken, sid) is None:
                session.add(RevokedToken(jti=sid, expires_at=expires))
            work.record("logout", "token", sid)
    except IntegrityError:
        # Another desk revoked the same token at the same moment: it is revoked either way.
        return
