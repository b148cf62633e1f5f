"""The admin's leave page with real widgets: bad blocks show their error next to the field
and save nothing; a good one lists the bookings it affects, which are moved or cancelled
with a reason by clicking; the desk calendar shows the blocked slots as not bookable."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta

import pytest
from PySide6.QtCore import QDate, Qt, QTime
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus, BlockKind, Role
from hms_desktop.domain.models import AppointmentRecord, ChangeEvent, SlotState
from hms_desktop.services import scheduling
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.admin.leave import LeavePage
from hms_desktop.ui.admin.pages import PAGES
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.tasks import Tasks
from tests import factories
from tests.ui.conftest import Desk, free_slots, settle, show_day, state_of


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


@pytest.fixture
def admin(desk: Desk) -> Iterator[LocalBackend]:
    user, _ = factories.staff(desk.clinic, Role.ADMIN)
    backend = LocalBackend(desk.clinic)
    backend.login(user.username, factories.PASSWORD)
    yield backend
    backend.close()


@pytest.fixture
def page(qtbot: QtBot, desk: Desk, admin: LocalBackend) -> LeavePage:
    made = LeavePage(admin, Tasks(), desk.clinic.settings.tz, None)
    qtbot.addWidget(made)
    made.resize(1024, 640)
    made.show()
    made.start()
    settle(qtbot, made.tasks)
    return made


def _book(desk: Desk, slot_id: int, patient_index: int) -> AppointmentRecord:
    patient = desk.patients[patient_index]
    hold = desk.backend.hold_slot(slot_id, patient.id)
    return desk.backend.confirm_booking(slot_id, patient.id, hold.token)


def _fill(qtbot: QtBot, page: LeavePage, desk: Desk, day: date, reason: str) -> None:
    page.doctor.setCurrentIndex(page.doctor.findData(desk.doctors[0].doctor_id))
    page.first_day.setDate(_qdate(day))
    page.last_day.setDate(_qdate(day))
    page.reason.clear()
    qtbot.keyClicks(page.reason, reason)


def _click(qtbot: QtBot, page: LeavePage, button: object) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)  # type: ignore[arg-type]
    settle(qtbot, page.tasks)


def test_the_page_is_in_the_admin_area() -> None:
    assert ("leave", "Leave and holidays", LeavePage) in PAGES


def test_bad_input_shows_the_error_next_to_the_field_and_saves_nothing(
    qtbot: QtBot, page: LeavePage, desk: Desk, admin: LocalBackend
) -> None:
    day = desk.clinic.today() + timedelta(days=3)
    _fill(qtbot, page, desk, day, "Annual leave")
    page.last_day.setDate(_qdate(day - timedelta(days=1)))
    _click(qtbot, page, page.add_button)
    assert page.errors["days"].isVisible()
    assert "before the first day" in page.errors["days"].text()
    assert page.last_day.hasFocus()

    page.last_day.setDate(_qdate(day))
    page.reason.clear()
    _click(qtbot, page, page.add_button)
    assert not page.errors["days"].isVisible()
    assert page.errors["reason"].isVisible() and "required" in page.errors["reason"].text()

    qtbot.keyClicks(page.reason, "Training")
    qtbot.keyClick(page.whole_days, Qt.Key.Key_Space)  # untick "Whole days"
    assert page.start_time.isEnabled()
    page.start_time.setTime(QTime(12, 0))
    page.end_time.setTime(QTime(9, 0))
    _click(qtbot, page, page.add_button)
    assert page.errors["times"].isVisible() and "end after" in page.errors["times"].text()

    page.kind.setCurrentIndex(page.kind.findData(BlockKind.HOLIDAY))
    page.doctor.setCurrentIndex(page.doctor.findData(desk.doctors[0].doctor_id))
    _click(qtbot, page, page.add_button)
    assert page.errors["doctor"].isVisible()

    assert admin.time_blocks() == [] and page.blocks_model.rowCount() == 0


def test_block_then_move_and_cancel_the_affected_by_clicking(
    qtbot: QtBot,
    page: LeavePage,
    desk: Desk,
    admin: LocalBackend,
    window_for: Callable[[Desk], MainWindow],
) -> None:
    day = desk.clinic.today() + timedelta(days=2)
    doctor = desk.doctors[0].doctor_id
    slots = free_slots(desk, doctor, day)
    first, second = _book(desk, slots[10], 0), _book(desk, slots[11], 1)

    _fill(qtbot, page, desk, day, "Annual leave")
    _click(qtbot, page, page.add_button)
    assert page.blocks_model.rowCount() == 1
    assert [a.appointment.id for a in page.affected_model.records] == [first.id, second.id]
    assert page.reason.text() == ""

    # Every desk's calendar shows the free slots of that day as not bookable.
    window = window_for(desk)
    window.show_view("calendar")
    show_day(qtbot, window.calendar, doctor, day)
    assert state_of(window.calendar, slots[3]) is SlotState.BLOCKED
    model = window.calendar.model
    assert model.text(model.slot_at(model.index_of(slots[3]))) == "Annual leave"

    page.affected_table.selectRow(0)
    _click(qtbot, page, page.move_button)
    assert page.outcome.text().startswith("Moved 1.")
    moved = scheduling.get_appointment(desk.clinic, admin.actor, first.id)
    assert moved.slot_id != first.slot_id and moved.status is AppointmentStatus.RESCHEDULED
    qtbot.waitUntil(lambda: page.affected_model.rowCount() == 1, timeout=10_000)

    page.affected_table.selectRow(0)
    _click(qtbot, page, page.cancel_button)  # no reason yet: refused, nothing cancelled
    assert page.cancel_error.isVisible()
    assert scheduling.get_appointment(desk.clinic, admin.actor, second.id).status is (
        AppointmentStatus.SCHEDULED
    )
    qtbot.keyClicks(page.cancel_reason, "Doctor on leave")
    _click(qtbot, page, page.cancel_button)
    cancelled = scheduling.get_appointment(desk.clinic, admin.actor, second.id)
    assert (cancelled.status, cancelled.decline_reason) == (
        AppointmentStatus.CANCELLED,
        "Doctor on leave",
    )
    qtbot.waitUntil(lambda: page.affected_model.rowCount() == 0, timeout=10_000)

    page.blocks_table.selectRow(0)
    _click(qtbot, page, page.remove_button)
    assert admin.time_blocks() == [] and page.blocks_model.rowCount() == 0


def test_move_all_reports_what_could_not_be_moved(
    qtbot: QtBot, page: LeavePage, desk: Desk, admin: LocalBackend
) -> None:
    day = desk.clinic.today() + timedelta(days=2)
    doctor = desk.doctors[0].doctor_id
    slots = free_slots(desk, doctor, day)
    _book(desk, slots[5], 0)
    _book(desk, slots[6], 1)
    # Everything after the leave is blocked too: nowhere to move them.
    _fill(qtbot, page, desk, day, "Sabbatical")
    page.last_day.setDate(_qdate(day + timedelta(days=120)))
    _click(qtbot, page, page.add_button)
    assert page.affected_model.rowCount() == 2
    _click(qtbot, page, page.move_all_button)
    assert page.outcome.text().startswith("Moved 0.")
    assert "Not moved 2" in page.outcome.text()
    assert page.affected_model.rowCount() == 2


def test_another_desks_change_reaches_the_page_through_its_change_event(
    qtbot: QtBot, page: LeavePage, desk: Desk
) -> None:
    day = desk.clinic.today() + timedelta(days=2)
    slots = free_slots(desk, desk.doctors[0].doctor_id, day)
    booked = _book(desk, slots[7], 0)
    _fill(qtbot, page, desk, day, "Annual leave")
    _click(qtbot, page, page.add_button)
    assert page.affected_model.rowCount() == 1

    heard: list[ChangeEvent] = []
    subscription = desk.backend.subscribe(heard.append)
    try:
        desk.backend.cancel_affected(booked.id, "Doctor on leave")  # the front desk
        qtbot.waitUntil(lambda: any(e.kind == "cancel" for e in heard), timeout=10_000)
    finally:
        subscription.close()
    assert page.affected_model.rowCount() == 1  # not yet told
    for event in heard:
        page.on_change(event)  # as the admin area hands each change to its pages
    settle(qtbot, page.tasks)
    assert page.affected_model.rowCount() == 0
