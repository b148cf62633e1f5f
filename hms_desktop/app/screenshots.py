"""`python main.py --screenshot DIR`: every screen rendered with the demo clinic, offscreen.

Always works on a temporary embedded database, so it never touches real data."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSettings, QTime
from PySide6.QtWidgets import QApplication, QWidget

from hms_desktop.app.admin_doctor_screens import render_doctor_editor
from hms_desktop.app.bootstrap import open_backend
from hms_desktop.config import Settings
from hms_desktop.domain.admin import StaffForm
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SlotState
from hms_desktop.services.backend import Backend
from hms_desktop.ui import app as desk_app
from hms_desktop.ui.admin.hours import HoursPage
from hms_desktop.ui.admin.leave import LeavePage
from hms_desktop.ui.common import local_midnight
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.tasks import Tasks

log = logging.getLogger(__name__)

SCREEN_SIZE = (1366, 768)
OTHER_DESK = ("admin", "admin12345")


def settle(tasks: Tasks, limit_s: float = 15.0) -> None:
    """Let queued backend calls (and the calls their answers start) finish."""
    deadline = time.monotonic() + limit_s
    quiet = 0
    while time.monotonic() < deadline and quiet < 5:
        QApplication.processEvents()
        time.sleep(0.01)
        quiet = 0 if tasks.busy else quiet + 1
    QApplication.processEvents()


def _save(widget: QWidget, directory: Path, name: str) -> None:
    QApplication.processEvents()
    path = directory / f"{name}.png"
    widget.grab().save(str(path))
    log.info("saved %s", path)


def _hold_two_slots(
    desk: Backend, other: Backend, window: MainWindow
) -> list[tuple[Backend, int, str]]:
    """One slot held by this desk and one by another, so the calendar shows both states."""
    doctors = window.calendar.shown_doctors()
    days = window.calendar.days()
    tz = window.tz
    start = local_midnight(days[0], tz)
    slots = desk.calendar([d.id for d in doctors], start, start + timedelta(days=len(days)))
    free = [s for s in slots if s.state is SlotState.FREE]
    patients = desk.search_patients("a", limit=2)
    held: list[tuple[Backend, int, str]] = []
    for backend, slot, patient in zip((desk, other), free[3::2], patients, strict=False):
        hold = backend.hold_slot(slot.slot.id, patient.id)
        held.append((backend, slot.slot.id, hold.token))
    return held


def _busiest_week(backend: Backend, window: MainWindow) -> None:
    """Show the doctor with the most bookings in the coming week, from tomorrow on."""
    doctors = backend.doctors()
    now = datetime.now(UTC)
    slots = backend.calendar([d.id for d in doctors], now, now + timedelta(days=7))
    booked = Counter(s.slot.doctor_id for s in slots if s.state is SlotState.BOOKED)
    busiest = max(doctors, key=lambda d: booked[d.id])
    calendar = window.calendar
    calendar.anchor = (now + timedelta(days=1)).astimezone(window.tz).date()
    calendar.show_doctor(busiest)


def _busiest_doctor_today(backend: Backend, window: MainWindow) -> None:
    today = window.today
    day = today.selected_day()
    counts = [
        len(backend.doctor_day(today.doctor.itemData(i), day)) for i in range(today.doctor.count())
    ]
    if counts:
        today.doctor.setCurrentIndex(counts.index(max(counts)))


def _hours_page(admin: Backend, tz: ZoneInfo, target: Path) -> None:
    """The weekly hours editor (admin) on the busiest doctor, with a lunch break being added
    to Mondays: the preview and the bookings it would leave outside."""
    page = HoursPage(admin, Tasks(), tz, None)
    page.resize(*SCREEN_SIZE)
    page.show()
    page.start()
    settle(page.tasks)
    now = datetime.now(UTC)
    doctors = admin.doctors()
    slots = admin.calendar([d.id for d in doctors], now, now + timedelta(days=7))
    booked = Counter(s.slot.doctor_id for s in slots if s.state is SlotState.BOOKED)
    busiest = max(doctors, key=lambda d: booked[d.id])
    page.doctor.setCurrentIndex(page.doctor.findData(busiest.id))
    settle(page.tasks)
    # A lunch break on the day of the next booking (from that booking's start): the preview
    # then lists it as falling outside the new hours.
    upcoming = sorted(a.start for a in page.outside_candidates() if a.start is not None)
    for moment in (start.astimezone(tz) for start in upcoming):
        rows = page.editor.rows
        inside = [
            row
            for row in rows
            if row.value().weekday == moment.weekday()
            and row.value().start < moment.time() < row.value().end
            and moment.hour < 22
        ]
        if inside:
            window = inside[0].value()
            inside[0].end.setTime(QTime(moment.hour, moment.minute))
            afternoon = page.editor.add_window()
            afternoon.weekday.setCurrentIndex(window.weekday)
            afternoon.start.setTime(QTime(moment.hour + 1, moment.minute))
            afternoon.end.setTime(QTime(window.end.hour, window.end.minute))
            afternoon.slot_minutes.setValue(window.slot_minutes)
            break
    settle(page.tasks)
    _save(page, target, "hours")
    page.close()
    page.deleteLater()


def _leave_page(admin: Backend, settings: Settings, target: Path) -> None:
    """The admin's leave page: the demo doctor on leave next week, their affected bookings."""
    page = LeavePage(admin, Tasks(), settings.tz, None)
    page.start()
    page.resize(*SCREEN_SIZE)
    page.show()
    settle(page.tasks)
    if page.blocks_model.rowCount():
        page.blocks_table.selectRow(0)
        settle(page.tasks)
        page.affected_table.selectRow(0)
    page.reason.setText("Staff training")
    _save(page, target, "leave")
    page.close()


