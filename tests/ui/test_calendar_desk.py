"""The calendar as a receptionist works it (issue 13): a readable week of all doctors side
by side, a toolbar that wraps in a small window, a slot another desk took shown at once,
whose hold it is by name, and the patient being booked for as a removable chip."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from hms_desktop.domain.models import SlotState
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.calendar import BookingDialog, CalendarView
from hms_desktop.ui.calendar.grid import MAX_COLUMN, MIN_COLUMN
from hms_desktop.ui.calendar.header import PADDING
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.tasks import Tasks
from tests import factories
from tests.ui.conftest import Desk, click_slot, free_slots, settle, show_day, state_of, tomorrow

LONG_NAMES = (("Olivia", "Smithson-Whitaker"), ("Michael", "Fernandez-Castillo"))


def _a_friday_ahead(desk: Desk) -> date:
    """A Friday a few days ahead: the week opens far from its Monday, every slot future."""
    day = desk.clinic.today() + timedelta(days=2)
    return day + timedelta(days=(4 - day.weekday()) % 7)


def _set_clock(calendar: CalendarView, when: datetime) -> None:
    calendar.clock = calendar.model.clock = lambda: when


@pytest.fixture
def standalone(qtbot: QtBot) -> Iterator[Callable[[Desk], CalendarView]]:
    """A calendar on its own, with no change events coming in: what it shows, it fetched."""
    made: list[tuple[CalendarView, Tasks]] = []

    def _open(desk: Desk) -> CalendarView:
        tasks = Tasks()
        calendar = CalendarView(desk.backend, tasks, desk.clinic.settings.tz)
        calendar.resize(1200, 700)
        calendar.show()
        calendar.start()
        settle(qtbot, tasks)
        made.append((calendar, tasks))
        return calendar

    yield _open
    for calendar, tasks in made:
        if calendar.dialog is not None:
            calendar.dialog.reject()
        settle(qtbot, tasks)
        calendar.close()
        calendar.deleteLater()
    qtbot.wait(10)


def test_a_week_of_all_doctors_side_by_side_is_readable_and_opens_on_today(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    names = [
        factories.doctor(desk.clinic, first_name=first, last_name=last).user
        for first, last in LONG_NAMES
    ]
    window = window_for(desk)
    window.resize(1366, 768)
    window.show_view("calendar")
    calendar = window.calendar
    friday = _a_friday_ahead(desk)
    _set_clock(calendar, datetime.combine(friday, time(15, 10), desk.clinic.settings.tz))
    calendar.doctor.setCurrentIndex(calendar.doctor.findData(None))  # all side by side
    qtbot.mouseClick(calendar.week_button, Qt.MouseButton.LeftButton)
    calendar.go_today()
    settle(qtbot, calendar.tasks)
    qtbot.wait(50)

    # Day / Week say which is shown, one at a time.
    assert calendar.week_button.isChecked() and not calendar.day_button.isChecked()
    assert calendar.view_group.exclusive()
    table = calendar.table
    header = table.calendar_header()
    model = calendar.model
    assert len({c.doctor.id for c in model.columns}) == 4 and model.columnCount() == 28
    # Each day over its doctors: two rows, the doctor's whole name below, in the tooltip too.
    assert header.grouped() and header.height() >= 2 * header.fontMetrics().height()
    full_names = {f"{user.first_name} {user.last_name}" for user in names}
    shown = {header.section_text(i) for i in range(header.count())}
    assert full_names <= shown
    for section in range(header.count()):
        tooltip = model.headerData(section, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
        assert model.columns[section].doctor.full_name in tooltip
        assert header.sectionSize(section) >= MIN_COLUMN
        # A name fits its column whole (up to MAX_COLUMN, past which its end is elided).
        wanted = header.fontMetrics().horizontalAdvance(header.section_text(section))
        assert header.sectionSize(section) >= min(MAX_COLUMN, wanted + 2 * PADDING)
    assert header.day_span(5) == (4, 7)
    # Readable columns scroll sideways; the week opens on today (highlighted) at the left.
    assert table.horizontalScrollBar().maximum() > 0
    assert header.today == friday
    first_today = next(i for i, c in enumerate(model.columns) if c.day == friday)
    assert first_today == 16
    tint = Qt.ItemDataRole.BackgroundRole
    assert model.data(model.index(0, first_today), tint) is not None, "today's column tinted"
    assert model.data(model.index(0, first_today - 1), tint) is None
    left = header.sectionViewportPosition(first_today)
    assert 0 <= left < table.viewport().width() // 2
    # ... and on the hour now: the 15:00 row is in sight.
    row = max(i for i, when in enumerate(model.times) if when <= time(15, 10))
    top = table.rowViewportPosition(row)
    assert 0 <= top < table.viewport().height() - table.rowHeight(row)

    # Scrolled away, "Today" brings today and the hour now back into sight.
    table.horizontalScrollBar().setValue(0)
    table.verticalScrollBar().setValue(0)
    qtbot.mouseClick(calendar.today_button, Qt.MouseButton.LeftButton)
    settle(qtbot, calendar.tasks)
    assert 0 <= header.sectionViewportPosition(first_today) < table.viewport().width() // 2
    assert 0 <= table.rowViewportPosition(row) < table.viewport().height() - table.rowHeight(row)

    qtbot.mouseClick(calendar.day_button, Qt.MouseButton.LeftButton)
    assert calendar.day_button.isChecked() and not calendar.week_button.isChecked()


def _inside(rect: QRect, outer: QRect) -> bool:
    return outer.contains(rect.topLeft()) and outer.contains(rect.bottomRight())


def test_the_toolbar_wraps_rather_than_overlap_in_a_small_window(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    # Text as large as on a 96 dpi screen (offscreen draws it smaller), a long name in
    # the doctor box: what made the Day button cover the Doctor box.
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    font = app.font()
    larger = QFont(font)
    larger.setPixelSize(15)
    app.setFont(larger)
    factories.doctor(desk.clinic, first_name="Maximilian", last_name="Fitzgerald-Montgomery")
    try:
        window = window_for(desk)
        window.show_view("calendar")
        window.resize(1024, 640)
        qtbot.waitUntil(lambda: window.width() == 1024, timeout=5_000)
        settle(qtbot, window.tasks)
        qtbot.wait(50)
        _check_toolbar(window.calendar)
    finally:
        app.setFont(font)


def _check_toolbar(calendar: CalendarView) -> None:
    widgets: list[QWidget] = [
        calendar.speciality,
        calendar.doctor,
        calendar.day_button,
        calendar.week_button,
        calendar.prev_button,
        calendar.today_button,
        calendar.next_button,
    ]
    area = calendar.rect()
    rects = []
    for widget in widgets:
        assert widget.isVisible()
        rect = QRect(widget.mapTo(calendar, widget.rect().topLeft()), widget.size())
        assert _inside(rect, area), f"{widget!r} is cut off at {rect}"
        assert widget.width() >= widget.minimumSizeHint().width()
        rects.append(rect)
    for i, rect in enumerate(rects):
        for j in range(i + 1, len(rects)):
            assert not rect.intersects(rects[j]), f"{widgets[i]!r} overlaps {widgets[j]!r}"
    # The grid starts below the toolbar.
    table_top = calendar.table.mapTo(calendar, calendar.table.rect().topLeft()).y()
    assert all(rect.bottom() < table_top for rect in rects)


def test_a_slot_another_desk_took_shows_at_once_when_the_hold_or_booking_fails(
    qtbot: QtBot, desk: Desk, standalone: Callable[[Desk], CalendarView]
) -> None:
    calendar = standalone(desk)
    doctor_id, day = desk.doctors[0].doctor_id, tomorrow(desk.clinic)
    show_day(qtbot, calendar, doctor_id, day)
    slot_id = free_slots(desk, doctor_id, day)[1]
    other_user, _ = factories.staff(desk.clinic, first_name="Maria", last_name="Lopez")
    other = LocalBackend(desk.clinic)
    other.login(other_user.username, factories.PASSWORD)
    other.hold_slot(slot_id, desk.patients[1].id)
    assert state_of(calendar, slot_id) is SlotState.FREE, "this desk has not heard yet"

    calendar.set_patient(desk.patients[0])
    click_slot(qtbot, calendar, slot_id)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    # The calendar behind shows the slot as it is, and whose hold it is by name.
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.HELD, timeout=5_000)
    text = calendar.model.data(calendar.model.index_of(slot_id))
    assert "Maria Lopez" in text and other_user.username not in text
    dialog.reject()

    # Held here, then taken over and booked at the other desk: confirming fails, and the
    # calendar shows the booking at once.
    mine = free_slots(desk, doctor_id, day)[2]
    click_slot(qtbot, calendar, mine)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog)
    qtbot.waitUntil(lambda: dialog.confirm.isEnabled(), timeout=10_000)
    assert other.take_over_hold(mine)
    taken = other.hold_slot(mine, desk.patients[1].id)
    other.confirm_booking(mine, desk.patients[1].id, taken.token)
    settle(qtbot, calendar.tasks)
    assert state_of(calendar, mine) is not SlotState.BOOKED, "this desk has not heard yet"
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    qtbot.waitUntil(lambda: state_of(calendar, mine) is SlotState.BOOKED, timeout=5_000)
    dialog.reject()
    other.close()


def test_booking_for_a_patient_is_a_chip_cleared_by_its_cross_by_esc_and_by_booking(
    qtbot: QtBot, desk: Desk, standalone: Callable[[Desk], CalendarView]
) -> None:
    calendar = standalone(desk)
    alice = desk.patients[0]
    calendar.set_patient(alice)
    assert calendar.patient_chip.isVisible()
    assert calendar.for_patient.text() == f"Booking for: {alice.full_name}"
    qtbot.mouseClick(calendar.clear_patient_button, Qt.MouseButton.LeftButton)
    assert calendar.patient is None and not calendar.patient_chip.isVisible()

    calendar.set_patient(alice)
    calendar.table.setFocus()
    qtbot.keyClick(calendar.table, Qt.Key.Key_Escape)
    assert calendar.patient is None and not calendar.patient_chip.isVisible()

    # A click on a free slot now asks whom to book, placing no hold for the last patient.
    doctor_id, day = desk.doctors[0].doctor_id, tomorrow(desk.clinic)
    show_day(qtbot, calendar, doctor_id, day)
    first, second = free_slots(desk, doctor_id, day)[:2]
    click_slot(qtbot, calendar, first)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog)
    settle(qtbot, calendar.tasks)
    assert dialog.hold is None and desk.clinic.locks.get(first) is None
    dialog.reject()

    # Booked for the patient: the chip goes, the next click asks again.
    calendar.set_patient(alice)
    click_slot(qtbot, calendar, second)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog)
    qtbot.waitUntil(lambda: dialog.confirm.isEnabled(), timeout=10_000)
    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert calendar.patient is None and not calendar.patient_chip.isVisible()
