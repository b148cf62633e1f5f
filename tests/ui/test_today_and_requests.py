"""The doctor's day with status changes and a PDF; the request queue: assign and decline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import scheduling
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.requests import DeclineDialog
from tests.ui.conftest import Desk, free_slots, settle, tomorrow


def test_the_doctors_day_with_status_changes(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow], tmp_path: Path
) -> None:
    doctor_id, day = desk.doctors[0].doctor_id, tomorrow(desk.clinic)
    late, early = free_slots(desk, doctor_id, day)[5], free_slots(desk, doctor_id, day)[1]
    for slot_id, patient in ((late, desk.patients[0]), (early, desk.patients[1])):
        hold = desk.backend.hold_slot(slot_id, patient.id)
        desk.backend.confirm_booking(slot_id, patient.id, hold.token)
    window = window_for(desk)
    window.show_view("today")
    today = window.today
    today.doctor.setCurrentIndex(today.doctor.findData(doctor_id))
    today.day.setDate(QDate(day.year, day.month, day.day))
    qtbot.waitUntil(lambda: today.model.rowCount() == 2, timeout=10_000)
    assert [r.patient_name for r in today.model.records] == ["Bob Marley", "Alice Walker"]
    assert not today.buttons[AppointmentStatus.COMPLETED].isEnabled()

    for status in (
        AppointmentStatus.ARRIVED,
        AppointmentStatus.IN_PROGRESS,
        AppointmentStatus.COMPLETED,
    ):
        qtbot.mouseClick(today.buttons[status], Qt.MouseButton.LeftButton)
        if status is not AppointmentStatus.IN_PROGRESS:  # tomorrow's: asked first
            box = today.changer.confirm_box
            assert box is not None and box.isVisible()
            box.button(QMessageBox.StandardButton.Yes).click()
            today.changer.confirm_box = None
        qtbot.waitUntil(lambda s=status: today.model.records[0].status is s, timeout=10_000)
        settle(qtbot, window.tasks)
    assert desk.backend.doctor_day(doctor_id, day)[0].status is AppointmentStatus.COMPLETED
    assert not today.buttons[AppointmentStatus.NO_SHOW].isEnabled()

    today.table.selectRow(1)
    qtbot.mouseClick(today.buttons[AppointmentStatus.NO_SHOW], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: today.model.records[1].status is AppointmentStatus.NO_SHOW, timeout=10_000
    )
    pdf = today.save_pdf(tmp_path / "day.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000


def _request(desk: Desk, reason: str) -> int:
    return scheduling.request_appointment(
        desk.clinic,
        SYSTEM,
        doctor_id=desk.doctors[1].doctor_id,
        patient_id=desk.patients[0].id,
        symptoms=reason,
    ).id


def test_assign_a_request_and_decline_another(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    assigned, declined = _request(desk, "Rash"), _request(desk, "Itch")
    window = window_for(desk)
    window.show_view("requests")
    requests = window.requests
    qtbot.waitUntil(lambda: requests.model.rowCount() == 2, timeout=10_000)

    requests.table.selectRow([r.id for r in requests.model.records].index(assigned))
    qtbot.mouseClick(requests.assign_button, Qt.MouseButton.LeftButton)
    picker = requests.dialog
    assert picker is not None
    qtbot.waitUntil(lambda: picker.ok.isEnabled(), timeout=10_000)
    slot_id = picker.list.currentItem().data(Qt.ItemDataRole.UserRole)
    qtbot.keyClick(picker.list, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: requests.model.rowCount() == 1, timeout=10_000)
    record = desk.backend.patient_history(desk.patients[0].id)
    booked = next(r for r in record if r.id == assigned)
    assert (booked.status, booked.slot_id) == (AppointmentStatus.SCHEDULED, slot_id)

    qtbot.mouseClick(requests.decline_button, Qt.MouseButton.LeftButton)
    dialog = requests.dialog
    assert isinstance(dialog, DeclineDialog)
    qtbot.mouseClick(dialog.decline, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    assert dialog.error.text() == "Give a reason for declining the request."
    assert [r.id for r in desk.backend.pending_requests()] == [declined], "nothing changed"
    qtbot.keyClicks(dialog.reason, "Doctor is away that week")
    qtbot.mouseClick(dialog.decline, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: requests.model.rowCount() == 0, timeout=10_000)
    gone = next(r for r in desk.backend.patient_history(desk.patients[0].id) if r.id == declined)
    assert gone.status is AppointmentStatus.DECLINED
    assert gone.decline_reason == "Doctor is away that week"
