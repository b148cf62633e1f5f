"""The admin area on a remote desk: a temporary password is changed in the log-in window
before the desk opens, and the staff page works through the desk API."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.client import RemoteBackend
from hms_desktop.domain.enums import Role
from hms_desktop.services import accounts, staff
from hms_desktop.ui.admin.staff import StaffPage
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.contract.conftest import World

WAIT_MS = 15_000


def test_a_remote_desk_changes_a_temporary_password_before_it_opens(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    admin_user, admin = factories.staff(world.clinic, Role.ADMIN)
    user, _ = factories.staff(world.clinic)
    temporary = staff.reset_password(world.clinic, admin, user.id).password
    remote = world.backend()
    assert isinstance(remote, RemoteBackend)
    login = LoginWindow(remote)
    qtbot.addWidget(login)
    login.show()
    qtbot.waitUntil(lambda: not login.tasks.busy, timeout=WAIT_MS)
    qtbot.keyClicks(login.username, user.username)
    qtbot.keyClicks(login.password, temporary)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: getattr(login, "password_dialog", None) is not None, timeout=WAIT_MS)
    dialog = login.password_dialog
    qtbot.keyClicks(dialog.new_password, "remote-own-pass")
    qtbot.keyClicks(dialog.repeat_password, "remote-own-pass")
    with qtbot.waitSignal(login.logged_in, timeout=WAIT_MS) as opened:
        qtbot.keyClick(dialog.repeat_password, Qt.Key.Key_Return)
    backend, info = opened.args
    assert backend is remote and not info.must_change_password
    assert remote.search_patients("zzz-nobody") == []
    assert accounts.authenticate(world.clinic, user.username, "remote-own-pass").id == user.id

    # The admin's staff page on another remote desk deactivates the account.
    admin_desk = world.backend()
    admin_desk.login(admin_user.username, factories.PASSWORD)
    prefs = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(
        admin_desk, admin_desk.current_user or admin_user, world.clinic.settings.tz, prefs
    )
    qtbot.addWidget(window)
    window.show()
    window.show_view("admin")
    assert window.admin is not None
    page = window.admin.page("staff")
    assert isinstance(page, StaffPage)
    qtbot.waitUntil(lambda: page.select_username(user.username), timeout=WAIT_MS)
    qtbot.mouseClick(page.active_button, Qt.MouseButton.LeftButton)
    assert page.confirmation is not None
    page.confirmation.accept()
    qtbot.waitUntil(
        lambda: page.selected() is not None and not page.selected().is_active, timeout=WAIT_MS
    )
    window.close()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=WAIT_MS)
