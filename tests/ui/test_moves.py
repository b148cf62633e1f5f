"""Moving a booking: the message says where to, Undo puts it back while the old slot is
free (and says so plainly when it is not), and a move can go to another doctor. Cancelling
one asks for an optional reason, which is kept."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.models import AppointmentRecord, SlotState
from hms_desktop.ui.calendar import AppointmentDialog, CalendarView
from hms_desktop.ui.main_window import MainWindow
from tests.services.support import last_audit
from tests.ui.conftest import Desk, cell, free_slots, settle, show_day, state_of, tomorrow


def _book(desk: Desk, slot_id: int, patient: int = 0) -> AppointmentRecord:
    who = desk.patients[patient].id
    return desk.backend.confirm_booking(slot_id, who, desk.backend.hold_slot(slot_id, who).token)


def _said(moment: datetime, desk: Desk) -> str:
    """ "Tue 3 Dec 10:30" in the clinic's time."""
    local = moment.astimezone(desk.clinic.settings.tz)
    return local.strftime("%a ") + str(local.day) + local.strftime(" %b %H:%M")


def _calendar(qtbot: QtBot, desk: Desk, window: MainWindow) -> CalendarView:
    window.activateWindow()
    window.show_view("calendar")
    show_day(qtbot, window.calendar, desk.doctors[0].doctor_id, tomorrow(desk.clinic))
    return window.calendar


def _drag(calendar: CalendarView, source_slot: int, target_slot: int) -> None:
    model = calendar.model
    mime = model.mimeData([cell(calendar, source_slot)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, -1, -1, cell(calendar, target_slot))


def test_a_drag_move_says_the_new_time_and_undo_puts_it_back_if_it_can(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    heart = desk.doctors[0]
    first, second = free_slots(desk, heart.doctor_id, tomorrow(desk.clinic))[:2]
    booked = _book(desk, first)
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    assert state_of(calendar, first) is SlotState.BOOKED

    _drag(calendar, first, second)
    qtbot.waitUntil(lambda: state_of(calendar, second) is SlotState.BOOKED, timeout=10_000)
    moved = desk.backend.patient_history(booked.patient_id)[0]
    assert moved.slot_id == second
    said = window.statusBar().currentMessage()
    assert said.startswith(
        f"Moved Alice Walker to {_said(moved.start, desk)} with Dr {moved.doctor_name}"
    ), said
    undo = calendar.undo_offer.button
    assert undo.isVisible() and "Undo" in undo.text()

    # Ctrl+Z in the calendar puts it back while the old slot is free.
    calendar.table.setFocus()
    qtbot.keyClick(calendar.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: state_of(calendar, first) is SlotState.BOOKED, timeout=10_000)
    assert state_of(calendar, second) is SlotState.FREE
    assert desk.backend.patient_history(booked.patient_id)[0].slot_id == first
    assert (
        window.statusBar()
        .currentMessage()
        .startswith(f"Moved Alice Walker back to {_said(booked.start, desk)} with Dr")
    )
    assert not undo.isVisible(), "one undo per move"

    # Moved again, and another patient takes the old slot meanwhile: Undo says so plainly.
    settle(qtbot, calendar.tasks)
    _drag(calendar, first, second)
    qtbot.waitUntil(lambda: state_of(calendar, second) is SlotState.BOOKED, timeout=10_000)
    qtbot.waitUntil(lambda: undo.isVisible(), timeout=5_000)
    _book(desk, first, patient=1)
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage().startswith("Cannot undo"), timeout=10_000
    )
    said = window.statusBar().currentMessage()
    assert f"{_said(booked.start, desk)} with Dr" in said and "no longer free" in said
    assert desk.backend.patient_history(booked.patient_id)[0].slot_id == second


def test_a_booking_moves_to_another_doctor_from_its_dialog(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    heart, skin = desk.doctors
    (slot,) = free_slots(desk, heart.doctor_id, tomorrow(desk.clinic))[:1]
    booked = _book(desk, slot)
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    dialog = calendar.open_appointment(booked)
    assert isinstance(dialog, AppointmentDialog)
    qtbot.mouseClick(dialog.reschedule_button, Qt.MouseButton.LeftButton)
    picker = dialog.picker
    assert picker is not None
    qtbot.waitUntil(lambda: picker.doctor.findData(skin.doctor_id) >= 0, timeout=10_000)
    qtbot.waitUntil(lambda: picker.list.count() > 0, timeout=10_000)
    assert picker.doctor.isVisible() and picker.doctor.currentData() == heart.doctor_id
    picker.doctor.setCurrentIndex(picker.doctor.findData(skin.doctor_id))
    settle(qtbot, calendar.tasks)
    qtbot.waitUntil(lambda: picker.list.count() > 0, timeout=10_000)
    target = picker.list.currentItem().data(Qt.ItemDataRole.UserRole)
    qtbot.mouseClick(picker.ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    moved = desk.backend.patient_history(booked.patient_id)[0]
    assert (moved.doctor_id, moved.slot_id) == (skin.doctor_id, target)
    said = window.statusBar().currentMessage()
    assert said.startswith(f"Moved Alice Walker to {_said(moved.start, desk)} with Dr"), said
    assert moved.doctor_name in said and calendar.undo_offer.button.isVisible()


def test_cancelling_asks_for_an_optional_reason_that_is_kept(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    first, second = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[:2]
    with_reason, without = _book(desk, first), _book(desk, second, patient=1)
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)

    dialog = calendar.open_appointment(with_reason)
    qtbot.mouseClick(dialog.cancel_appointment_button, Qt.MouseButton.LeftButton)
    box = dialog.confirm_box
    assert box is not None and box.isVisible()
    assert box.focusWidget() is box.reason
    qtbot.keyClick(box.reason, Qt.Key.Key_Return)  # no reason typed: Enter cancels nothing
    assert box.isVisible()
    qtbot.keyClicks(box.reason, "Patient is travelling")
    qtbot.keyClick(box.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    cancelled = desk.backend.patient_history(with_reason.patient_id)[0]
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert cancelled.decline_reason == "Patient is travelling"
    entry = last_audit(desk.clinic)
    assert (entry.action, entry.entity_id) == ("cancel", str(with_reason.id))
    assert json.loads(entry.detail) == {"reason": "Patient is travelling"}
    assert box.reason.maxLength() == 300

    # The reason is optional: the button cancels without one.
    settle(qtbot, calendar.tasks)
    dialog = calendar.open_appointment(without)
    qtbot.mouseClick(dialog.cancel_appointment_button, Qt.MouseButton.LeftButton)
    box = dialog.confirm_box
    assert box is not None
    qtbot.mouseClick(box.cancel_it, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    cancelled = desk.backend.patient_history(without.patient_id)[0]
    assert (cancelled.status, cancelled.decline_reason) == (AppointmentStatus.CANCELLED, "")
    qtbot.waitUntil(lambda: state_of(calendar, second) is SlotState.FREE, timeout=10_000)
