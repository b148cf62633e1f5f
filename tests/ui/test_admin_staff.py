"""The admin area with real widgets: only admins see it; staff accounts (create with bad and
good input, deactivate, reset, unlock); one's own password; a reset password forces a new
one at log-in; the audit log's filter and CSV export; the clinic settings."""

from __future__ import annotations

import contextlib
import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from hms_desktop.domain.admin import StaffStatus
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import AuthenticationFailed, LoginThrottled
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import accounts, clinic_settings, staff
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.admin.audit import AuditLogPage
from hms_desktop.ui.admin.clinic import ClinicPage
from hms_desktop.ui.admin.pages import PAGES
from hms_desktop.ui.admin.staff import StaffPage
from hms_desktop.ui.admin.view import AdminView
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.tasks import Tasks
from tests import factories
from tests.services.support import table_counts
from tests.ui.conftest import Desk, make_desk, settle

LEFT = Qt.MouseButton.LeftButton


@pytest.fixture
def admin_desk(clinic: Clinic) -> Desk:
    user, _ = factories.staff(clinic, Role.ADMIN, first_name="Ada", last_name="Admin")
    backend = LocalBackend(clinic)
    backend.login(user.username, factories.PASSWORD)
    yield Desk(clinic, backend, backend.current_user or user, [], [], [])
    backend.close()


def _page(qtbot: QtBot, desk: Desk, factory: Callable[..., object]):  # type: ignore[no-untyped-def]
    tasks = Tasks()
    page = factory(desk.backend, tasks, desk.clinic.settings.tz, None)
    qtbot.addWidget(page)
    page.show()
    page.start()
    settle(qtbot, tasks)
    return page, tasks


def _yes(qtbot: QtBot, page: StaffPage) -> None:
    box = page.confirmation
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), LEFT)


