"""The waitlist at the desk, with real widgets and keys: a cancelled slot refilled from the
waitlist in two keystrokes (F, Enter); a free slot selected says who waits for it; a patient
put on the waitlist from Patients, shown on the Waitlist page and taken off it (Del)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.models import AppointmentRecord, SlotState
from hms_desktop.domain.waitlist import WaitlistForm, WaitlistPriority, WaitlistStatus
from hms_desktop.ui.calendar import AppointmentDialog, CalendarView
from hms_desktop.ui.calendar.fill import FillDialog
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.waitlist_form import WaitlistDialog
from tests import factories
from tests.ui.conftest import Desk, click_slot, settle, show_day, state_of, tomorrow


def _calendar(qtbot: QtBot, desk: Desk, window: MainWindow) -> CalendarView:
    window.show_view("calendar")
    calendar = window.calendar
    show_day(qtbot, calendar, desk.doctors[0].doctor_id, tomorrow(desk.clinic))
    return calendar


def _slot_at(desk: Desk, hour: int) -> int:
    day = tomorrow(desk.clinic)
    tz = desk.clinic.settings.tz
    start = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
    (item,) = desk.backend.calendar(
        [desk.doctors[0].doctor_id], start, start + timedelta(minutes=1)
    )
    return item.slot.id


def _wait_for(desk: Desk, patient_id: int, **more: object) -> int:
    today = desk.clinic.today()
    form = WaitlistForm(
        patient_id=patient_id,
        first_day=today,
        last_day=today + timedelta(days=7),
        doctor_id=desk.doctors[0].doctor_id,
        **more,  # type: ignore[arg-type]
    )
    return desk.backend.add_to_waitlist(form).id


def _book(desk: Desk, slot_id: int, patient_id: int) -> AppointmentRecord:
    hold = desk.backend.hold_slot(slot_id, patient_id)
    return desk.backend.confirm_booking(slot_id, patient_id, hold.token)


def test_a_cancelled_slot_is_refilled_from_the_waitlist_in_two_keystrokes(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    alice, bob = desk.patients
    carol = factories.patient(desk.clinic, full_name="Carol Danvers")
    _wait_for(desk, bob.id)
    urgent = _wait_for(desk, alice.id, priority=WaitlistPriority.URGENT, preferred_times="mornings")
    _wait_for(desk, factories.patient(desk.clinic).id, preferred_times="afternoons")
    slot_id = _slot_at(desk, 10)
    booked = _book(desk, slot_id, carol.id)
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.BOOKED, timeout=10_000)

    # The desk cancels Carol's appointment, as it always does.
    click_slot(qtbot, calendar, slot_id, double=True)
    dialog = calendar.dialog
    assert isinstance(dialog, AppointmentDialog)
    qtbot.mouseClick(dialog.cancel_appointment_button, Qt.MouseButton.LeftButton)
    box = dialog.confirm_box
    assert box is not None
    qtbot.keyClicks(box.reason, "moved away")
    qtbot.keyClick(box.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert desk.backend.patient_history(carol.id)[0].status is AppointmentStatus.CANCELLED

    # The offer: who waits for the freed slot, best first.
    qtbot.waitUntil(
        lambda: "2 waiting — F to fill" in window.statusBar().currentMessage(), timeout=10_000
    )
    assert "best: Alice Walker, urgent" in window.statusBar().currentMessage()
    settle(qtbot, window.tasks)

    # Keystroke one: F holds the slot for Alice and opens the booking with her chosen.
    calendar.table.setFocus()
    qtbot.keyClick(calendar.table, Qt.Key.Key_F)
    qtbot.waitUntil(lambda: isinstance(calendar.dialog, FillDialog), timeout=10_000)
    fill = calendar.dialog
    assert isinstance(fill, FillDialog)
    qtbot.waitUntil(lambda: fill.isVisible() and fill.confirm.isEnabled(), timeout=10_000)
    assert fill.patient is not None and fill.patient.id == alice.id
    assert "left to confirm" in fill.chosen.text()
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.HELD_BY_ME, timeout=10_000)

    # Keystroke two: Enter books it, and the entry is filled.
    qtbot.keyClick(fill.focusWidget() or fill, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not fill.isVisible(), timeout=10_000)
    record = fill.result_record
    assert record is not None and (record.patient_id, record.slot_id) == (alice.id, slot_id)
    assert record.id != booked.id
    (filled,) = desk.backend.waitlist(WaitlistStatus.FILLED)
    assert (filled.id, filled.appointment_id) == (urgent, record.id)
    qtbot.waitUntil(lambda: state_of(calendar, slot_id) is SlotState.BOOKED, timeout=10_000)
    assert "Booked Alice Walker" in window.statusBar().currentMessage()
    assert [e.patient_id for e in desk.backend.waitlist()][:1] == [bob.id]


def test_a_free_slot_selected_says_who_waits_and_f_on_none_says_so(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    alice, _ = desk.patients
    _wait_for(desk, alice.id, preferred_times="afternoons")
    window = window_for(desk)
    calendar = _calendar(qtbot, desk, window)
    before_afternoon, afternoon = _slot_at(desk, 11), _slot_at(desk, 12)
    assert state_of(calendar, afternoon) is SlotState.FREE

    # The desk walks the grid with the arrows: 11:00, 11:30, then 12:00, the first slot of
    # the afternoons Alice waits for.
    calendar.table.setFocus()
    calendar.table.setCurrentIndex(calendar.model.index_of(before_afternoon))
    qtbot.keyClick(calendar.table, Qt.Key.Key_Down)
    qtbot.keyClick(calendar.table, Qt.Key.Key_Down)
    assert calendar.table.currentIndex() == calendar.model.index_of(afternoon)
    qtbot.waitUntil(
        lambda: "1 waiting — F to fill" in window.statusBar().currentMessage(), timeout=10_000
    )
    # Back up to 11:30 (a morning): nothing to fill there.
    qtbot.keyClick(calendar.table, Qt.Key.Key_Up)
    qtbot.wait(400)  # the look-up waits for the desk to stop on a slot
    settle(qtbot, window.tasks)
    qtbot.keyClick(calendar.table, Qt.Key.Key_F)
    assert window.statusBar().currentMessage() == "No one on the waitlist fits the selected slot."
    assert calendar.dialog is None or not isinstance(calendar.dialog, FillDialog)


def test_a_patient_is_put_on_the_waitlist_and_taken_off_it(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    window = window_for(desk)
    window.show_view("patients")
    patients = window.patients
    qtbot.keyClicks(patients.search.box, "Bob")
    qtbot.waitUntil(lambda: patients.search.model.rowCount() == 1, timeout=10_000)
    qtbot.keyClick(patients.search.box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: patients.waitlist_button.isEnabled(), timeout=10_000)
    qtbot.mouseClick(patients.waitlist_button, Qt.MouseButton.LeftButton)
    dialog = window.waitlist.dialog
    assert isinstance(dialog, WaitlistDialog) and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.wanted.count() >= 4, timeout=10_000)  # 2 doctors, 2 kinds
    dialog.wanted.setCurrentIndex(dialog.wanted.findText("Any Dermatology doctor"))
    dialog.times.setCurrentText("weekday mornings")
    dialog.priority.setCurrentIndex(dialog.priority.findText("High"))
    qtbot.keyClicks(dialog.note, "can come at short notice")
    qtbot.keyClick(dialog.note, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    entry = dialog.result_entry
    assert entry is not None
    assert (entry.patient_name, entry.wanted, entry.preferred_times, entry.priority) == (
        "Bob Marley",
        "any Dermatology doctor",
        "weekday mornings",
        WaitlistPriority.HIGH,
    )
    assert "Bob Marley is on the waitlist" in window.statusBar().currentMessage()

    window.show_view("waitlist")
    page = window.waitlist
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
    assert page.model.data(page.model.index(0, 1)) == "Bob Marley"
    qtbot.keyClicks(page.filter, "nobody")
    assert page.model.rowCount() == 0
    page.filter.clear()
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    box = page.confirm_box
    assert box is not None and box.isVisible()
    qtbot.keyClick(box, Qt.Key.Key_Return)  # the default: keep waiting
    settle(qtbot, window.tasks)
    assert desk.backend.waitlist()[0].id == entry.id
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    box = page.confirm_box
    assert box is not None
    qtbot.mouseClick(
        box.buttons()[0] if box.buttons()[0].text() == "Withdraw" else box.buttons()[1],
        Qt.MouseButton.LeftButton,
    )
    qtbot.waitUntil(lambda: page.model.rowCount() == 0, timeout=10_000)
    assert desk.backend.waitlist() == []
    page.status.setCurrentIndex(page.status.findText("Withdrawn"))
    qtbot.waitUntil(lambda: page.model.rowCount() == 1, timeout=10_000)
