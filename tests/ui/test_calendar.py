"""The calendar: hold and confirm a slot, reschedule (dialog and drag-and-drop), cancel."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.models import AppointmentRecord, SlotState
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.calendar import AppointmentDialog, BookingDialog, CalendarView
from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.ui.conftest import (
    Desk,
    cell,
    click_slot,
    free_slots,
    settle,
    show_day,
    state_of,
    tomorrow,
)


def _calendar(qtbot: QtBot, desk: Desk, window: MainWindow) -> CalendarView:
    window.show_view("calendar")
    calendar = window.calendar
    show_day(qtbot, calendar, desk.doctors[0].doctor_id, tomorrow(desk.clinic))
    return calendar


def _book(qtbot: QtBot, calendar: CalendarView, slot_id: int, name: str) -> AppointmentRecord:
    """Click the free slot, find the patient, Enter to hold, Enter to confirm."""
    click_slot(qtbot, calendar, slot_id)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.search.box, name)
    qtbot.waitUntil(lambda: dialog.search.model.rowCount() == 1, timeout=10_000)
    qtbot.keyClick(dialog.search.box, Qt.Key.Key_Return)  # into the results
    qtbot.keyClick(dialog.search.table, Qt.Key.Key_Return)  # pick → hold
    qtbot.waitUntil(lambda: dialog.confirm.isEnabled(), timeout=10_000)
    assert "left to confirm" in dialog.chosen.text()
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.HELD_BY_ME, timeout=10_000)
    qtbot.keyClick(dialog.confirm, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert dialog.result_record is not None
    return dialog.result_record


def test_hold_and_confirm_a_slot(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    slot_id = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[2]
    record = _book(qtbot, calendar, slot_id, "Alice")
    assert (record.slot_id, record.patient_id) == (slot_id, desk.patients[0].id)
    assert record.status is AppointmentStatus.SCHEDULED
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.BOOKED, timeout=10_000)
    assert calendar.model.data(cell(calendar, slot_id)) == "Alice Walker"
    assert "Booked Alice Walker" in window.statusBar().currentMessage()


def test_escape_releases_the_hold(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    slot_id = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[0]
    table = calendar.table
    table.setFocus()
    table.setCurrentIndex(calendar.model.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Down)
    assert table.currentIndex().row() == 1, "arrows move in the calendar"
    window.activateWindow()
    qtbot.keyClick(table, Qt.Key.Key_Tab)
    assert not table.hasFocus() and table.currentIndex().row() == 1, "Tab leaves the grid"
    table.setFocus()
    table.setCurrentIndex(cell(calendar, slot_id))
    qtbot.keyClick(table, Qt.Key.Key_Return)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog)
    qtbot.keyClicks(dialog.search.box, "Bob")
    qtbot.waitUntil(lambda: dialog.search.model.rowCount() == 1, timeout=10_000)
    qtbot.mouseClick(dialog.pick_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.hold is not None, timeout=10_000)
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.HELD_BY_ME, timeout=10_000)
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    box = dialog.release_box  # a held slot is let go only when the desk says so
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.FREE, timeout=10_000)
    qtbot.waitUntil(lambda: desk.clinic.locks.get(slot_id) is None, timeout=10_000)


def test_reschedule_from_the_dialog_then_cancel(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    first, *_ = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))
    record = _book(qtbot, calendar, first, "Bob")
    qtbot.waitUntil(lambda: state_of(calendar, first) is SlotState.BOOKED, timeout=10_000)

    click_slot(qtbot, calendar, first, double=True)
    dialog = calendar.dialog
    assert isinstance(dialog, AppointmentDialog)
    qtbot.mouseClick(dialog.reschedule_button, Qt.MouseButton.LeftButton)
    picker = dialog.picker
    assert picker is not None
    qtbot.waitUntil(lambda: picker.list.count() > 0, timeout=10_000)
    shown = set(free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic)))
    rows = [picker.list.item(i) for i in range(picker.list.count())]
    row = next(i for i, item in enumerate(rows) if item.data(Qt.ItemDataRole.UserRole) in shown)
    picker.list.setCurrentRow(row)
    target = picker.list.currentItem().data(Qt.ItemDataRole.UserRole)
    assert target != first
    qtbot.mouseClick(picker.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    moved = desk.backend.patient_history(record.patient_id)[0]
    assert (moved.slot_id, moved.status) == (target, AppointmentStatus.RESCHEDULED)
    qtbot.waitUntil(lambda: state_of(calendar, first) is SlotState.FREE, timeout=10_000)
    settle(qtbot, window.tasks)

    click_slot(qtbot, calendar, target, double=True)
    dialog = calendar.dialog
    assert isinstance(dialog, AppointmentDialog)
    qtbot.mouseClick(dialog.cancel_appointment_button, Qt.MouseButton.LeftButton)
    box = dialog.confirm_box
    assert box is not None and box.isVisible()
    qtbot.mouseClick(box.keep, Qt.MouseButton.LeftButton)
    settle(qtbot, window.tasks)
    assert desk.backend.patient_history(record.patient_id)[0].status.is_open, "kept"
    qtbot.mouseClick(dialog.cancel_appointment_button, Qt.MouseButton.LeftButton)
    box = dialog.confirm_box
    assert box is not None
    qtbot.mouseClick(box.cancel_it, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert desk.backend.patient_history(record.patient_id)[0].status is AppointmentStatus.CANCELLED
    qtbot.waitUntil(lambda: state_of(calendar, target) is SlotState.FREE, timeout=10_000)


def test_drag_a_booking_onto_a_free_slot(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    first, second, *_ = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))
    record = _book(qtbot, calendar, first, "Alice")
    qtbot.waitUntil(lambda: state_of(calendar, first) is SlotState.BOOKED, timeout=10_000)
    model = calendar.model
    source, target = cell(calendar, first), cell(calendar, second)
    assert model.flags(source) & Qt.ItemFlag.ItemIsDragEnabled
    assert not model.flags(target) & Qt.ItemFlag.ItemIsDragEnabled
    mime = model.mimeData([source])
    assert not model.canDropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, source)
    model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, target)
    qtbot.waitUntil(lambda: state_of(calendar, second) is SlotState.BOOKED, timeout=10_000)
    assert state_of(calendar, first) is SlotState.FREE
    assert desk.backend.patient_history(record.patient_id)[0].slot_id == second


def test_a_doctors_calendar_is_their_own_to_look_at(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """A doctor sees only their own column; booking and moving are the front desk's."""
    mine, other = desk.doctors
    day = tomorrow(desk.clinic)
    booked, free = free_slots(desk, mine.doctor_id, day)[:2]
    hold = desk.backend.hold_slot(booked, desk.patients[0].id)
    desk.backend.confirm_booking(booked, desk.patients[0].id, hold.token, symptoms="cough")
    backend = LocalBackend(desk.clinic)
    user = backend.login(mine.user.username, factories.PASSWORD)
    window = window_for(Desk(desk.clinic, backend, user, [], [], []))
    window.show_view("calendar")
    calendar = window.calendar
    assert [calendar.doctor.itemData(i) for i in range(calendar.doctor.count())] == [mine.doctor_id]
    assert not calendar.doctor.isEnabled() and not calendar.speciality.isEnabled()
    show_day(qtbot, calendar, mine.doctor_id, day)
    assert {column.doctor.id for column in calendar.model.columns} == {mine.doctor_id}

    click_slot(qtbot, calendar, free)
    assert calendar.dialog is None
    assert window.statusBar().currentMessage() == "Appointments are booked at the front desk."
    click_slot(qtbot, calendar, booked, double=True)
    dialog = calendar.dialog
    assert isinstance(dialog, AppointmentDialog) and dialog.isVisible()
    assert not dialog.reschedule_button.isVisible()
    assert not dialog.cancel_appointment_button.isVisible()
    dialog.accept()
    # Another doctor's calendar is not theirs to open.
    window.calendar_for(next(d for d in desk.backend.doctors() if d.id == other.doctor_id))
    assert window.statusBar().currentMessage() == "Your calendar shows your own appointments."
    backend.close()


def test_names_are_shown_as_typed_never_as_markup(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """A patient who calls themselves "<h1>…" online is shown just so at the desk."""
    odd = factories.patient(desk.clinic, full_name="<h1>Big</h1> <img src=x>")
    doctor_id = desk.doctors[0].doctor_id
    slot = free_slots(desk, doctor_id, tomorrow(desk.clinic))[0]
    hold = desk.backend.hold_slot(slot, odd.id)
    booked = desk.backend.confirm_booking(slot, odd.id, hold.token, symptoms="<script>x</script>")
    window = window_for(desk)
    dialog = window.calendar.open_appointment(booked)
    shown = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert "&lt;h1&gt;Big&lt;/h1&gt;" in shown and "&lt;script&gt;" in shown
    assert "<h1>" not in shown and "<script>" not in shown
    dialog.accept()