def test_only_an_admin_sees_the_admin_area(
    qtbot: QtBot, clinic: Clinic, admin_desk: Desk, prefs: QSettings
) -> None:
    receptionist = make_desk(clinic, seed_people=False)
    doctor, _ = factories.staff(clinic, Role.DOCTOR)
    doctor_backend = LocalBackend(clinic)
    doctor_user = doctor_backend.login(doctor.username, factories.PASSWORD)
    windows = {
        "admin": MainWindow(admin_desk.backend, admin_desk.user, clinic.settings.tz, prefs),
        "receptionist": MainWindow(
            receptionist.backend, receptionist.user, clinic.settings.tz, prefs
        ),
        "doctor": MainWindow(doctor_backend, doctor_user, clinic.settings.tz, prefs),
    }
    for window in windows.values():
        qtbot.addWidget(window)
        settle(qtbot, window.tasks)
    for role in ("receptionist", "doctor"):
        assert "admin" not in windows[role].view_names
        assert windows[role].admin is None
        assert not windows[role].findChildren(AdminView)
    admin = windows["admin"]
    assert admin.view_names[-1] == "admin"
    admin.show()
    qtbot.waitExposed(admin)
    settle(qtbot, admin.tasks)
    number = admin.view_names.index("admin") + 1
    qtbot.keyClick(admin, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
    assert admin.current_view() == "admin"
    settle(qtbot, admin.tasks)
    assert admin.admin is not None
    assert [admin.admin.tabText(i) for i in range(admin.admin.count())] == [
        title for _, title, _ in PAGES
    ]
    staff_page = admin.admin.page("staff")
    assert isinstance(staff_page, StaffPage)
    assert admin_desk.user.username in [m.username for m in staff_page.model.records]
    for window in windows.values():
        window.close()
        settle(qtbot, window.tasks)
    receptionist.backend.close()
    doctor_backend.close()


def test_creating_an_account_refuses_bad_input_then_shows_the_password_once(
    qtbot: QtBot, admin_desk: Desk
) -> None:
    page, tasks = _page(qtbot, admin_desk, StaffPage)
    dialog = page.new_account()
    before = table_counts(admin_desk.clinic)
    qtbot.mouseClick(dialog.save, LEFT)  # everything empty
    assert dialog.errors.message("username") == "Username is required."
    qtbot.keyClicks(dialog.username, "nia desk")  # a space is no username
    qtbot.keyClicks(dialog.first_name, "   ")
    qtbot.mouseClick(dialog.save, LEFT)
    assert dialog.errors.message("first_name") == "First name is required."
    qtbot.keyClicks(dialog.first_name, "Nia")
    qtbot.mouseClick(dialog.save, LEFT)
    settle(qtbot, tasks)
    assert "Username must be" in dialog.errors.message("username")
    assert dialog.isVisible()
    assert table_counts(admin_desk.clinic) == before
    dialog.username.clear()
    qtbot.keyClicks(dialog.username, "nia")
    dialog.role.setCurrentIndex(dialog.role.findData(Role.DOCTOR))
    qtbot.mouseClick(dialog.save, LEFT)
    settle(qtbot, tasks)
    assert not dialog.isVisible()
    shown = page.shown_password
    assert shown is not None and shown.isVisible()
    password = shown.password.text()
    assert accounts.authenticate(admin_desk.clinic, "nia", password).must_change_password
    assert page.select_username("nia")
    assert "must change password" in page.model.data(
        page.model.index(page.table.currentIndex().row(), 3)
    )
    qtbot.mouseClick(shown.close_button, LEFT)


def test_deactivate_reset_and_unlock_from_the_list(
    qtbot: QtBot,
    open_store,
    admin_desk: Desk,  # type: ignore[no-untyped-def]
) -> None:
    clinic = admin_desk.clinic
    user, _ = factories.staff(clinic, first_name="Tom")
    page, tasks = _page(qtbot, admin_desk, StaffPage)
    assert page.select_username(user.username)
    assert page.active_button.text() == "&Deactivate"
    assert not page.unlock_button.isEnabled()
    qtbot.mouseClick(page.active_button, LEFT)
    _yes(qtbot, page)
    settle(qtbot, tasks)
    assert page.selected() is not None and not page.selected().is_active
    assert page.active_button.text() == "Re&activate"
    with pytest.raises(Exception, match="inactive"):
        accounts.log_in(clinic, user.username, factories.PASSWORD, client="t")
    qtbot.mouseClick(page.active_button, LEFT)
    settle(qtbot, tasks)
    assert page.selected().is_active

    qtbot.mouseClick(page.reset_button, LEFT)
    _yes(qtbot, page)
    settle(qtbot, tasks)
    temporary = page.shown_password.password.text()
    assert accounts.authenticate(clinic, user.username, temporary).must_change_password
    page.shown_password.accept()

    # Locked out: the status says so and Unlock lifts it.
    for _ in range(clinic.throttle.parse(clinic.settings.rate_limit_login).amount + 1):
        with contextlib.suppress(AuthenticationFailed, LoginThrottled):
            accounts.log_in(clinic, user.username, "wrong-guess", client="far-desk")
    page.reload()
    settle(qtbot, tasks)
    assert page.select_username(user.username)
    assert page.selected().status(clinic.now()) is StaffStatus.LOCKED
    assert page.unlock_button.isEnabled()
    qtbot.mouseClick(page.unlock_button, LEFT)
    settle(qtbot, tasks)
    assert page.selected().status(clinic.now()) is StaffStatus.ACTIVE
    assert accounts.log_in(clinic, user.username, temporary, client="far-desk")


def test_an_admin_cannot_deactivate_themselves_and_is_told_why(
    qtbot: QtBot, admin_desk: Desk
) -> None:
    page, tasks = _page(qtbot, admin_desk, StaffPage)
    assert page.select_username(admin_desk.user.username)
    qtbot.mouseClick(page.active_button, LEFT)
    _yes(qtbot, page)
    settle(qtbot, tasks)
    assert page.error.text() == "You cannot deactivate your own account."
    assert page.selected().is_active


def test_changing_ones_own_password_checks_every_field(
    qtbot: QtBot, clinic: Clinic, prefs: QSettings
) -> None:
    desk = make_desk(clinic, seed_people=False)
    window = MainWindow(desk.backend, desk.user, clinic.settings.tz, prefs)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.tasks)
    qtbot.mouseClick(window.password_button, LEFT)
    dialog = window.password_dialog
    before = table_counts(clinic)
    for current, new, repeat, field, text in (
        ("", "long-enough-1", "long-enough-1", "current_password", "Enter your current"),
        (factories.PASSWORD, "short", "short", "new_password", "at least 8"),
        (factories.PASSWORD, "long-enough-1", "long-enough-2", "repeat_password", "not the same"),
        ("wrong-password", "long-enough-1", "long-enough-1", "current_password", "not right"),
    ):
        for box, value in (
            (dialog.current_password, current),
            (dialog.new_password, new),
            (dialog.repeat_password, repeat),
        ):
            box.clear()
            qtbot.keyClicks(box, value)
        qtbot.keyClick(dialog.repeat_password, Qt.Key.Key_Return)
        settle(qtbot, window.tasks)
        assert text in dialog.errors.message(field), (field, dialog.errors.message(field))
        assert dialog.isVisible()
    assert table_counts(clinic) == before
    dialog.current_password.clear()
    qtbot.keyClicks(dialog.current_password, factories.PASSWORD)
    dialog.repeat_password.clear()
    qtbot.keyClicks(dialog.repeat_password, "long-enough-1")
    qtbot.mouseClick(dialog.save, LEFT)
    settle(qtbot, window.tasks)
    assert not dialog.isVisible()
    assert accounts.authenticate(clinic, desk.user.username, "long-enough-1")
    window.close()
    settle(qtbot, window.tasks)
    desk.backend.close()


