"""Status changes on the desk: asked first when long before the appointment, undone for a
few seconds (both changes audited); the day list's PDF named after the doctor and the day,
saved to the documents folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.models import SYSTEM, AppointmentRecord
from hms_desktop.services import audit
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.today import TodayView
from tests.ui.conftest import Desk, free_slots, settle, tomorrow


def _booked_tomorrow(desk: Desk) -> AppointmentRecord:
    doctor_id, day = desk.doctors[0].doctor_id, tomorrow(desk.clinic)
    slot_id = free_slots(desk, doctor_id, day)[2]
    hold = desk.backend.hold_slot(slot_id, desk.patients[0].id)
    return desk.backend.confirm_booking(slot_id, desk.patients[0].id, hold.token)


def _today_on(qtbot: QtBot, window: MainWindow, booked: AppointmentRecord) -> TodayView:
    assert booked.start is not None
    day = booked.start.astimezone(window.tz).date()
    window.show_view("today")
    today = window.today
    today.doctor.setCurrentIndex(today.doctor.findData(booked.doctor_id))
    today.day.setDate(QDate(day.year, day.month, day.day))
    qtbot.waitUntil(lambda: today.model.rowCount() == 1, timeout=10_000)
    return today


def _status(desk: Desk, booked: AppointmentRecord) -> AppointmentStatus:
    assert booked.start is not None
    day = booked.start.astimezone(desk.clinic.settings.tz).date()
    (record,) = desk.backend.doctor_day(booked.doctor_id, day)
    return record.status


def test_marking_arrived_long_before_the_appointment_asks_first(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    booked = _booked_tomorrow(desk)
    window = window_for(desk)
    today = _today_on(qtbot, window, booked)

    qtbot.mouseClick(today.buttons[AppointmentStatus.ARRIVED], Qt.MouseButton.LeftButton)
    box = today.changer.confirm_box
    assert box is not None and box.isVisible()
    assert "more than an hour from now" in box.text() and "Alice Walker" in box.text()
    box.button(QMessageBox.StandardButton.No).click()  # "Not yet"
    settle(qtbot, window.tasks)
    assert _status(desk, booked) is AppointmentStatus.SCHEDULED

    qtbot.mouseClick(today.buttons[AppointmentStatus.ARRIVED], Qt.MouseButton.LeftButton)
    box = today.changer.confirm_box
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(
        lambda: today.model.records[0].status is AppointmentStatus.ARRIVED, timeout=10_000
    )


def test_marking_arrived_close_to_the_appointment_does_not_ask(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    booked = _booked_tomorrow(desk)
    window = window_for(desk)
    today = _today_on(qtbot, window, booked)
    assert booked.start is not None
    start = booked.start
    today.changer.now = lambda: start - timedelta(minutes=40)
    today.changer.confirm_box = None
    qtbot.mouseClick(today.buttons[AppointmentStatus.ARRIVED], Qt.MouseButton.LeftButton)
    assert today.changer.confirm_box is None
    qtbot.waitUntil(
        lambda: today.model.records[0].status is AppointmentStatus.ARRIVED, timeout=10_000
    )


def test_a_status_set_by_mistake_is_undone_and_both_changes_are_audited(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    booked = _booked_tomorrow(desk)
    window = window_for(desk)
    today = _today_on(qtbot, window, booked)
    undo = today.changer.undo_button
    assert undo.isHidden()

    qtbot.mouseClick(today.buttons[AppointmentStatus.NO_SHOW], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: today.model.records[0].status is AppointmentStatus.NO_SHOW, timeout=10_000
    )
    qtbot.waitUntil(lambda: undo.isVisible(), timeout=10_000)
    assert "Ctrl+Z" in window.statusBar().currentMessage()
    qtbot.mouseClick(undo, Qt.MouseButton.LeftButton)
    assert undo.isHidden()
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == "Undone: Alice Walker is scheduled again.",
        timeout=10_000,
    )
    qtbot.waitUntil(
        lambda: today.model.records[0].status is AppointmentStatus.SCHEDULED, timeout=10_000
    )
    entries = audit.recent_entries(desk.clinic, SYSTEM, entity="appointment", limit=2)
    assert [(e["action"], e["actor"]) for e in entries] == [("status", desk.user.username)] * 2
    assert [json.loads(e["detail"])["status"] for e in reversed(entries)] == [
        "no_show",
        "scheduled",
    ]

    # The Undo is offered for a few seconds only (shortened once it shows: a 50 ms offer
    # could come and go between two looks of a loaded machine).
    qtbot.mouseClick(today.buttons[AppointmentStatus.NO_SHOW], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: undo.isVisible(), timeout=10_000)
    today.changer.undo_timer.setInterval(50)  # restarts the running offer's timer
    qtbot.waitUntil(lambda: undo.isHidden(), timeout=5_000)
    today.changer.undo()  # Ctrl+Z after the time: nothing to undo
    settle(qtbot, window.tasks)
    assert _status(desk, booked) is AppointmentStatus.NO_SHOW


def test_the_pdf_is_named_after_the_doctor_and_day_in_the_documents_folder(
    qtbot: QtBot,
    desk: Desk,
    window_for: Callable[[Desk], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    booked = _booked_tomorrow(desk)
    window = window_for(desk)
    today = _today_on(qtbot, window, booked)
    asked: list[str] = []

    def save_name(_parent: object, _title: str, suggestion: str, _filter: str) -> tuple[str, str]:
        asked.append(suggestion)
        return "", ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_DOCUMENTS_DIR", raising=False)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    name = f"day-list_Grace-Heart_{tomorrow(desk.clinic).isoformat()}.pdf"
    # A fresh account has no Documents folder yet: its home, not the working folder.
    qtbot.mouseClick(today.pdf_button, Qt.MouseButton.LeftButton)
    (tmp_path / "Documents").mkdir()
    qtbot.mouseClick(today.pdf_button, Qt.MouseButton.LeftButton)
    assert asked == [str(tmp_path / name), str(tmp_path / "Documents" / name)]


def test_no_undo_once_someone_else_has_moved_the_appointment_on(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """Undoing then would silently take back the other desk's (or the doctor's) change."""
    booked = _booked_tomorrow(desk)
    window = window_for(desk)
    today = _today_on(qtbot, window, booked)
    undo = today.changer.undo_button
    qtbot.mouseClick(today.buttons[AppointmentStatus.NO_SHOW], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: undo.isVisible(), timeout=10_000)
    desk.backend.set_status(booked.id, AppointmentStatus.ARRIVED)  # late after all
    qtbot.waitUntil(lambda: undo.isHidden(), timeout=10_000)
    today.changer.undo()
    settle(qtbot, window.tasks)
    assert _status(desk, booked) is AppointmentStatus.ARRIVED
