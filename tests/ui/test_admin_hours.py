"""The weekly hours page, clicked through like an administrator: bad windows are marked next
to their row and nothing is saved; a good week saves; booked and held slots survive, and the
bookings left outside the hours are listed."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDateTimeEdit
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, WorkingHours
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.admin.hours import HoursPage
from hms_desktop.ui.admin.hours_rows import WindowRow
from hms_desktop.ui.tasks import Tasks
from tests import factories
from tests.services.support import table_counts
from tests.ui.conftest import settle

MORNINGS = [WorkingHours(day, time(9), time(12), 30) for day in range(5)]


@dataclass
class Admin:
    clinic: Clinic
    backend: LocalBackend
    doctor_id: int
    page: HoursPage


@pytest.fixture
def admin(qtbot: QtBot, clinic: Clinic) -> Iterator[Admin]:
    user, _ = factories.staff(clinic, Role.ADMIN)
    doc = factories.doctor(clinic, hours=MORNINGS, first_name="Ada", last_name="Heart")
    backend = LocalBackend(clinic)
    backend.login(user.username, factories.PASSWORD)
    page = HoursPage(backend, Tasks(), clinic.settings.tz)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.start()
    settle(qtbot, page.tasks)
    yield Admin(clinic, backend, doc.doctor_id, page)
    settle(qtbot, page.tasks)
    backend.close()


def _type_time(qtbot: QtBot, row: WindowRow, field: str, text: str) -> None:
    edit = getattr(row, field)
    edit.setFocus()
    edit.setSelectedSection(QDateTimeEdit.Section.HourSection)  # as a click on the hours does
    qtbot.keyClicks(edit, text)


def _type_minutes(qtbot: QtBot, row: WindowRow, text: str) -> None:
    row.slot_minutes.setFocus()
    row.slot_minutes.selectAll()
    qtbot.keyClicks(row.slot_minutes, text)


def _saved_hours(admin: Admin) -> tuple[WorkingHours, ...]:
    return doctors.doctor_details(admin.clinic, SYSTEM, admin.doctor_id).working_hours


def test_bad_windows_are_marked_and_nothing_is_saved(qtbot: QtBot, admin: Admin) -> None:
    page, editor = admin.page, admin.page.editor
    assert [row.value() for row in editor.rows] == MORNINGS
    assert page.days.rowCount() > 0 and "slots</b> over the next 4 weeks" in page.summary.text()
    before = table_counts(admin.clinic)

    tuesday, wednesday = editor.rows[1], editor.rows[2]
    _type_time(qtbot, tuesday, "end", "0800")  # ends before it starts
    assert tuesday.value().end == time(8, 0)
    _type_minutes(qtbot, wednesday, "0")  # no slot length
    qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
    extra = editor.rows[-1]
    assert extra.value().weekday == 5  # the day after the last window
    extra.weekday.setFocus()
    qtbot.keyClicks(extra.weekday, "M")  # Monday, over Monday's 09:00-12:00
    assert extra.value().weekday == 0
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)

    assert "end after they start" in tuesday.error.text() and tuesday.error.isVisible()
    assert "more than 0 minutes" in wednesday.error.text()
    assert "Overlaps Monday 09:00-12:00" in extra.error.text()
    assert not editor.rows[0].error.isVisible()
    assert "Nothing saved" in page.form_error.text()
    settle(qtbot, page.tasks)
    assert table_counts(admin.clinic) == before and _saved_hours(admin) == tuple(MORNINGS)

    # Fixing each window clears its mark as it is typed; then the week saves.
    qtbot.mouseClick(extra.remove, Qt.MouseButton.LeftButton)
    _type_time(qtbot, tuesday, "end", "1300")
    _type_minutes(qtbot, wednesday, "20")
    assert not tuesday.error.isVisible() and not wednesday.error.isVisible()
    with qtbot.waitSignal(page.saved, timeout=10_000) as saved:
        qtbot.keyClick(page, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert saved.args[0].slots > 0
    assert _saved_hours(admin) == (
        MORNINGS[0],
        WorkingHours(1, time(9), time(13), 30),
        WorkingHours(2, time(9), time(12), 20),
        *MORNINGS[3:],
    )
    assert not page.form_error.isVisible()


def test_a_booked_and_a_held_slot_survive_and_are_listed(
    qtbot: QtBot, admin: Admin, clinic: Clinic
) -> None:
    _, desk = factories.staff(clinic)
    patient, other = factories.patient(clinic).id, factories.patient(clinic).id
    now = clinic.now()
    booked_slot, held_slot = (
        s.id
        for s in doctors.free_slots(
            clinic, SYSTEM, [admin.doctor_id], now, now + timedelta(days=7), limit=2
        )
    )
    hold = scheduling.hold_slot(clinic, desk, booked_slot, patient)
    booked = scheduling.confirm_booking(clinic, desk, booked_slot, patient, token=hold.token)
    scheduling.hold_slot(clinic, desk, held_slot, other)
    page = admin.page
    page.reload()  # the booking is seen (the page also follows live events)
    qtbot.waitUntil(lambda: page.doctor_id() == admin.doctor_id and not page.tasks.busy)
    settle(qtbot, page.tasks)

    # Removing every window: the preview already says the booking would fall outside.
    while page.editor.rows:
        qtbot.mouseClick(page.editor.rows[0].remove, Qt.MouseButton.LeftButton)
    assert page.days.rowCount() == 0 and page.editor.empty.isVisible()
    assert [a.id for a in page.outside.records] == [booked.id]
    assert "would fall outside" in page.outside_title.text()

    with qtbot.waitSignal(page.saved, timeout=10_000) as saved:
        qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    result = saved.args[0]
    assert result.slots == 0 and result.kept_held == 1
    assert [a.id for a in page.outside.records] == [booked.id]
    assert "now outside the hours" in page.outside_title.text()
    assert scheduling.get_appointment(clinic, SYSTEM, booked.id).slot_id == booked_slot
    left = doctors.free_slots(clinic, SYSTEM, [admin.doctor_id], now, now + timedelta(days=30))
    assert left == []  # the held slot is kept for its holder, not offered to anyone else
    assert clinic.locks.get(held_slot) is not None