def test_a_reset_password_must_be_changed_before_the_desk_opens(
    qtbot: QtBot, clinic: Clinic
) -> None:
    admin = factories.staff(clinic, Role.ADMIN)[1]
    user, _ = factories.staff(clinic)
    temporary = staff.reset_password(clinic, admin, user.id).password
    backend = LocalBackend(clinic)
    login = LoginWindow(backend)
    qtbot.addWidget(login)
    login.show()
    settle(qtbot, login.tasks)
    opened: list[object] = []
    login.logged_in.connect(lambda *args: opened.append(args))
    qtbot.keyClicks(login.username, user.username)
    qtbot.keyClicks(login.password, temporary)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    settle(qtbot, login.tasks)
    dialog = login.password_dialog
    assert dialog.isVisible() and not opened
    assert dialog.current_password.isHidden()
    qtbot.keyClicks(dialog.new_password, "mine-at-last")
    qtbot.keyClicks(dialog.repeat_password, "mine-at-last")
    qtbot.keyClick(dialog.repeat_password, Qt.Key.Key_Return)
    settle(qtbot, login.tasks)
    assert len(opened) == 1
    _, logged_user = opened[0]  # type: ignore[misc]
    assert not logged_user.must_change_password
    assert backend.search_patients("a") == []  # the desk works now
    backend.close()


def test_the_audit_log_filters_and_exports_csv(
    qtbot: QtBot, admin_desk: Desk, tmp_path: Path
) -> None:
    clinic = admin_desk.clinic
    users = [factories.staff(clinic, first_name=f"U{n}")[0] for n in range(3)]
    admin_actor = accounts.actor_for(admin_desk.user)
    staff.set_staff_active(clinic, admin_actor, users[1].id, False)
    page, tasks = _page(qtbot, admin_desk, AuditLogPage)
    assert len(page.model.records) >= 4
    qtbot.keyClicks(page.person, admin_desk.user.username)
    page.action.setCurrentText("deactivate")
    qtbot.mouseClick(page.apply_button, LEFT)
    settle(qtbot, tasks)
    assert [(r.action, r.entity_id) for r in page.model.records] == [
        ("deactivate", str(users[1].id))
    ]
    # Bad dates: the error next to the field, the list as it was.
    qtbot.keyClicks(page.since, "2026-13-01")
    qtbot.mouseClick(page.apply_button, LEFT)
    assert "YYYY-MM-DD" in page.errors.message("since")
    page.since.setText("2026-05-10")
    page.until.setText("2026-05-01")
    qtbot.keyClick(page.until, Qt.Key.Key_Return)
    assert "before the start" in page.errors.message("until")
    assert len(page.model.records) == 1
    page.since.clear()
    page.until.clear()
    page.action.setCurrentText("")
    page.person.clear()
    page.record_kind.setCurrentText("user")
    qtbot.mouseClick(page.apply_button, LEFT)
    settle(qtbot, tasks)
    shown = len(page.model.records)
    assert shown >= 5
    # The whole detail on hover (the column cuts long ones short).
    detailed = next(r for r, record in enumerate(page.model.records) if record.detail)
    tip = page.model.data(page.model.index(detailed, 4), Qt.ItemDataRole.ToolTipRole)
    assert tip == page.model.records[detailed].detail and "username" in tip
    target = tmp_path / "audit.csv"
    page.choose_file = lambda: str(target)
    qtbot.mouseClick(page.export_button, LEFT)
    settle(qtbot, tasks)
    with target.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == shown and {row["entity"] for row in rows} == {"user"}
    assert rows[0]["id"] == str(page.model.records[0].id)


