"""Patients: register (field errors, duplicate warning), find as you type, edit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date

import pytest
import shiboken6
from PySide6.QtCore import QDate, QLocale, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.errors import PhoneTaken
from hms_desktop.domain.models import PatientRecord
from hms_desktop.ui.dates import parse_typed_day
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.patient_form import FIELD_WIDTH
from hms_desktop.ui.patients import PatientFormDialog, PatientSearch
from hms_desktop.ui.tasks import Tasks
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
        {"full_name": "Dan Brown", "date_of_birth": "31/02/1979"},
        "date_of_birth",
        "Enter the date of birth as DD/MM/YYYY, YYYY-MM-DD or 08 Mar 1984.",
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


def test_every_wrong_field_shows_its_error_at_once(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    dialog = _open_form(qtbot, window)
    cases = [
        # Checked by the server: all its field errors come back together.
        ({"full_name": "", "phone": "12ab", "email": "dan@"}, {"full_name", "phone", "email"}),
        # A date the desk cannot read, beside the server's errors.
        ({"full_name": "", "date_of_birth": "31/02/1979", "email": "x@"}, {"full_name", "email"}),
    ]
    for fields, server_side in cases:
        _fill(qtbot, dialog, **{"phone": "", "email": "", "date_of_birth": "", **fields})
        qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
        wrong = server_side | ({"date_of_birth"} if "date_of_birth" in fields else set())
        qtbot.waitUntil(
            lambda w=wrong: all(dialog.errors[f].isVisible() for f in w), timeout=10_000
        )
        settle(qtbot, window.tasks)
        shown = {name for name, label in dialog.errors.items() if label.isVisible()}
        assert shown == wrong
        assert all(getattr(dialog, f).property("invalid") is True for f in wrong)
    assert dialog.errors["email"].text() == "Enter a valid email address."
    assert dialog.isVisible() and desk.backend.search_patients("x@") == []


def test_phone_numbers_in_any_form_shown_nationally(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    dialog = _open_form(qtbot, window)
    _fill(qtbot, dialog, full_name="Uma Thurman", phone="0044 7700 900081")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    search = window.patients.search
    for query in ("07700900081", "+447700900081", "+1 555 000 1111"):
        search.box.clear()
        qtbot.keyClicks(search.box, query)
        qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=10_000)
    assert search.model.data(search.model.index(0, 2)) == "+1 555-000-1111"
    search.box.clear()
    qtbot.keyClicks(search.box, "uma")
    qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=10_000)
    assert search.model.data(search.model.index(0, 2)) == "07700 900081"
    assert "07700 900081" in window.patients.details.text()
    qtbot.mouseClick(window.patients.edit_button, Qt.MouseButton.LeftButton)
    dialogs = [d for d in window.patients.findChildren(PatientFormDialog) if d.isVisible()]
    assert [d.phone.text() for d in dialogs] == ["07700 900081"]


@pytest.mark.parametrize(
    ("typed", "locale"),
    [
        ("08/03/1984", QLocale.Country.UnitedKingdom),
        ("1984-03-08", QLocale.Country.UnitedKingdom),
        ("08 Mar 1984", QLocale.Country.UnitedKingdom),
        ("8 march 1984", QLocale.Country.UnitedKingdom),
        ("3/8/84", QLocale.Country.UnitedStates),  # the US desk's short date
        ("03/08/1984", QLocale.Country.UnitedStates),
    ],
)
def test_a_birth_date_typed_the_ways_the_desk_types_it(typed: str, locale: QLocale.Country) -> None:
    assert parse_typed_day(typed, QLocale(QLocale.Language.English, locale)) == date(1984, 3, 8)


def test_a_two_digit_year_is_never_in_the_future() -> None:
    us = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    assert parse_typed_day("1/2/05", us) == date(2005, 1, 2)
    assert parse_typed_day("1/2/99", us) == date(1999, 1, 2)


def test_birth_date_picked_from_the_calendar_and_found_by_any_form(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    dialog = _open_form(qtbot, window)
    _fill(qtbot, dialog, full_name="Pia Picked")
    qtbot.mouseClick(dialog.birth_field.pick, Qt.MouseButton.LeftButton)
    calendar = dialog.birth_field.calendar
    assert calendar.isVisible()
    calendar.clicked.emit(QDate(1984, 3, 8))
    assert dialog.date_of_birth.text() == "08 Mar 1984" and not calendar.isVisible()
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    (record,) = desk.backend.search_patients("Pia Picked")
    assert record.date_of_birth == date(1984, 3, 8)
    search = window.patients.search
    for query in ("08 Mar 1984", "08/03/1984", "1984-03-08"):
        search.box.clear()
        qtbot.keyClicks(search.box, query)
        qtbot.waitUntil(
            lambda: [r.full_name for r in search.model.records] == ["Pia Picked"], timeout=10_000
        )


def test_the_duplicate_warning_grows_the_dialog_instead_of_squashing_fields(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    existing = desk.patients[0]
    dialog = _open_form(qtbot, window)
    fields = [dialog.full_name, dialog.gender, dialog.date_of_birth, dialog.phone, dialog.email]
    heights = [field.height() for field in fields]
    dialog_height = dialog.height()
    _fill(qtbot, dialog, full_name="Someone Else", phone=existing.phone or "")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.warning.isVisible(), timeout=10_000)
    qtbot.wait(50)  # the layout settles
    assert [field.height() for field in fields] == heights
    assert dialog.height() > dialog_height
    assert all(field.height() >= field.sizeHint().height() for field in fields)
    assert dialog.duplicates.height() >= 60 and dialog.width() > FIELD_WIDTH


def test_registering_says_so_naming_the_patient(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    notice = window.patients.notice
    assert not notice.isVisible()
    dialog = _open_form(qtbot, window)
    _fill(qtbot, dialog, full_name="Nora Newcomer")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert notice.isVisible() and notice.text() == "✓ Nora Newcomer is registered."
    qtbot.keyClicks(window.patients.search.box, "x")
    assert not notice.isVisible(), "gone once the desk searches on"


def test_a_taken_phone_is_shown_beside_the_phone_field(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    dialog = _open_form(qtbot, window)
    _fill(qtbot, dialog, full_name="Someone Else", phone="001 555 000 1111")  # Alice's
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.warning.isVisible(), timeout=10_000)
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)  # "Save anyway"
    qtbot.waitUntil(lambda: dialog.errors["phone"].isVisible(), timeout=10_000)
    assert dialog.errors["phone"].text() == PhoneTaken.message
    assert dialog.isVisible() and desk.backend.search_patients("Someone Else") == []


def test_a_search_answering_after_its_dialog_closed_is_dropped(qtbot: QtBot, desk: Desk) -> None:
    """A booking dialog's patient search uses the desk's worker pool, which outlives the
    dialog: an answer that arrives once the dialog is gone is dropped, not an error."""
    release = threading.Event()
    real_search = desk.backend.search_patients

    def slow_search(text: str, limit: int = 50) -> list[PatientRecord]:
        release.wait(10)
        return real_search(text, limit)

    desk.backend.search_patients = slow_search  # type: ignore[method-assign]
    tasks = Tasks()
    search = PatientSearch(desk.backend, tasks)
    search.box.setText("alice")
    search.refresh()
    assert tasks.busy
    search.deleteLater()
    qtbot.waitUntil(lambda: not _alive(search), timeout=5_000)
    release.set()
    settle(qtbot, tasks)  # an exception in the answer's slot fails the test here


def _alive(widget: object) -> bool:
    return shiboken6.isValid(widget)


def test_any_answer_for_a_deleted_widget_is_dropped(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QLabel

    tasks = Tasks()
    label = QLabel()
    label.deleteLater()
    qtbot.waitUntil(lambda: not _alive(label), timeout=5_000)
    tasks.run(lambda: "late", on_done=label.setText)
    settle(qtbot, tasks)
