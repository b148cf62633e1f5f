"""Two desks on one store: a hold on one shows up live on the other, which cannot take it.

How events travel between desks on the central store (Redis pub/sub) is tested with the
services (tests/services/test_events_and_audit.py); here, what a desk does with them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from hms_desktop.domain.errors import NoHoldFound, SlotLocked
from hms_desktop.domain.models import SlotState
from hms_desktop.services.clinic import Clinic
from hms_desktop.ui.calendar import BookingDialog
from hms_desktop.ui.main_window import MainWindow
from tests.ui.conftest import Desk, click_slot, free_slots, make_desk, show_day, state_of, tomorrow


def test_a_hold_on_one_desk_appears_live_on_the_other(
    qtbot: QtBot,
    desk: Desk,
    open_store: Callable[..., Clinic],
    window_for: Callable[[Desk], MainWindow],
) -> None:
    other = make_desk(open_store(), seed_people=False)
    doctor_id = desk.doctors[0].doctor_id
    day = tomorrow(desk.clinic)
    slot_id = free_slots(desk, doctor_id, day)[1]
    first, second = window_for(desk), window_for(other)
    for window in (first, second):
        window.show_view("calendar")
        show_day(qtbot, window.calendar, doctor_id, day)
        assert state_of(window.calendar, slot_id) is SlotState.FREE

    click_slot(qtbot, first.calendar, slot_id)
    booking = first.calendar.dialog
    assert isinstance(booking, BookingDialog)
    qtbot.keyClicks(booking.search.box, "Alice")
    qtbot.waitUntil(lambda: booking.search.model.rowCount() == 1, timeout=10_000)
    qtbot.mouseClick(booking.pick_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: booking.hold is not None, timeout=10_000)

    # No refresh on the second desk: the change event alone redraws its calendar.
    qtbot.waitUntil(lambda: state_of(second.calendar, slot_id) is SlotState.HELD, timeout=10_000)
    assert second.calendar.model.data(second.calendar.model.index_of(slot_id)).startswith("Held")

    click_slot(qtbot, second.calendar, slot_id)
    assert second.calendar.dialog is None, "a slot held elsewhere opens no booking"
    question = second.calendar.take_over_box
    assert question is not None and question.isVisible()
    assert "another desk" in question.text() and "Robin Desk" in question.text()
    # The default answer is to leave the other desk's hold alone.
    qtbot.keyClick(question, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not question.isVisible(), timeout=5_000)
    with pytest.raises(SlotLocked):
        other.backend.hold_slot(slot_id, desk.patients[1].id)

    # Even a desk that still shows the slot as free is refused, in words it understands.
    stale = BookingDialog(
        other.backend,
        second.tasks,
        other.clinic.settings.tz,
        second.calendar.model.slot_at(second.calendar.model.index_of(slot_id)),
        "Dr Heart",
        desk.patients[1],
        second,
    )
    qtbot.addWidget(stale)
    stale.open()
    qtbot.waitUntil(lambda: stale.error.isVisible(), timeout=10_000)
    assert stale.error.text() == "Slot is temporarily locked."
    assert not stale.confirm.isEnabled()
    stale.reject()

    assert booking.isVisible() and booking.confirm.isEnabled()
    qtbot.mouseClick(booking.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not booking.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: state_of(second.calendar, slot_id) is SlotState.BOOKED, timeout=10_000)
    other.backend.close()


def test_a_desk_takes_over_another_desks_hold(
    qtbot: QtBot,
    desk: Desk,
    open_store: Callable[..., Clinic],
    window_for: Callable[[Desk], MainWindow],
) -> None:
    """The patient is at this desk now (or the other desk has gone): this desk releases the
    other's hold, on purpose, and books the slot; the other desk can no longer confirm it."""
    other = make_desk(open_store(), seed_people=False)
    doctor_id = desk.doctors[0].doctor_id
    day = tomorrow(desk.clinic)
    slot_id = free_slots(desk, doctor_id, day)[2]
    forgotten = desk.backend.hold_slot(slot_id, desk.patients[0].id)
    window = window_for(other)
    window.show_view("calendar")
    show_day(qtbot, window.calendar, doctor_id, day)
    assert state_of(window.calendar, slot_id) is SlotState.HELD

    click_slot(qtbot, window.calendar, slot_id)
    question = window.calendar.take_over_box
    assert question is not None
    qtbot.mouseClick(question.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(window.calendar, slot_id) is SlotState.FREE, timeout=10_000)
    assert "released" in window.statusBar().currentMessage()
    with pytest.raises(NoHoldFound):
        desk.backend.confirm_booking(slot_id, desk.patients[0].id, forgotten.token)
    other.backend.close()
