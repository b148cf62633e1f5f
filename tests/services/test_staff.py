"""Staff administration, own password, the audit query and the clinic's central settings, on
every store."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hms_desktop.domain.admin import (
    AuditFilter,
    ClinicSettings,
    StaffForm,
    StaffStatus,
    audit_csv,
)
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    AccountInactive,
    AuthenticationFailed,
    LoginThrottled,
    PasswordChangeRequired,
    PermissionDenied,
    TokenInvalid,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import SYSTEM
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import accounts, audit, clinic_settings, hours, patients, staff
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import last_audit, table_counts


def _admin(clinic: Clinic):  # type: ignore[no-untyped-def]
    return factories.staff(clinic, Role.ADMIN, first_name="Ada")[1]


def test_admin_creates_a_receptionist_who_must_change_the_temporary_password(
    clinic: Clinic,
) -> None:
    admin = _admin(clinic)
    made = staff.create_staff(
        clinic, admin, StaffForm(username="desk7", role=Role.RECEPTIONIST, first_name="Rae")
    )
    assert len(made.password) == staff.TEMPORARY_LENGTH
    assert made.member.must_change_password and made.member.role is Role.RECEPTIONIST
    entry = last_audit(clinic)
    assert (entry.action, entry.entity, entry.entity_id) == ("create", "user", str(made.member.id))
    assert made.password not in entry.detail
    user = accounts.log_in_at_desk(clinic, "desk7", made.password, client="t")
    assert user.must_change_password
    actor = accounts.actor_for(user)
    with pytest.raises(PasswordChangeRequired):
        patients.search_patients(clinic, actor, "a", 5)
    changed = staff.change_own_password(clinic, actor, made.password, "a-new-pass-1")
    assert not changed.must_change_password
    patients.search_patients(clinic, accounts.actor_for(changed), "a", 5)
    assert last_audit(clinic).action == "change_password"
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(clinic, "desk7", made.password)


def test_create_staff_refuses_bad_input_and_saves_nothing(clinic: Clinic) -> None:
    admin = _admin(clinic)
    staff.create_staff(clinic, admin, StaffForm("taken1", Role.DOCTOR, "Doc"))
    before = table_counts(clinic)
    cases = [
        (StaffForm("", Role.RECEPTIONIST, "Ann"), "username"),
        (StaffForm("fine1", Role.RECEPTIONIST, "  "), "first_name"),
        (StaffForm("fine2", Role.PATIENT, "Pat"), "role"),
        (StaffForm("TAKEN1", Role.ADMIN, "Dup"), "username"),
        (StaffForm("fine3", Role.ADMIN, "Bad", email="not-an-email"), "email"),
    ]
    for form, field in cases:
        with pytest.raises((ValidationError, UsernameTaken)) as refused:
            staff.create_staff(clinic, admin, form)
        assert refused.value.field == field, form
    assert table_counts(clinic) == before


def test_only_an_admin_administers_staff(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    target, _ = factories.staff(clinic)
    for call in (
        lambda: staff.list_staff(clinic, desk),
        lambda: staff.create_staff(clinic, desk, StaffForm("x1", Role.ADMIN, "X")),
        lambda: staff.set_staff_active(clinic, desk, target.id, False),
        lambda: staff.unlock_staff(clinic, desk, target.id),
        lambda: staff.reset_password(clinic, desk, target.id),
        lambda: audit.audit_page(clinic, desk, AuditFilter()),
        lambda: clinic_settings.update_clinic_settings(clinic, desk, ClinicSettings("X", 5)),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_a_deactivated_account_cannot_log_in_and_its_tokens_stop_working(clinic: Clinic) -> None:
    admin = _admin(clinic)
    user, _ = factories.staff(clinic)
    tokens = accounts.issue_tokens(clinic, user)
    session_token = accounts.issue_session_token(clinic, user)
    member = staff.set_staff_active(clinic, admin, user.id, False)
    assert member.status(clinic.now()) is StaffStatus.DEACTIVATED
    assert last_audit(clinic).action == "deactivate"
    with pytest.raises(AccountInactive):
        accounts.log_in(clinic, user.username, factories.PASSWORD, client="t")
    for token, kinds in ((tokens.access, ("access",)), (session_token, ("session",))):
        with pytest.raises(TokenInvalid):
            accounts.verify_token(clinic, token, kinds)
    with pytest.raises(TokenInvalid):
        accounts.refresh_access(clinic, tokens.refresh)
    staff.set_staff_active(clinic, admin, user.id, True)
    assert last_audit(clinic).action == "reactivate"
    assert accounts.verify_token(clinic, tokens.access).user_id == user.id


def test_an_admin_cannot_deactivate_themselves_or_the_last_admin(clinic: Clinic) -> None:
    admin_user, admin = factories.staff(clinic, Role.ADMIN)
    with pytest.raises(ValidationError):
        staff.set_staff_active(clinic, admin, admin_user.id, False)
    assert staff.list_staff(clinic, admin)  # still there and active
    assert accounts.verify_token(clinic, accounts.issue_tokens(clinic, admin_user).access)


def test_an_admin_cannot_reset_their_own_password_mid_session(clinic: Clinic) -> None:
    admin_user, admin = factories.staff(clinic, Role.ADMIN)
    with pytest.raises(ValidationError, match="Change password"):
        staff.reset_password(clinic, admin, admin_user.id)
    # Still a working session, not one limited to a password change.
    actor = accounts.verify_token(clinic, accounts.issue_tokens(clinic, admin_user).access)
    assert not actor.must_change_password


def test_a_reset_password_works_once_and_allows_only_a_password_change(clinic: Clinic) -> None:
    admin = _admin(clinic)
    user, _ = factories.staff(clinic)
    old_token = accounts.issue_tokens(clinic, user).access
    reset = staff.reset_password(clinic, admin, user.id)
    assert last_audit(clinic).action == "reset_password"
    assert reset.password not in last_audit(clinic).detail
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(clinic, user.username, factories.PASSWORD)
    # A session from before the reset is held to the change too.
    held = accounts.verify_token(clinic, old_token)
    assert held.must_change_password
    with pytest.raises(PasswordChangeRequired):
        patients.search_patients(clinic, held, "a", 5)
    logged_in = accounts.log_in_at_desk(clinic, user.username, reset.password, client="t")
    actor = accounts.actor_for(logged_in)
    with pytest.raises(ValidationError) as same:
        staff.change_own_password(clinic, actor, reset.password, reset.password)
    assert same.value.field == "new_password"
    staff.change_own_password(clinic, actor, reset.password, "brand-new-pw")
    assert not accounts.verify_token(clinic, old_token).must_change_password


def test_own_password_change_checks_the_current_one_and_the_rules(clinic: Clinic) -> None:
    user, actor = factories.staff(clinic, Role.DOCTOR)
    before = table_counts(clinic)
    for current, new, field in (
        ("wrong-password", "long-enough-1", "current_password"),
        (factories.PASSWORD, "short", "new_password"),
        (factories.PASSWORD, "x" * 80, "new_password"),
    ):
        with pytest.raises(ValidationError) as refused:
            staff.change_own_password(clinic, actor, current, new)
        assert refused.value.field == field
    assert table_counts(clinic) == before
    staff.change_own_password(clinic, actor, factories.PASSWORD, "long-enough-1")
    assert accounts.authenticate(clinic, user.username, "long-enough-1").id == user.id


def test_a_locked_name_shows_as_locked_and_the_admin_unlocks_it_everywhere(
    open_store,  # type: ignore[no-untyped-def]
) -> None:
    clinic = open_store(rate_limit_login="3/minute")
    admin = _admin(clinic)
    user, _ = factories.staff(clinic)
    for client in ("desk-a", "desk-b"):
        for _ in range(3):
            with pytest.raises(AuthenticationFailed):
                accounts.log_in(clinic, user.username, "wrong-guess", client=client)
        with pytest.raises(LoginThrottled):
            accounts.log_in(clinic, user.username, factories.PASSWORD, client=client)
    listed = {m.id: m for m in staff.list_staff(clinic, admin)}
    assert listed[user.id].status(clinic.now()) is StaffStatus.LOCKED
    unlocked = staff.unlock_staff(clinic, admin, user.id)
    assert unlocked.status(clinic.now()) is StaffStatus.ACTIVE
    assert last_audit(clinic).action == "unlock"
    for client in ("desk-a", "desk-b"):
        assert accounts.log_in(clinic, user.username, factories.PASSWORD, client=client)


def test_the_audit_log_filters_pages_and_exports(clinic: Clinic) -> None:
    admin = _admin(clinic)
    made = [
        staff.create_staff(clinic, admin, StaffForm(f"pg{n}x", Role.RECEPTIONIST, "=Sum"))
        for n in range(5)
    ]
    staff.set_staff_active(clinic, admin, made[0].member.id, False)
    where = AuditFilter(actor=admin.username.upper(), entity="user", action="create")
    first = audit.audit_page(clinic, admin, where, limit=2)
    assert [row.entity_id for row in first.rows] == [str(m.member.id) for m in made[:-3:-1]]
    assert first.next_before == first.rows[-1].id
    rest = audit.audit_page(clinic, admin, where, before_id=first.next_before, limit=10)
    assert len(rest.rows) == 3 and rest.next_before is None
    one = audit.audit_page(clinic, admin, AuditFilter(entity_id=str(made[0].member.id)))
    assert {row.action for row in one.rows} == {"create", "deactivate"}
    later = clinic.now() + timedelta(hours=1)
    assert not audit.audit_page(clinic, admin, AuditFilter(since=later)).rows
    with pytest.raises(ValidationError):
        audit.audit_page(clinic, admin, AuditFilter(since=later, until=later))
    with pytest.raises(ValidationError):
        audit.audit_page(clinic, admin, AuditFilter(), limit=100_000)
    text = audit_csv(first.rows)
    assert text.splitlines()[0] == "id,at,actor,action,entity,entity_id,detail"
    assert len(text.splitlines()) == 3


def test_audit_csv_writes_formula_like_cells_as_text() -> None:
    from datetime import UTC, datetime

    from hms_desktop.domain.admin import AuditRecord

    row = AuditRecord(1, datetime(2026, 1, 1, tzinfo=UTC), "=cmd()", "x", "user", "-1", "@a")
    line = audit_csv([row]).splitlines()[1]
    assert line == "1,2026-01-01T00:00:00+00:00,'=cmd(),x,user,'-1,'@a"


def test_clinic_settings_live_in_the_database_and_fall_back_to_config(
    open_store,  # type: ignore[no-untyped-def]
) -> None:
    clinic = open_store(booking_horizon_days=21)
    admin = _admin(clinic)
    assert clinic_settings.booking_horizon_days(clinic) == 21
    assert clinic_settings.get_clinic_settings(clinic, admin).name == "Clinic"
    before = table_counts(clinic)
    for bad, field in (
        (ClinicSettings("", 30), "name"),
        (ClinicSettings("X", 0), "booking_horizon_days"),
    ):
        with pytest.raises(ValidationError) as refused:
            clinic_settings.update_clinic_settings(clinic, admin, bad)
        assert refused.value.field == field
    assert table_counts(clinic) == before
    clinic_settings.update_clinic_settings(clinic, admin, ClinicSettings("Green Clinic", 42))
    assert last_audit(clinic).entity == "clinic_settings"
    # Another desk with another configuration reads the same values.
    other = open_store(booking_horizon_days=7)
    assert clinic_settings.booking_horizon_days(other) == 42
    _, desk = factories.staff(other)
    assert clinic_settings.get_clinic_settings(other, desk) == ClinicSettings("Green Clinic", 42)
    assert clinic_settings.get_clinic_settings(other, SYSTEM).booking_horizon_days == 42


def test_slots_are_made_up_to_the_admins_horizon(clinic: Clinic) -> None:
    from sqlalchemy import func, select

    from hms_desktop.store.tables import Slot

    admin = _admin(clinic)
    clinic_settings.update_clinic_settings(clinic, admin, ClinicSettings("Clinic", 3))
    doctor = factories.doctor(clinic)  # every day, all day: slots up to the horizon

    def newest() -> object:
        with clinic.db.read() as session:
            return session.scalar(
                select(func.max(Slot.start_at)).where(Slot.doctor_id == doctor.doctor_id)
            )

    limit = clinic.now() + timedelta(days=4)
    assert newest() is not None and as_utc(newest()) < limit
    clinic_settings.update_clinic_settings(clinic, admin, ClinicSettings("Clinic", 9))
    assert hours.top_up(clinic) > 0
    assert as_utc(newest()) > limit
