"""The main window on a shared workstation: what each user's desk remembers, and status-bar
messages that belong to the view that showed them."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.main_window import FRAME_ROOM, MainWindow
from tests import factories
from tests.ui.conftest import Desk, settle


def _open(qtbot: QtBot, desk: Desk, backend: LocalBackend, prefs: QSettings) -> MainWindow:
    user = backend.current_user
    assert user is not None
    window = MainWindow(backend, user, desk.clinic.settings.tz, prefs)
    window.show()
    settle(qtbot, window.tasks)
    return window


def _close(qtbot: QtBot, window: MainWindow) -> None:
    window.close()
    settle(qtbot, window.tasks)
    window.deleteLater()


def test_the_remembered_view_is_each_users_own(qtbot: QtBot, desk: Desk, prefs: QSettings) -> None:
    """A doctor logging in after a receptionist starts on My day, and the receptionist
    comes back to the view they left."""
    reception = _open(qtbot, desk, desk.backend, prefs)
    reception.show_view("patients")
    _close(qtbot, reception)

    doctor_backend = LocalBackend(desk.clinic)
    doctor_backend.login(desk.doctors[0].user.username, factories.PASSWORD)
    try:
        doctor = _open(qtbot, desk, doctor_backend, prefs)
        assert doctor.current_view() == "today"
        assert doctor.navigation.currentItem().text() == "My day"
        doctor.show_view("calendar")
        _close(qtbot, doctor)
    finally:
        doctor_backend.close()

    again = _open(qtbot, desk, desk.backend, prefs)
    assert again.current_view() == "patients"
    _close(qtbot, again)


def test_switching_views_clears_the_previous_views_message(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    window.show_view("today")
    window.today.message.emit("Alice Walker: arrived.")
    assert window.statusBar().currentMessage() == "Alice Walker: arrived."
    window.show_view("patients")
    assert window.statusBar().currentMessage() == ""
    # A message shown with the switch (booking for a patient) is the new view's own.
    window.book_for(desk.patients[0])
    assert window.current_view() == "calendar"
    assert window.statusBar().currentMessage() == "Pick a free slot for Alice Walker."


def test_the_smallest_window_fits_a_1024_by_640_screen_with_its_title_bar(
    desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """Else the status bar, where the desk's messages and Undo hints appear, is cut off."""
    window = window_for(desk)
    assert window.minimumWidth() <= 1024
    assert window.minimumHeight() + FRAME_ROOM.height() <= 640


def test_ctrl_number_to_patients_starts_in_the_search_box(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    window.show_view("calendar")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    row = window.view_names.index("patients")
    qtbot.keyClick(window, Qt.Key.Key_1 + row, Qt.KeyboardModifier.ControlModifier)
    assert window.current_view() == "patients"
    qtbot.waitUntil(window.patients.search.box.hasFocus, timeout=5_000)
