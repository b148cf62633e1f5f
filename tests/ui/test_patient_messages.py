"""Reminders at the desk: a patient's messages in the patient card's Messages tab, and the
opt-out box in the patient form (ticked from the keyboard: Tab after the address, Space)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.models import PatientForm
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.patients import PatientFormDialog
from tests.ui.conftest import Desk, free_slots, tomorrow


def test_the_patient_card_shows_messages_and_the_form_sets_the_opt_out(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    backend = desk.backend
    patient = backend.register_patient(PatientForm(full_name="Mara Mail", email="mara@example.org"))
    slot = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[-1]
    hold = backend.hold_slot(slot, patient.id)
    backend.confirm_booking(slot, patient.id, hold.token)

    window = window_for(desk)
    view = window.patients
    qtbot.keyClicks(view.search.box, "Mara")
    qtbot.waitUntil(
        lambda: view.patient is not None and view.patient.id == patient.id, timeout=10_000
    )
    view.sections.setCurrentWidget(view.messages)
    qtbot.waitUntil(lambda: view.messages.model.rowCount() >= 1, timeout=10_000)
    shown = {
        view.messages.model.index(row, 1).data(): view.messages.model.index(row, 2).data()
        for row in range(view.messages.model.rowCount())
    }
    assert shown.get("Booking confirmed") == "Waiting"
    assert "mara@example.org" in view.messages.model.index(0, 3).data()
    assert "<td>on</td>" in view.details.text()

    qtbot.mouseClick(view.edit_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(PatientFormDialog)
    assert dialog is not None and not dialog.messages_opt_out.isChecked()
    # From the address field, Tab reaches the box; Space ticks it.
    dialog.address.setFocus()
    qtbot.keyClick(dialog.address, Qt.Key.Key_Tab)
    qtbot.waitUntil(dialog.messages_opt_out.hasFocus, timeout=5_000)
    qtbot.keyClick(dialog.messages_opt_out, Qt.Key.Key_Space)
    assert dialog.messages_opt_out.isChecked()
    qtbot.keyClick(dialog.full_name, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert backend.get_patient(patient.id).messages_opt_out
    qtbot.waitUntil(lambda: "opted out" in view.details.text(), timeout=10_000)


def test_the_shown_patients_card_follows_a_booking_and_a_cancel_made_meanwhile(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    """Found under Xvfb: a patient's card, open while their appointment was booked from the
    calendar, still said "no appointments" and "no messages" until picked again."""
    backend = desk.backend
    patient = backend.register_patient(PatientForm(full_name="Nia Note", email="nia@example.org"))
    window = window_for(desk)
    view = window.patients
    qtbot.keyClicks(view.search.box, "Nia")
    qtbot.waitUntil(
        lambda: view.patient is not None and view.patient.id == patient.id, timeout=10_000
    )
    qtbot.wait(300)  # the card's first answers are in: nothing booked yet
    assert view.history.rowCount() == 0 and view.messages.model.rowCount() == 0

    slot = free_slots(desk, desk.doctors[0].doctor_id, tomorrow(desk.clinic))[-1]
    hold = backend.hold_slot(slot, patient.id)
    booked = backend.confirm_booking(slot, patient.id, hold.token)
    qtbot.waitUntil(lambda: view.history.rowCount() == 1, timeout=10_000)
    qtbot.waitUntil(lambda: view.messages.model.rowCount() >= 1, timeout=10_000)

    backend.cancel(booked.id)
    kinds = lambda: {  # noqa: E731
        view.messages.model.index(row, 1).data() for row in range(view.messages.model.rowCount())
    }
    qtbot.waitUntil(lambda: "Cancelled" in kinds(), timeout=10_000)
    assert view.history.records[0].status.value == "cancelled"
