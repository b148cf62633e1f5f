"""Doctors: filter by speciality, see fee, hours and free slots; open their calendar."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hms_desktop.ui.main_window import MainWindow
from tests.ui.conftest import Desk, settle


def test_browse_a_speciality(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    window.show_view("doctors")
    doctors = window.doctors
    qtbot.waitUntil(lambda: doctors.model.rowCount() == 2, timeout=10_000)
    doctors.speciality.setFocus()
    index = doctors.speciality.findText("Dermatology")
    doctors.speciality.setCurrentIndex(index)
    qtbot.waitUntil(lambda: doctors.model.rowCount() == 1, timeout=10_000)
    skin = doctors.model.records[0]
    assert skin.id == desk.doctors[1].doctor_id and skin.fee == 60
    assert doctors.model.data(doctors.model.index(0, 4)) == "no reviews"
    qtbot.waitUntil(lambda: skin.full_name in doctors.details.text(), timeout=10_000)
    text = doctors.details.text()
    assert "Weekly hours" in text and "Monday" in text and "Next free slots" in text

    qtbot.mouseClick(doctors.calendar_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window.tasks)
    assert window.current_view() == "calendar"
    assert window.calendar.doctor.currentData() == skin.id
    assert {c.doctor.id for c in window.calendar.model.columns} == {skin.id}
