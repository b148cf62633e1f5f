"""The admin area's part of the `Backend` contract: staff accounts, own password, a reset
password at log-in, the audit log and the clinic settings behave the same (results, error
classes, messages and fields) on LocalBackend and RemoteBackend."""

from __future__ import annotations

import pytest

from hms_desktop.domain.admin import AuditFilter, ClinicSettings, StaffForm, StaffStatus
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    AccountInactive,
    PasswordChangeRequired,
    PermissionDenied,
    UsernameTaken,
    ValidationError,
)
from tests import factories
from tests.contract.conftest import World


def test_staff_accounts_from_creation_to_deactivation(world: World) -> None:
    admin, admin_user = world.desk(Role.ADMIN)
    made = admin.create_staff(StaffForm("ctdesk", Role.RECEPTIONIST, "Cara", "Tee"))
    assert made.member.username == "ctdesk" and made.member.must_change_password
    assert made.member.status(world.clinic.now()) is StaffStatus.ACTIVE
    listed = {member.username: member for member in admin.staff_members()}
    assert listed["ctdesk"] == made.member and admin_user.username in listed
    with pytest.raises(UsernameTaken) as taken:
        admin.create_staff(StaffForm("CTDESK", Role.ADMIN, "Dup"))
    assert taken.value.field == "username"
    with pytest.raises(ValidationError, match="First name is required.") as empty:
        admin.create_staff(StaffForm("ctother", Role.ADMIN, ""))
    assert empty.value.field == "first_name"

    # The new account must choose its own password before anything else.
    newcomer = world.backend()
    info = newcomer.login("ctdesk", made.password)
    assert info.must_change_password
    with pytest.raises(PasswordChangeRequired):
        newcomer.search_patients("a")
    with pytest.raises(ValidationError) as short:
        newcomer.change_own_password(made.password, "short")
    assert short.value.field == "new_password"
    changed = newcomer.change_own_password(made.password, "cara-own-pass")
    assert not changed.must_change_password and newcomer.current_user == changed
    assert newcomer.search_patients("zzz-nobody") == []

    off = admin.set_staff_active(made.member.id, False)
    assert off.status(world.clinic.now()) is StaffStatus.DEACTIVATED
    with pytest.raises(AccountInactive):
        world.backend().login("ctdesk", "cara-own-pass")
    with pytest.raises(ValidationError, match="You cannot deactivate your own account."):
        admin.set_staff_active(admin_user.id, False)
    assert admin.set_staff_active(made.member.id, True).is_active


def test_reset_unlock_and_who_may(world: World) -> None:
    admin, _ = world.desk(Role.ADMIN)
    desk, desk_user = world.desk()
    reset = admin.reset_staff_password(desk_user.id)
    assert reset.member.must_change_password and reset.password != factories.PASSWORD
    again = world.backend()
    assert again.login(desk_user.username, reset.password).must_change_password
    assert admin.unlock_staff(desk_user.id).locked_until is None
    for call in (
        desk.staff_members,
        lambda: desk.reset_staff_password(desk_user.id),
        lambda: desk.audit_page(AuditFilter()),
        lambda: desk.update_clinic_settings(ClinicSettings("Mine", 10)),
    ):
        with pytest.raises(PermissionDenied):
            call()


def test_own_password_change_refuses_a_wrong_current_one(world: World) -> None:
    doctor = factories.doctor(world.clinic)
    backend = world.doctor_desk(doctor)
    with pytest.raises(ValidationError, match="The current password is not right.") as wrong:
        backend.change_own_password("not-my-password", "brand-new-pass")
    assert wrong.value.field == "current_password"
    assert not backend.change_own_password(
        factories.PASSWORD, "brand-new-pass"
    ).must_change_password
    assert world.backend().login(doctor.user.username, "brand-new-pass").id == doctor.user.id


def test_audit_pages_and_clinic_settings(world: World) -> None:
    admin, admin_user = world.desk(Role.ADMIN)
    ids = [admin.create_staff(StaffForm(f"au{n}x", Role.DOCTOR, "Au")).member.id for n in range(4)]
    where = AuditFilter(actor=admin_user.username, action="create", entity="user")
    first = admin.audit_page(where, limit=3)
    assert [int(row.entity_id) for row in first.rows] == ids[:0:-1]
    assert first.next_before is not None
    rest = admin.audit_page(where, before_id=first.next_before, limit=3)
    assert [int(row.entity_id) for row in rest.rows] == [ids[0]] and rest.next_before is None
    with pytest.raises(ValidationError):
        admin.audit_page(AuditFilter(), limit=0)

    assert admin.clinic_settings().name == "Clinic"
    saved = admin.update_clinic_settings(ClinicSettings("Hill Clinic", 35))
    assert saved == ClinicSettings("Hill Clinic", 35)
    desk, _ = world.desk()
    assert desk.clinic_settings() == saved
    with pytest.raises(ValidationError) as bad:
        admin.update_clinic_settings(ClinicSettings("Hill Clinic", 400))
    assert bad.value.field == "booking_horizon_days"
