"""Accounts: staff and patient registration, log-in with throttling, and JWT tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import jwt
import pytest

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    AccountInactive,
    AuthenticationFailed,
    LoginThrottled,
    NotForDesk,
    NotFound,
    PermissionDenied,
    TokenInvalid,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import ANONYMOUS, SYSTEM
from hms_desktop.services import accounts, patients
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import last_audit, table_counts


def test_admin_creates_staff_accounts_with_their_records(clinic: Clinic) -> None:
    doctor = accounts.create_user(
        clinic, SYSTEM, username="DrWho", role=Role.DOCTOR, password=factories.PASSWORD
    )
    desk = accounts.create_user(
        clinic, SYSTEM, username="desk1", role=Role.RECEPTIONIST, password=factories.PASSWORD
    )
    assert doctor.doctor_id is not None and doctor.patient_id is None and not doctor.is_staff
    assert desk.is_staff and desk.doctor_id is None and desk.is_active
    entry = last_audit(clinic)
    assert (entry.action, entry.entity, entry.entity_id) == ("create", "user", str(desk.id))
    assert entry.actor == "system"


def test_only_an_admin_creates_accounts(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    before = table_counts(clinic)
    with pytest.raises(PermissionDenied):
        accounts.create_user(
            clinic, desk, username="sneaky", role=Role.ADMIN, password=factories.PASSWORD
        )
    assert table_counts(clinic) == before


def test_create_user_rejects_bad_input_and_changes_nothing(clinic: Clinic) -> None:
    accounts.create_user(
        clinic, SYSTEM, username="taken", role=Role.RECEPTIONIST, password=factories.PASSWORD
    )
    before = table_counts(clinic)
    cases: list[tuple[str, str, type[Exception]]] = [
        ("taken", factories.PASSWORD, UsernameTaken),
        ("TAKEN", factories.PASSWORD, UsernameTaken),  # usernames ignore case
        ("has space", factories.PASSWORD, ValidationError),
        ("", factories.PASSWORD, ValidationError),
        ("fresh", "short", ValidationError),
        ("fresh", "x" * 73, ValidationError),
    ]
    for username, password, error in cases:
        with pytest.raises(error):
            accounts.create_user(
                clinic, SYSTEM, username=username, role=Role.RECEPTIONIST, password=password
            )
        assert table_counts(clinic) == before, (username, password)


def test_patient_self_registration_logs_in(clinic: Clinic) -> None:
    info = accounts.register_patient_account(
        clinic,
        ANONYMOUS,
        client="test",
        username="ada",
        password=factories.PASSWORD,
        first_name="Ada",
        last_name="Lovelace",
        email="ADA@Example.org",
        gender="Female",
        date_of_birth=date(1990, 12, 10),
    )
    assert info.role is Role.PATIENT and info.patient_id is not None
    assert info.email == "ada@example.org" and info.full_name == "Ada Lovelace"
    assert accounts.authenticate(clinic, "ADA", factories.PASSWORD).id == info.id
    entry = last_audit(clinic)
    assert (entry.action, entry.actor, entry.actor_user_id) == ("register", "ada", info.id)


def test_patient_self_registration_rejects_bad_input_and_changes_nothing(
    clinic: Clinic,
) -> None:
    accounts.register_patient_account(
        clinic,
        ANONYMOUS,
        client="test",
        username="ada",
        password=factories.PASSWORD,
        first_name="Ada",
    )
    before = table_counts(clinic)
    cases: list[tuple[dict[str, object], type[Exception]]] = [
        ({"username": "ada"}, UsernameTaken),
        ({"username": "ADA"}, UsernameTaken),
        ({"first_name": "  "}, ValidationError),
        ({"password": "1234567"}, ValidationError),
        ({"date_of_birth": date.today() + timedelta(days=2)}, ValidationError),
        ({"gender": "robot"}, ValidationError),
        ({"email": "not-an-email"}, ValidationError),
        ({"username": "bad name!"}, ValidationError),
    ]
    for fields, error in cases:
        form: dict[str, object] = {
            "username": "grace",
            "password": factories.PASSWORD,
            "first_name": "Grace",
        }
        form.update(fields)
        with pytest.raises(error):
            accounts.register_patient_account(clinic, ANONYMOUS, client="test", **form)  # type: ignore[arg-type]
        assert table_counts(clinic) == before, fields


def test_authenticate_rejects_wrong_password_and_unknown_user(clinic: Clinic) -> None:
    user, _ = factories.staff(clinic)
    assert accounts.authenticate(clinic, user.username, factories.PASSWORD).id == user.id
    with pytest.raises(AuthenticationFailed, match="Invalid username or password."):
        accounts.authenticate(clinic, user.username, "wrong-password")
    with pytest.raises(AuthenticationFailed, match="Invalid username or password."):
        accounts.authenticate(clinic, "nobody-here", factories.PASSWORD)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(clinic, "", "")


def test_a_desk_patient_without_a_password_cannot_log_in(clinic: Clinic) -> None:
    record = factories.patient(clinic)
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(clinic, record.username, "")


def test_failed_log_ins_throttle_that_client_not_the_owner_elsewhere(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(rate_limit_login="3/minute", rate_limit_login_client="100/minute")
    user, _ = factories.staff(clinic)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed) as failure:
            accounts.log_in(clinic, user.username, "wrong-password", client="10.0.0.66")
        assert not isinstance(failure.value, LoginThrottled)
    # The guessing address is refused, even with the right password...
    with pytest.raises(LoginThrottled, match="Try again in") as throttled:
        accounts.log_in(clinic, user.username, factories.PASSWORD, client="10.0.0.66")
    assert 1 <= throttled.value.retry_after <= 60
    # ...while the owner at their own desk logs in as usual.
    assert accounts.log_in(clinic, user.username, factories.PASSWORD, client="desk-2").id == (
        user.id
    )


def test_throttling_tells_nothing_about_which_usernames_exist(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(rate_limit_login="2/minute", rate_limit_login_client="100/minute")
    user, _ = factories.staff(clinic)
    answers = []
    for name in (user.username, "nobody-here"):
        for _ in range(3):
            try:
                accounts.log_in(clinic, name, "wrong-password", client="10.0.0.66")
            except (AuthenticationFailed, LoginThrottled) as error:
                # The wait it names may tick down a second between the two names.
                answers.append((type(error).__name__, re.sub(r"\d+", "N", error.message)))
    assert answers[:3] == answers[3:]
    assert [kind for kind, _ in answers[:3]] == [
        "AuthenticationFailed",
        "AuthenticationFailed",
        "LoginThrottled",
    ]


def test_one_client_guessing_many_usernames_is_throttled(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(rate_limit_login="100/minute", rate_limit_login_client="4/minute")
    user, _ = factories.staff(clinic)
    for number in range(4):
        with pytest.raises(AuthenticationFailed):
            accounts.log_in(clinic, f"guess-{number}", "wrong-password", client="10.0.0.66")
    with pytest.raises(LoginThrottled):
        accounts.log_in(clinic, user.username, factories.PASSWORD, client="10.0.0.66")
    assert accounts.log_in(clinic, user.username, factories.PASSWORD, client="desk-2").id == (
        user.id
    )


def test_passwords_bcrypt_cannot_take_are_just_wrong(clinic: Clinic) -> None:
    user, _ = factories.staff(clinic)
    for password in ("x" * 73, factories.PASSWORD + "\x00", "\ud800", "é" * 40):
        with pytest.raises(AuthenticationFailed, match="Invalid username or password."):
            accounts.authenticate(clinic, user.username, password)


def test_a_patient_cannot_log_in_to_the_desk(clinic: Clinic) -> None:
    record = factories.patient(clinic, username="portal.user", password=factories.PASSWORD)
    assert accounts.log_in(clinic, record.username, factories.PASSWORD, client="x").id == (
        record.user_id
    )
    with pytest.raises(NotForDesk, match="patients use the online portal"):
        accounts.log_in_at_desk(clinic, record.username, factories.PASSWORD, client="x")


def test_an_inactive_account_cannot_log_in_or_use_its_tokens(clinic: Clinic) -> None:
    user, desk = factories.staff(clinic)
    tokens = accounts.issue_tokens(clinic, user)
    with pytest.raises(PermissionDenied):
        accounts.set_active(clinic, desk, user.id, False)
    assert accounts.set_active(clinic, SYSTEM, user.id, False).is_active is False
    assert (last_audit(clinic).action, last_audit(clinic).actor) == ("deactivate", "system")
    with pytest.raises(AccountInactive, match="inactive"):
        accounts.authenticate(clinic, user.username, factories.PASSWORD)
    with pytest.raises(TokenInvalid):
        accounts.verify_token(clinic, tokens.access)
    with pytest.raises(TokenInvalid):
        accounts.refresh_access(clinic, tokens.refresh)
    accounts.set_active(clinic, SYSTEM, user.id, True)
    assert accounts.authenticate(clinic, user.username, factories.PASSWORD).id == user.id


def test_tokens_verify_refresh_and_revoke(clinic: Clinic) -> None:
    user, _ = factories.staff(clinic, Role.ADMIN)
    tokens = accounts.issue_tokens(clinic, user)
    actor = accounts.verify_token(clinic, tokens.access)
    assert (actor.user_id, actor.role) == (user.id, Role.ADMIN)

    fresh_access = accounts.refresh_access(clinic, tokens.refresh)
    assert accounts.verify_token(clinic, fresh_access).user_id == user.id

    accounts.revoke_token(clinic, tokens.refresh)
    assert (last_audit(clinic).action, last_audit(clinic).actor) == ("logout", user.username)
    with pytest.raises(TokenInvalid, match="Token is invalid or expired"):
        accounts.refresh_access(clinic, tokens.refresh)
    # Logging out ends the whole log-in: its access tokens, refreshed ones too, stop at once.
    for access in (tokens.access, fresh_access):
        with pytest.raises(TokenInvalid):
            accounts.verify_token(clinic, access)
    # Revoking twice is harmless; another log-in of the same user is untouched.
    accounts.revoke_token(clinic, tokens.refresh)
    other = accounts.issue_tokens(clinic, user)
    assert accounts.verify_token(clinic, other.access).user_id == user.id
    # An access token revoked alone ends only itself: its log-in refreshes on.
    accounts.revoke_token(clinic, other.access, whole_login=False)
    with pytest.raises(TokenInvalid):
        accounts.verify_token(clinic, other.access)
    renewed = accounts.refresh_access(clinic, other.refresh)
    assert accounts.verify_token(clinic, renewed).user_id == user.id
    # Logging out with an access token ends its whole log-in, as with the refresh token.
    accounts.revoke_token(clinic, renewed)
    with pytest.raises(TokenInvalid):
        accounts.refresh_access(clinic, other.refresh)


def test_revoked_session_token_is_rejected_by_every_desk(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    other_desk = open_store()
    user, _ = factories.staff(clinic)
    session_token = accounts.issue_session_token(clinic, user)
    assert accounts.verify_token(other_desk, session_token).user_id == user.id
    accounts.revoke_token(clinic, session_token)
    with pytest.raises(TokenInvalid):
        accounts.verify_token(other_desk, session_token)


def test_a_token_of_the_wrong_type_is_rejected(clinic: Clinic) -> None:
    user, _ = factories.staff(clinic)
    tokens = accounts.issue_tokens(clinic, user)
    with pytest.raises(TokenInvalid):
        accounts.verify_token(clinic, tokens.refresh)
    with pytest.raises(TokenInvalid):
        accounts.refresh_access(clinic, tokens.access)
    with pytest.raises(TokenInvalid):
        accounts.refresh_access(clinic, accounts.issue_session_token(clinic, user))
    with pytest.raises(TokenInvalid):
        accounts.verify_token(clinic, tokens.access, kinds=("session",))


def test_forged_tampered_and_expired_tokens_are_rejected(clinic: Clinic) -> None:
    user, _ = factories.staff(clinic)
    forged = jwt.encode(
        {"sub": str(user.id), "type": "access", "jti": "x", "exp": 4_000_000_000},
        "some-other-secret-that-is-long-enough-for-hs256",
        algorithm="HS256",
    )
    access = accounts.issue_tokens(clinic, user).access
    head, body, signature = access.split(".")
    tampered = f"{head}.{body}.{signature[::-1]}"
    real_clock = clinic.clock
    clinic.clock = lambda: (
        real_clock() - timedelta(minutes=clinic.settings.access_token_minutes + 1)
    )
    expired = accounts.issue_tokens(clinic, user).access
    clinic.clock = real_clock
    for token in (forged, tampered, expired, "not-a-jwt", ""):
        with pytest.raises(TokenInvalid):
            accounts.verify_token(clinic, token)
    with pytest.raises(TokenInvalid):
        accounts.revoke_token(clinic, "not-a-jwt")


def test_passwords_are_hashed_at_full_cost_and_unknown_users_cost_the_same(
    clinic: Clinic, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.undo()  # the suite's cheap-bcrypt patch
    user, _ = factories.staff(clinic)
    with clinic.db.read() as session:
        stored = accounts.find_user(session, user.username)
        assert stored is not None and stored.password_hash is not None
        cost = f"$2b${accounts.BCRYPT_ROUNDS:02d}$"
        assert accounts.BCRYPT_ROUNDS >= 12 and stored.password_hash.startswith(cost)
    # Checking a password of a user who does not exist costs as much as a real check.
    assert accounts._DUMMY_HASH.startswith(cost)


def test_lookups_and_password_checks(clinic: Clinic) -> None:
    user, _ = factories.staff(clinic)
    assert accounts.get_user(clinic, SYSTEM, user.id) == user
    assert accounts.password_is(clinic, user.username.upper(), factories.PASSWORD)
    assert not accounts.password_is(clinic, user.username, "wrong-password")
    assert not accounts.password_is(clinic, "nobody-here", factories.PASSWORD)
    before = table_counts(clinic)
    with pytest.raises(NotFound):
        accounts.get_user(clinic, SYSTEM, 999_999)
    with pytest.raises(NotFound):
        accounts.set_active(clinic, SYSTEM, 999_999, False)
    with pytest.raises(NotFound):
        patients.patient_for_user(clinic, SYSTEM, user.id)  # staff have no patient record
    assert table_counts(clinic) == before
    accounts.set_active(clinic, SYSTEM, user.id, False)
    assert not accounts.password_is(clinic, user.username, factories.PASSWORD)
