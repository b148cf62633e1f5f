"""Patients: register (field errors, duplicate warning), find as you type, edit."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.patients import PatientFormDialog
from tests.ui.conftest import Desk, settle


def _open_form(qtbot: QtBot, window: MainWindow) -> PatientFormDialog:
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.patients.findChild(PatientFormDialog)
    assert dialog is not None and dialog.isVisible()
    return dialog


def _fill(qtbot: QtBot, dialog: PatientFormDialog, **fields: str) -> None:
    for name, text in fields.items():
        widget = getattr(dialog, name)
        widget.clear()
        qtbot.keyClicks(widget, text)


def _named(desk: Desk, name: str) -> int:
    return len([p for p in desk.backend.search_patients(name) if p.full_name == name])


def test_register_then_find_by_name_phone_and_birth_date(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    dialog = _open_form(qtbot, window)
    _fill(
        qtbot,
        dialog,
        full_name="Carla Jimenez",
        date_of_birth="1979-02-03",
        phone="+44 20 7946 0123",
        email="carla@example.org",
    )
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert _named(desk, "Carla Jimenez") == 1

    search = window.patients.search
    for query in ("carla jim", "+44 20 7946", "1979-02-03"):
        qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        assert window.focusWidget() is search.box
        search.box.clear()
        qtbot.keyClicks(search.box, query)
        qtbot.waitUntil(
            lambda: [r.full_name for r in search.model.records] == ["Carla Jimenez"],
            timeout=10_000,
        )
    assert "Carla Jimenez" in window.patients.details.text()


def test_duplicate_warning_before_saving(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    existing = desk.patients[0]
    dialog = _open_form(qtbot, window)
    _fill(qtbot, dialog, full_name=existing.full_name, date_of_birth="1990-05-17")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.warning.isVisible(), timeout=10_000)
    assert dialog.isVisible() and dialog.duplicates.count() == 1
    assert existing.full_name in dialog.duplicates.item(0).text()
    assert dialog.save.text() == "Save anyway"
    assert _named(desk, existing.full_name) == 1, "nothing saved before the desk decides"

    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert _named(desk, existing.full_name) == 2


def test_duplicate_warning_can_pick_the_existing_patient(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    existing = desk.patients[1]
    dialog = _open_form(qtbot, window)
    _fill(qtbot, dialog, full_name="Someone Else", phone=existing.phone or "")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.warning.isVisible(), timeout=10_000)
    qtbot.mouseClick(dialog.use_existing, Qt.MouseButton.LeftButton)
    assert dialog.result_record == existing
    settle(qtbot, window.tasks)
    assert window.patients.patient == existing
    assert desk.backend.search_patients("Someone Else") == []


BAD_INPUT = [
    ({"full_name": ""}, "full_name", "Full name is required."),
    (
        {"full_name": "Dan Brown", "phone": "12ab"},
        "phone",
        "Phone number may contain only digits, spaces and + - ( ).",
    ),
    ({"full_name": "Dan Brown", "phone": "123"}, "phone", "Phone number must have 6 to 15 digits."),
    ({"full_name": "Dan Brown", "email": "dan@"}, "email", "Enter a valid email address."),
    (
        {"full_name": "Dan Brown", "date_of_birth": "03/02/1979"},
        "date_of_birth",
        "Enter the date of birth as YYYY-MM-DD.",
    ),
    (
        {"full_name": "Dan Brown", "date_of_birth": "2999-01-01"},
        "date_of_birth",
        "Date of birth cannot be in the future.",
    ),
]


def test_bad_input_shows_the_message_next_to_the_field_and_saves_nothing(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    dialog = _open_form(qtbot, window)
    for fields, field, message in BAD_INPUT:
        _fill(qtbot, dialog, **{"phone": "", "email": "", "date_of_birth": "", **fields})
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda f=field: dialog.errors[f].isVisible(), timeout=10_000)
        assert dialog.errors[field].text() == message
        assert getattr(dialog, field).property("invalid") is True
        assert dialog.isVisible()
    dialog.login_box.setChecked(True)
    _fill(
        qtbot,
        dialog,
        full_name="Dan Brown",
        date_of_birth="",
        username="dan.brown",
        password="short",
    )
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.errors["password"].isVisible(), timeout=10_000)
    assert dialog.errors["password"].text() == "Password must be at least 8 characters."
    settle(qtbot, window.tasks)
    assert desk.backend.search_patients("Dan Brown") == []
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_edit_a_patient_and_see_their_history(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    search = window.patients.search
    qtbot.keyClicks(search.box, "Alice")
    qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=10_000)
    qtbot.mouseClick(window.patients.edit_button, Qt.MouseButton.LeftButton)
    dialog = window.patients.findChild(PatientFormDialog)
    assert dialog is not None and dialog.full_name.text() == "Alice Walker"
    _fill(qtbot, dialog, phone="abc")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.errors["phone"].isVisible(), timeout=10_000)
    assert desk.backend.get_patient(desk.patients[0].id).phone == "+15550001111"
    _fill(qtbot, dialog, phone="+1 555 000 9999", address="1 Long Road")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    updated = desk.backend.get_patient(desk.patients[0].id)
    assert (updated.phone, updated.address) == ("+15550009999", "1 Long Road")


def test_tab_leaves_the_results_for_the_buttons(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    window.activateWindow()
    search = window.patients.search
    qtbot.keyClicks(search.box, "a")
    qtbot.waitUntil(lambda: search.model.rowCount() == 2, timeout=10_000)
    qtbot.keyClick(search.box, Qt.Key.Key_Return)  # into the results
    assert search.table.hasFocus()
    qtbot.keyClick(search.table, Qt.Key.Key_Down)
    assert search.table.currentIndex().row() == 1, "arrows move in the results"
    qtbot.keyClick(search.table, Qt.Key.Key_Tab)
    assert window.patients.new_button.hasFocus(), "Tab goes on to the buttons, not cell by cell"
