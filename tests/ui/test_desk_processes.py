"""A desk window and a second desk in another process on the same embedded file (two
desktops of one small clinic): the window redraws the other desk's hold, booking, move and
cancel within a second, and the other process hears this desk's. And one account at two
desks: each sees the other's hold as another desk's, named."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from hms_desktop.domain.models import SlotState
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.services.desk_process import Child
from tests.stores import StoreSpec
from tests.ui.conftest import Desk, click_slot, free_slots, show_day, state_of, tomorrow

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency

WITHIN = 1.0


def test_a_window_shows_another_desk_processes_changes_within_a_second(
    qtbot: QtBot, desk: Desk, store: StoreSpec, window_for: Callable[[Desk], MainWindow]
) -> None:
    doctor_id = desk.doctors[0].doctor_id
    day = tomorrow(desk.clinic)
    first, second, third = free_slots(desk, doctor_id, day)[:3]
    window = window_for(desk)
    window.show_view("calendar")
    show_day(qtbot, window.calendar, doctor_id, day)
    child = Child(store)
    shown: dict[str, float] = {}

    def shown_within(name: str, *expected: tuple[int, SlotState]) -> None:
        qtbot.waitUntil(
            lambda: all(state_of(window.calendar, s) is state for s, state in expected),
            timeout=5_000,
        )
        shown[name] = time.time() - child.done_at

    try:
        token = child.do("hold", first, desk.patients[0].id)
        shown_within("hold", (first, SlotState.HELD))
        held = window.calendar.model.data(window.calendar.model.index_of(first))
        assert held == "Held by desk-child"
        appointment_id = child.do("book", first, desk.patients[0].id, token)
        shown_within("book", (first, SlotState.BOOKED))
        child.do("move", appointment_id, second)
        shown_within("move", (first, SlotState.FREE), (second, SlotState.BOOKED))
        child.do("cancel", appointment_id)
        shown_within("cancel", (second, SlotState.FREE))

        # And the other way: this desk's hold reaches the other process.
        start = time.time()
        desk.backend.hold_slot(third, desk.patients[1].id)
        shown["hold heard there"] = child.heard_within("hold", third, start)
    finally:
        child.stop()
    assert max(shown.values()) < WITHIN, shown


def test_one_account_at_two_desks_sees_the_others_hold_as_another_desks(
    qtbot: QtBot,
    desk: Desk,
    open_store: Callable[..., Clinic],
    window_for: Callable[[Desk], MainWindow],
) -> None:
    # The demo's one shared "reception" account, logged in at two PCs.
    front = LocalBackend(open_store(desk_name="Front desk"))
    back = LocalBackend(open_store(desk_name="Back office"))
    for backend in (front, back):
        backend.login(desk.user.username, factories.PASSWORD)
    at_front = Desk(front.clinic, front, desk.user, desk.doctors, [], desk.patients)
    at_back = Desk(back.clinic, back, desk.user, desk.doctors, [], desk.patients)
    doctor_id = desk.doctors[0].doctor_id
    day = tomorrow(desk.clinic)
    slot_id = free_slots(desk, doctor_id, day)[0]
    windows = window_for(at_front), window_for(at_back)
    for window in windows:
        window.show_view("calendar")
        show_day(qtbot, window.calendar, doctor_id, day)
    try:
        front.hold_slot(slot_id, desk.patients[0].id)
        front_view, back_view = (window.calendar for window in windows)
        qtbot.waitUntil(lambda: state_of(back_view, slot_id) is SlotState.HELD, timeout=5_000)
        qtbot.waitUntil(
            lambda: state_of(front_view, slot_id) is SlotState.HELD_BY_ME, timeout=5_000
        )
        text = back_view.model.data(back_view.model.index_of(slot_id))
        # Whose hold it is by the staff member's name, not their log-in.
        assert text == "Held by Robin Desk at Front desk"

        # The back office is not told it holds the slot: it is offered a take-over.
        messages: list[str] = []
        back_view.message.connect(messages.append)
        click_slot(qtbot, back_view, slot_id)
        box = back_view.take_over_box
        assert box is not None and box.isVisible()
        assert "another desk (Front desk)" in box.text()
        assert not any("You are holding" in message for message in messages)
        box.reject()
    finally:
        front.close()
        back.close()
