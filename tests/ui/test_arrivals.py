"""The desk's arrivals list: every doctor's appointments of the day in time order, narrowed
to one doctor, mark arrived; live on other desks' changes; reached with a shortcut."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.status_change import STATUS_COLOURS
from tests.ui.conftest import Desk, free_slots, settle, tomorrow


def _book(desk: Desk, slot_id: int, patient_index: int) -> None:
    patient = desk.patients[patient_index]
    hold = desk.backend.hold_slot(slot_id, patient.id)
    desk.backend.confirm_booking(slot_id, patient.id, hold.token)


def test_the_arrivals_list_has_every_doctors_day_in_time_order(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    day = tomorrow(desk.clinic)
    heart, skin = (doctor.doctor_id for doctor in desk.doctors)
    _book(desk, free_slots(desk, heart, day)[5], 0)  # Alice, later
    _book(desk, free_slots(desk, skin, day)[1], 1)  # Bob, earlier
    window = window_for(desk)
    number = window.view_names.index("arrivals") + 1
    qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier)
    assert window.current_view() == "arrivals"
    assert window.navigation.currentItem().text() == "Arrivals"
    arrivals = window.arrivals
    arrivals.day.setDate(QDate(day.year, day.month, day.day))
    qtbot.waitUntil(lambda: arrivals.model.rowCount() == 2, timeout=10_000)
    assert [(r.patient_name, r.doctor_id) for r in arrivals.model.records] == [
        ("Bob Marley", skin),
        ("Alice Walker", heart),
    ]

    arrivals.doctor.setCurrentIndex(arrivals.doctor.findData(heart))
    assert [r.patient_name for r in arrivals.model.records] == ["Alice Walker"]
    assert "Grace Heart" in arrivals.title.text()
    qtbot.mouseClick(arrivals.arrived_button, Qt.MouseButton.LeftButton)
    box = arrivals.changer.confirm_box  # tomorrow's: asked first
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.Yes).click()
    qtbot.waitUntil(
        lambda: arrivals.model.records[0].status is AppointmentStatus.ARRIVED, timeout=10_000
    )
    assert not arrivals.arrived_button.isEnabled()
    # Told by colour as well as by word.
    colour = arrivals.model.data(arrivals.model.index(0, 3), Qt.ItemDataRole.BackgroundRole)
    assert colour == QColor(STATUS_COLOURS[AppointmentStatus.ARRIVED][0])
    arrivals.doctor.setCurrentIndex(arrivals.doctor.findData(None))
    assert arrivals.model.rowCount() == 2


def test_the_arrivals_list_is_live(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    day = tomorrow(desk.clinic)
    heart = desk.doctors[0].doctor_id
    window = window_for(desk)
    window.show_view("arrivals")
    arrivals = window.arrivals
    arrivals.day.setDate(QDate(day.year, day.month, day.day))
    settle(qtbot, window.tasks)
    assert arrivals.model.rowCount() == 0
    # Another desk books and a doctor marks the patient arrived: the list follows.
    _book(desk, free_slots(desk, heart, day)[3], 0)
    qtbot.waitUntil(lambda: arrivals.model.rowCount() == 1, timeout=10_000)
    desk.backend.set_status(arrivals.model.records[0].id, AppointmentStatus.ARRIVED)
    qtbot.waitUntil(
        lambda: arrivals.model.records[0].status is AppointmentStatus.ARRIVED, timeout=10_000
    )
