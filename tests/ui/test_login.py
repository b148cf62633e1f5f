"""Log in: success opens a role-adapted main window; failures keep what was typed."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QSettings, QSize, Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from hms_desktop.app.bootstrap import DatabaseUnreachable
from hms_desktop.app.desktop import desk_app
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import AccountInactive
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import accounts
from hms_desktop.services.backend import Backend
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import DEMO_RECEPTIONIST, LocalBackend
from hms_desktop.ui import theme
from hms_desktop.ui.app import FRIENDLY_CRASH, install_excepthook
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import FRAME_ROOM, MainWindow, first_size, user_key
from tests import factories
from tests.stores import STORES, StoreSpec
from tests.ui.conftest import settle


def _login_window(qtbot: QtBot, clinic: Clinic) -> tuple[LoginWindow, LocalBackend]:
    backend = LocalBackend(clinic)
    window = LoginWindow(backend)
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.tasks)
    return window, backend


def test_log_in_opens_the_desk_for_the_role(qtbot: QtBot, clinic: Clinic, prefs: QSettings) -> None:
    user, _ = factories.staff(clinic, Role.RECEPTIONIST, first_name="Robin")
    window, backend = _login_window(qtbot, clinic)
    assert window.hint.isHidden(), "no demo hint outside a fresh demo clinic"
    qtbot.keyClicks(window.username, user.username)
    qtbot.keyClick(window.username, Qt.Key.Key_Return)
    qtbot.keyClicks(window.password, factories.PASSWORD)
    with qtbot.waitSignal(window.logged_in, timeout=10_000) as signal:
        qtbot.keyClick(window.password, Qt.Key.Key_Return)
    logged_backend, logged_user = signal.args
    assert logged_backend is backend and logged_user.id == user.id
    main = MainWindow(backend, logged_user, clinic.settings.tz, prefs)
    qtbot.addWidget(main)
    assert main.view_names == [
        "patients",
        "doctors",
        "calendar",
        "today",
        "arrivals",
        "requests",
        "waitlist",
    ]
    settle(qtbot, main.tasks)
    main.close()


def test_doctor_gets_their_day_first_and_no_request_queue(
    qtbot: QtBot, clinic: Clinic, prefs: QSettings
) -> None:
    doc = factories.doctor(clinic)
    backend = LocalBackend(clinic)
    user = backend.login(doc.user.username, factories.PASSWORD)
    main = MainWindow(backend, user, clinic.settings.tz, prefs)
    qtbot.addWidget(main)
    settle(qtbot, main.tasks)
    assert main.view_names[0] == "today" and "requests" not in main.view_names
    assert main.current_view() == "today"
    assert main.today.doctor_id() == doc.doctor_id
    assert main.calendar.doctor.currentData() == doc.doctor_id
    assert main.patients.new_button.isHidden()
    main.close()


def test_wrong_password_shows_why_and_keeps_the_username(qtbot: QtBot, clinic: Clinic) -> None:
    user, _ = factories.staff(clinic)
    window, _ = _login_window(qtbot, clinic)
    qtbot.keyClicks(window.username, user.username)
    qtbot.keyClicks(window.password, "not-the-password")
    with qtbot.assertNotEmitted(window.logged_in, wait=100):
        qtbot.mouseClick(window.submit, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.message.isVisible(), timeout=10_000)
    assert window.message.text() == "Invalid username or password."
    assert window.username.text() == user.username
    assert window.password.text() == "not-the-password"
    assert window.submit.isEnabled()


def test_empty_form_asks_for_both_fields(qtbot: QtBot, clinic: Clinic) -> None:
    window, _ = _login_window(qtbot, clinic)
    qtbot.mouseClick(window.submit, Qt.MouseButton.LeftButton)
    assert window.message.text() == "Enter your username and password."


# On every store: the only UI test that opens the store itself (the desktop's start-up
# path, bootstrap.open_backend) rather than a Backend handed to it.
@pytest.mark.parametrize("store", STORES, indirect=True)
def test_the_app_starts_on_the_log_in_form_and_logs_in_once_connected(
    qtbot: QtBot, store: StoreSpec, clinic: Clinic
) -> None:
    user, _ = factories.staff(clinic)
    desk = desk_app(store.settings())
    with qtbot.waitSignal(desk.login_ready, timeout=10_000):
        desk.start()
    login = desk.login
    assert login is not None and login.isVisible()
    qtbot.addWidget(login)
    # Typed at once, before the clinic may have answered: the log-in waits for it.
    qtbot.keyClicks(login.username, user.username)
    qtbot.keyClicks(login.password, factories.PASSWORD)
    qtbot.keyClick(login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: desk.main is not None, timeout=15_000)
    main = desk.main
    assert main is not None and main.user.id == user.id and not login.isVisible()
    settle(qtbot, main.tasks)
    main.close()
    settle(qtbot, main.tasks)
    main.deleteLater()
    desk.close()


def test_inactive_account_and_unreachable_database_are_explained(
    qtbot: QtBot, clinic: Clinic
) -> None:
    user, _ = factories.staff(clinic)
    accounts.set_active(clinic, SYSTEM, user.id, False)
    window, _ = _login_window(qtbot, clinic)
    qtbot.keyClicks(window.username, user.username)
    qtbot.keyClicks(window.password, factories.PASSWORD)
    qtbot.mouseClick(window.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.message.isVisible(), timeout=10_000)
    assert window.message.text() == AccountInactive.message

    def unreachable() -> Backend:
        raise DatabaseUnreachable()

    offline = LoginWindow(None, opener=unreachable)
    qtbot.addWidget(offline)
    offline.show()
    qtbot.keyClicks(offline.username, "robin")
    qtbot.keyClicks(offline.password, "typed-password")
    qtbot.mouseClick(offline.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: offline.message.isVisible(), timeout=10_000)
    assert offline.message.text() == DatabaseUnreachable.message
    assert (offline.username.text(), offline.password.text()) == ("robin", "typed-password")
    assert offline.submit.isEnabled()


def test_window_geometry_and_last_view_are_remembered(
    qtbot: QtBot, clinic: Clinic, prefs: QSettings
) -> None:
    user, _ = factories.staff(clinic)
    backend = LocalBackend(clinic)
    info = backend.login(user.username, factories.PASSWORD)
    first = MainWindow(backend, info, clinic.settings.tz, prefs)
    first.show()
    settle(qtbot, first.tasks)
    first.resize(1200, 700)
    qtbot.keyClick(first, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert first.current_view() == "doctors"
    first.close()
    settle(qtbot, first.tasks)
    second = MainWindow(backend, info, clinic.settings.tz, prefs)
    second.show()
    settle(qtbot, second.tasks)
    assert second.current_view() == "doctors"
    # The offscreen screen is small, so restoring clamps the size; the saved bytes are the
    # first window's own.
    assert prefs.value(user_key(info.username, "main/geometry")) == first.saveGeometry()
    for window in (first, second):
        window.close()
        window.deleteLater()


def test_unexpected_errors_are_logged_not_shown_as_tracebacks(
    qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    def boxes() -> list[QMessageBox]:
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]

    before = set(boxes())
    previous = sys.excepthook
    install_excepthook()
    try:
        try:
            raise KeyError("boom")
        except KeyError as error:
            sys.excepthook(type(error), error, error.__traceback__)
    finally:
        sys.excepthook = previous
    assert "unexpected error" in caplog.text and "KeyError" in caplog.text
    shown = [box for box in boxes() if box not in before and box.isVisible()]
    assert len(shown) == 1, "the desk is told something went wrong"
    box = shown[0]
    assert box.icon() is QMessageBox.Icon.Warning
    assert box.text() == FRIENDLY_CRASH
    everything = box.text() + box.informativeText() + box.detailedText()
    assert "Traceback" not in everything and "KeyError" not in everything
    assert "boom" not in everything
    box.close()


class _FreshDemoClinic(LocalBackend):
    """A fresh embedded demo clinic, without loading it: only the hint matters here."""

    def demo_login_hint(self) -> tuple[str, str] | None:
        return ("reception", "reception123")


def test_fresh_demo_clinic_offers_the_demo_account(qtbot: QtBot, clinic: Clinic) -> None:
    window = LoginWindow(_FreshDemoClinic(clinic))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.hint.isVisible(), timeout=10_000)
    assert "reception123" in window.hint.text()
    qtbot.mouseClick(window.use_demo, Qt.MouseButton.LeftButton)
    assert (window.username.text(), window.password.text()) == ("reception", "reception123")


def _demo_clinic(clinic: Clinic) -> None:
    username, password = DEMO_RECEPTIONIST
    accounts.create_user(
        clinic, SYSTEM, username=username, role=Role.RECEPTIONIST, password=password
    )


def _hint_shown(qtbot: QtBot, clinic: Clinic) -> LoginWindow:
    window = LoginWindow(_FreshDemoClinic(clinic))
    qtbot.addWidget(window)
    window.show()
    settle(qtbot, window.tasks)
    return window


def test_the_demo_hint_goes_once_it_was_used(qtbot: QtBot, clinic: Clinic) -> None:
    _demo_clinic(clinic)
    window = _hint_shown(qtbot, clinic)
    assert window.hint.isVisible()
    qtbot.mouseClick(window.use_demo, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.logged_in, timeout=10_000):
        qtbot.keyClick(window.password, Qt.Key.Key_Return)
    assert not window.hint.isVisible()
    again = _hint_shown(qtbot, clinic)  # the next start on this workstation
    assert not again.hint.isVisible() and not again.use_demo.isVisible()


def test_the_demo_hint_can_be_dismissed_for_good(qtbot: QtBot, clinic: Clinic) -> None:
    window = _hint_shown(qtbot, clinic)
    assert window.dismiss_demo.isVisible()
    qtbot.mouseClick(window.dismiss_demo, Qt.MouseButton.LeftButton)
    assert not window.hint.isVisible() and not window.use_demo.isVisible()
    assert window.username.hasFocus() or not window.isActiveWindow()
    again = _hint_shown(qtbot, clinic)
    assert not again.hint.isVisible()


def test_a_log_in_with_another_account_keeps_the_hint(qtbot: QtBot, clinic: Clinic) -> None:
    user, _ = factories.staff(clinic)
    window = _hint_shown(qtbot, clinic)
    window.username.setText(user.username)
    window.password.setText(factories.PASSWORD)
    with qtbot.waitSignal(window.logged_in, timeout=10_000):
        qtbot.keyClick(window.password, Qt.Key.Key_Return)
    assert _hint_shown(qtbot, clinic).hint.isVisible()


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_first_start_loads_the_demo_clinic_with_progress_and_offers_its_account(
    qtbot: QtBot, store: StoreSpec
) -> None:
    desk = desk_app(store.settings())  # an empty embedded database
    desk.start()
    login = desk.login
    assert login is not None
    qtbot.addWidget(login)
    seen: list[str] = []

    def progress_shown() -> bool:
        splash = desk.splash
        if splash is not None and splash.isVisible():
            seen.append(splash.labelText())
        return bool(seen)

    qtbot.waitUntil(progress_shown, timeout=30_000)
    assert "demo clinic" in seen[0]
    qtbot.waitUntil(lambda: login.hint.isVisible(), timeout=120_000)
    assert desk.splash is None and desk.backend is not None
    assert desk.backend.demo_login_hint() == DEMO_RECEPTIONIST
    desk.close()


def test_a_first_start_fits_the_window_and_its_frame_on_the_screen() -> None:
    assert first_size(QSize(1920, 1040)) == QSize(1366, 768)
    small = first_size(QSize(1366, 768))  # a common desk screen, no task bar
    assert small.width() <= 1366 - FRAME_ROOM.width()
    assert small.height() <= 768 - FRAME_ROOM.height(), "the status bar stays on screen"
    assert FRAME_ROOM.height() >= 40, "room for a title bar"


def test_every_view_fits_the_smallest_main_window(
    qtbot: QtBot, clinic: Clinic, prefs: QSettings
) -> None:
    user, _ = factories.staff(clinic)
    backend = LocalBackend(clinic)
    main = MainWindow(
        backend, backend.login(user.username, factories.PASSWORD), clinic.settings.tz, prefs
    )
    qtbot.addWidget(main)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    theme.apply(app)  # the app's style sheet sets the sizes of its buttons and fields
    try:
        main.show()
        main.resize(main.minimumSize())
        settle(qtbot, main.tasks)
        for name in main.view_names:
            main.show_view(name)
            view = main.stack.currentWidget()
            qtbot.waitUntil(lambda view=view: view.isVisible(), timeout=5_000)
            needed = view.layout().minimumSize()
            # Anything wider than the view is drawn over its neighbours or cut off.
            assert needed.width() <= view.width(), f"{name} needs {needed.width()} px"
    finally:
        app.setStyleSheet("")
    main.close()
