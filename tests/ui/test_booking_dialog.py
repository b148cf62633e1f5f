"""The booking dialog as a receptionist works it: keys that never let a held slot go, the
arrows choosing among matches, the desk's words for an appointment's type."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentType
from hms_desktop.domain.models import SlotState
from hms_desktop.ui.calendar import BookingDialog, CalendarView
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.patients import history_model
from tests import factories
from tests.ui.conftest import Desk, click_slot, free_slots, settle, show_day, state_of, tomorrow


def _calendar(qtbot: QtBot, desk: Desk, window: MainWindow) -> CalendarView:
    window.activateWindow()
    window.show_view("calendar")
    show_day(qtbot, window.calendar, desk.doctors[0].doctor_id, tomorrow(desk.clinic))
    return window.calendar


def _open_booking(qtbot: QtBot, calendar: CalendarView, slot_id: int, name: str) -> BookingDialog:
    click_slot(qtbot, calendar, slot_id)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.search.box, name)
    qtbot.waitUntil(lambda: dialog.search.model.rowCount() > 0, timeout=10_000)
    settle(qtbot, calendar.tasks)
    return dialog


def _focused(dialog: BookingDialog) -> QWidget:
    widget = dialog.focusWidget()
    assert widget is not None
    return widget


def test_a_held_slot_is_never_let_go_by_a_stray_key(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    slot_id = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[1]
    dialog = _open_booking(qtbot, calendar, slot_id, "Alice")
    qtbot.keyClick(dialog.search.box, Qt.Key.Key_Return)  # into the results
    qtbot.keyClick(dialog.search.table, Qt.Key.Key_Return)  # pick → hold
    qtbot.waitUntil(lambda: dialog.hold is not None, timeout=10_000)
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.HELD_BY_ME, timeout=10_000)

    # The reason for the visit is next: typed with spaces, it goes there, not to a button.
    assert _focused(dialog) is dialog.symptoms
    qtbot.keyClicks(_focused(dialog), "chest pain for two days")
    assert dialog.symptoms.text() == "chest pain for two days"
    assert dialog.isVisible() and dialog.hold is not None

    # Tab from the results goes round the dialog without ever landing on Cancel.
    dialog.search.table.setFocus()
    visited = []
    for _ in range(12):
        qtbot.keyClick(_focused(dialog), Qt.Key.Key_Tab)
        visited.append(_focused(dialog))
    assert dialog.symptoms in visited and dialog.cancel_button not in visited
    assert dialog.isVisible() and dialog.hold is not None

    # Esc asks first; Esc on the question (or "Keep holding") keeps the slot held.
    qtbot.keyClick(_focused(dialog), Qt.Key.Key_Escape)
    box = dialog.release_box
    assert box is not None and box.isVisible()
    assert box.windowTitle() == "Release the held slot?"
    assert dialog.isVisible() and dialog.hold is not None
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible(), timeout=5_000)
    assert dialog.isVisible() and dialog.hold is not None
    settle(qtbot, calendar.tasks)
    assert state_of(calendar, slot_id) is SlotState.HELD_BY_ME
    # A click on Cancel asks too; releasing on purpose closes the dialog and frees the slot.
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    box = dialog.release_box
    assert box is not None and box.isVisible() and dialog.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    qtbot.waitUntil(lambda: desk.clinic.locks.get(slot_id) is None, timeout=10_000)
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.FREE, timeout=10_000)


def test_the_arrows_in_the_search_box_choose_which_match_enter_holds(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    for first_name in ("Amara", "Lucas"):
        factories.patient(desk.clinic, full_name=f"{first_name} Okafor")
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    slot_id = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[0]
    dialog = _open_booking(qtbot, calendar, slot_id, "okafor")
    search = dialog.search
    assert search.model.rowCount() == 2
    first, second = (search.model.row_record(row) for row in range(2))
    assert first is not None and second is not None
    assert search.selected() == first
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Down):
        qtbot.keyClick(search.box, key)
    assert search.selected() == second, "Down / Up in the box move in the results"
    assert search.box.text() == "okafor"
    qtbot.keyClick(search.box, Qt.Key.Key_Return)
    assert search.selected() == second, "Enter keeps the row the arrows chose"
    qtbot.keyClick(search.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.hold is not None, timeout=10_000)
    assert dialog.hold is not None and dialog.hold.patient_id == second.id
    assert dialog.patient == second
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert dialog.result_record is not None and dialog.result_record.patient_id == second.id


def test_the_desk_says_in_person_or_video_call(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    slot_id = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[0]
    dialog = _open_booking(qtbot, calendar, slot_id, "Bob")
    words = [dialog.type.itemText(i) for i in range(dialog.type.count())]
    assert words == ["In person", "Video call"]
    assert dialog.type.currentText() == "In person"
    dialog.type.setCurrentIndex(words.index("Video call"))
    qtbot.keyClick(dialog.search.box, Qt.Key.Key_Return)
    qtbot.keyClick(dialog.search.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.confirm.isEnabled(), timeout=10_000)
    qtbot.keyClick(_focused(dialog), Qt.Key.Key_Return)  # Enter in the reason confirms
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    record = dialog.result_record
    assert record is not None and record.appointment_type is AppointmentType.ONLINE
    shown = window.calendar.open_appointment(record)
    text = " ".join(label.text() for label in shown.findChildren(QLabel))
    assert "Video call" in text and "Online" not in text
    shown.accept()
    # The patient's history says it the same way.
    history = history_model(desk.clinic.settings.tz)
    history.set_rows([record])
    row = [history.data(history.index(0, c)) for c in range(history.columnCount())]
    assert "Video call" in row and "Online" not in row


def test_enter_in_the_search_box_never_books_the_patient_held_before(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """Held for Alice, the desk looks for Bob instead: Enter goes into the results, and the
    next Enter holds the slot for Bob; nothing is booked on the way."""
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    slot_id = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[0]
    dialog = _open_booking(qtbot, calendar, slot_id, "Alice")
    qtbot.mouseClick(dialog.pick_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.confirm.isEnabled(), timeout=10_000)
    dialog.search.box.setFocus()
    dialog.search.box.clear()
    qtbot.keyClicks(dialog.search.box, "Bob")
    qtbot.waitUntil(lambda: dialog.search.selected() == desk.patients[1], timeout=10_000)
    qtbot.keyClick(dialog.search.box, Qt.Key.Key_Return)
    settle(qtbot, calendar.tasks)
    assert dialog.isVisible() and dialog.result_record is None, "nothing booked"
    assert desk.backend.patient_history(desk.patients[0].id) == []
    qtbot.keyClick(dialog.search.table, Qt.Key.Key_Return)
    qtbot.waitUntil(
        lambda: dialog.hold is not None and dialog.hold.patient_id == desk.patients[1].id,
        timeout=10_000,
    )
    assert dialog.isVisible() and dialog.result_record is None
    assert dialog.symptoms.hasFocus() or dialog.focusWidget() is dialog.symptoms