def test_the_audit_log_pages_through_many_entries(qtbot: QtBot, admin_desk: Desk) -> None:
    clinic = admin_desk.clinic
    admin_actor = accounts.actor_for(admin_desk.user)
    user, _ = factories.staff(clinic)
    for _ in range(130):  # 260 entries for this user: more than one page
        staff.set_staff_active(clinic, admin_actor, user.id, False)
        staff.set_staff_active(clinic, admin_actor, user.id, True)
    page, tasks = _page(qtbot, admin_desk, AuditLogPage)
    qtbot.keyClicks(page.record_id, str(user.id))
    qtbot.keyClick(page.record_id, Qt.Key.Key_Return)
    settle(qtbot, tasks)
    assert len(page.model.records) == 200 and page.more_button.isEnabled()
    qtbot.mouseClick(page.more_button, LEFT)
    settle(qtbot, tasks)
    assert len(page.model.records) == 261 and not page.more_button.isEnabled()
    ids = [r.id for r in page.model.records]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


def test_the_clinic_page_saves_centrally_and_refuses_an_empty_name(
    qtbot: QtBot, admin_desk: Desk
) -> None:
    page, tasks = _page(qtbot, admin_desk, ClinicPage)
    assert page.name.text() == "Clinic"
    assert page.horizon.value() == admin_desk.clinic.settings.booking_horizon_days
    page.name.clear()
    before = table_counts(admin_desk.clinic)
    qtbot.mouseClick(page.save_button, LEFT)
    assert page.errors.message("name") == "The clinic's name is required."
    assert table_counts(admin_desk.clinic) == before
    qtbot.keyClicks(page.name, "Riverside Clinic")
    page.horizon.setValue(60)
    qtbot.keyClick(page.name, Qt.Key.Key_Return)
    settle(qtbot, tasks)
    assert clinic_settings.booking_horizon_days(admin_desk.clinic) == 60
    assert clinic_settings.get_clinic_settings(admin_desk.clinic, SYSTEM).name == (
        "Riverside Clinic"
    )


def test_every_page_builds_on_its_own(qtbot: QtBot, admin_desk: Desk) -> None:
    for key, _title, factory in PAGES:
        page, _tasks = _page(qtbot, admin_desk, factory)
        assert page.isVisible(), key
        assert not page.findChildren(QPushButton) or all(
            b.text() for b in page.findChildren(QPushButton)
        )


def test_an_export_waits_out_the_request_budget_instead_of_failing(
    admin_desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A remote desk is allowed `rate_limit_default` calls a minute: a long export paces
    itself when the server says so, and still writes every row."""
    from hms_desktop.domain.errors import RateLimited
    from hms_desktop.ui.admin import audit as audit_module

    for _ in range(5):
        factories.staff(admin_desk.clinic)
    backend = admin_desk.backend
    real = backend.audit_page
    refusals = iter([True, True, False, True, False, False, False])
    waits: list[float] = []

    def budgeted(where, before=None, limit=100):  # type: ignore[no-untyped-def]
        if next(refusals, False):
            raise RateLimited.after(3)
        return real(where, before, 2)  # tiny pages: several calls

    monkeypatch.setattr(backend, "audit_page", budgeted)
    monkeypatch.setattr(audit_module.time, "sleep", waits.append)
    expected = [row.id for row in real(audit_module.AuditFilter(), None, 500).rows]
    rows = audit_module.export_rows(backend, audit_module.AuditFilter())
    assert [row.id for row in rows] == expected and len(expected) >= 3
    assert waits == [3, 3, 3]