def _admin_screens(admin: Backend, settings: Settings, prefs: QSettings, target: Path) -> None:
    """The admin area as the demo admin sees it: staff accounts, the audit log."""
    user = admin.current_user
    assert user is not None
    # One account made at the desk, so the list shows a password still to be changed.
    admin.create_staff(StaffForm("new.desk", Role.RECEPTIONIST, "Nia", "Okoro"))
    window = MainWindow(admin, user, settings.tz, prefs)
    window.resize(*SCREEN_SIZE)
    window.show()
    settle(window.tasks)
    window.show_view("admin")
    assert window.admin is not None
    page = window.admin.show_page("staff")
    settle(window.tasks)
    page.select_username("new.desk")  # type: ignore[attr-defined]
    _save(window, target, "staff")
    window.admin.show_page("audit")
    settle(window.tasks)
    _save(window, target, "audit")
    window.close()
    settle(window.tasks)


def render_screens(settings: Settings, directory: str) -> int:
    from hms_desktop.services.local import DEMO_RECEPTIONIST

    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="hms-screens-"))
    temp_settings = settings.with_overrides(
        database_url=f"sqlite:///{scratch / 'demo.sqlite3'}", redis_url="", api_url="", mode="local"
    )
    app = desk_app.application()
    backend = open_backend(temp_settings.with_overrides(desk_name="Front desk 1"))
    # The other desk's hold shows as "Held at Front desk 2 by <person>".
    other = open_backend(temp_settings.with_overrides(desk_name="Front desk 2"))
    prefs = QSettings(str(scratch / "desk.ini"), QSettings.Format.IniFormat)
    try:
        login = LoginWindow(backend)
        login.resize(*SCREEN_SIZE)
        login.show()
        settle(login.tasks)
        login.username.setText(DEMO_RECEPTIONIST[0])
        _save(login, target, "login")
        login.hide()

        user = backend.login(*DEMO_RECEPTIONIST)
        other.login(*OTHER_DESK)
        window = MainWindow(backend, user, temp_settings.tz, prefs)
        window.resize(*SCREEN_SIZE)
        window.show()
        settle(window.tasks)

        window.show_view("patients")
        window.patients.search.box.setText("ma")
        settle(window.tasks)
        _save(window, target, "patients")

        dialog = window.patients.new_patient()
        dialog.full_name.setText("Maria Garcia")
        dialog.date_of_birth.setText("1985-03-14")
        dialog.phone.setText("0171 55x 0199")
        dialog.submit()
        settle(window.tasks)
        _save(dialog, target, "register")
        dialog.reject()

        window.show_view("doctors")
        settle(window.tasks)
        _save(window, target, "doctors")

        window.show_view("calendar")
        settle(window.tasks)
        _busiest_week(backend, window)
        settle(window.tasks)
        held = _hold_two_slots(backend, other, window)
        window.calendar.reload()
        settle(window.tasks)
        time.sleep(0.3)  # the holds' own change events redraw the calendar once more
        settle(window.tasks)
        _save(window, target, "calendar")

        window.show_view("today")
        settle(window.tasks)
        _busiest_doctor_today(backend, window)
        settle(window.tasks)
        _save(window, target, "today")

        window.show_view("arrivals")
        settle(window.tasks)
        _save(window, target, "arrivals")

        window.show_view("requests")
        settle(window.tasks)
        _save(window, target, "requests")

        _hours_page(other, temp_settings.tz, target)
        _leave_page(other, temp_settings, target)
        render_doctor_editor(other, temp_settings.tz, target, settle, SCREEN_SIZE)

        for desk, slot_id, token in held:
            desk.release_hold(slot_id, token)
        window.close()
        settle(window.tasks)
        _admin_screens(other, temp_settings, prefs, target)
        app.processEvents()
    finally:
        other.close()
        backend.close()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0
