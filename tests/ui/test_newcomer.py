"""The whole path as a newcomer: a fresh embedded clinic with no demo data and an admin made
with `hms-desktop create-user`; then, only through the desktop's widgets, two specialities,
a doctor with weekly hours and a receptionist account; the receptionist logs in (replacing
the temporary password) and books a patient into one of the new doctor's slots."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDateTimeEdit
from pytestqt.qtbot import QtBot

from hms_desktop.app.bootstrap import open_backend
from hms_desktop.config import Settings
from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.models import SlotState, UserInfo
from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.catalogue import CataloguePage
from hms_desktop.ui.admin.doctors import DoctorsPage
from hms_desktop.ui.admin.hours import HoursPage
from hms_desktop.ui.admin.staff import StaffPage
from hms_desktop.ui.calendar import BookingDialog
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.patient_form import PatientFormDialog
from tests.ui.conftest import click_slot, settle, show_day, state_of

LEFT = Qt.MouseButton.LeftButton
ADMIN_PASSWORD = "first-admin-password"
TZ = Settings().tz


def _hms(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "hms_desktop", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _log_in(qtbot: QtBot, backend: Backend, username: str, password: str) -> LoginWindow:
    login = LoginWindow(backend)
    qtbot.addWidget(login)
    login.show()
    settle(qtbot, login.tasks)
    qtbot.keyClicks(login.username, username)
    qtbot.keyClicks(login.password, password)
    return login


def _window(qtbot: QtBot, backend: Backend, user: UserInfo, prefs: QSettings) -> MainWindow:
    window = MainWindow(backend, user, TZ, prefs)
    window.show()
    settle(qtbot, window.tasks)
    return window


def _close(qtbot: QtBot, window: MainWindow) -> None:
    window.close()
    settle(qtbot, window.tasks)
    window.deleteLater()


def _add_specialities(qtbot: QtBot, page: CataloguePage, names: list[str]) -> None:
    assert page.model.rowCount() == 0  # nothing but what the admin types
    for name in names:
        page.name.clear()
        qtbot.keyClicks(page.name, name)
        qtbot.keyClick(page.name, Qt.Key.Key_Return)
        settle(qtbot, page.tasks)
    assert sorted(e.name for e in page.model.records) == sorted(names)


def _add_doctor(qtbot: QtBot, page: DoctorsPage, speciality: str) -> int:
    qtbot.mouseClick(page.add_button, LEFT)
    editor = page.editor
    assert editor is not None
    settle(qtbot, page.tasks)
    qtbot.keyClicks(editor.first_name, "Nadia")
    qtbot.keyClicks(editor.last_name, "Rahman")
    qtbot.keyClicks(editor.fee, "60")
    ticked = [
        i
        for i in range(editor.specialisations.count())
        if editor.specialisations.item(i).text() == speciality
    ]
    assert ticked, "the new speciality is offered in the editor"
    editor.specialisations.item(ticked[0]).setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(editor.save, LEFT)
    settle(qtbot, page.tasks)
    assert not editor.isVisible()
    saved = editor.result_record
    assert saved is not None and saved.full_name == "Nadia Rahman"
    return saved.id


def _type_time(qtbot: QtBot, edit: QDateTimeEdit, text: str) -> None:
    edit.setFocus()
    edit.setSelectedSection(QDateTimeEdit.Section.HourSection)
    qtbot.keyClicks(edit, text)


def _set_week(qtbot: QtBot, page: HoursPage, doctor_id: int) -> int:
    page.doctor.setCurrentIndex(page.doctor.findData(doctor_id))
    settle(qtbot, page.tasks)
    assert page.editor.rows == []  # a new doctor works no hours yet
    qtbot.mouseClick(page.add_button, LEFT)  # Monday
    _type_time(qtbot, page.editor.rows[0].end, "2000")
    for _ in range(6):  # each new window: the next day, at the same times
        qtbot.mouseClick(page.add_button, LEFT)
    assert [row.value().weekday for row in page.editor.rows] == list(range(7))
    assert all(row.value().end == time(20) for row in page.editor.rows)
    with qtbot.waitSignal(page.saved, timeout=20_000) as saved:
        qtbot.mouseClick(page.save_button, LEFT)
    return int(saved.args[0].slots)


def _add_receptionist(qtbot: QtBot, page: StaffPage) -> str:
    qtbot.mouseClick(page.new_button, LEFT)
    dialog = page.form_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.username, "robin")
    qtbot.keyClicks(dialog.first_name, "Robin")
    dialog.role.setCurrentIndex(dialog.role.findData(Role.RECEPTIONIST))
    qtbot.mouseClick(dialog.save, LEFT)
    settle(qtbot, page.tasks)
    shown = page.shown_password
    assert shown is not None and shown.isVisible()
    password = shown.password.text()
    qtbot.mouseClick(shown.close_button, LEFT)
    return password


def _register_patient(qtbot: QtBot, window: MainWindow) -> None:
    window.show_view("patients")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.patients.findChild(PatientFormDialog)
    assert dialog is not None and dialog.isVisible()
    for field, text in {"full_name": "Carla Jimenez", "phone": "+44 20 7946 0123"}.items():
        qtbot.keyClicks(getattr(dialog, field), text)
    qtbot.mouseClick(dialog.save, LEFT)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)


def test_a_new_clinic_is_set_up_and_books_from_the_desktop_alone(
    qtbot: QtBot, tmp_path: Path, prefs: QSettings
) -> None:
    database = tmp_path / "clinic.sqlite3"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("HMS_")},
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "HMS_DATABASE_URL": f"sqlite:///{database}",
    }
    _hms(env, "db", "upgrade")
    _hms(
        env,
        "create-user",
        "--username", "boss",
        "--role", "admin",
        "--first-name", "Ada",
        "--password-stdin",
        stdin=ADMIN_PASSWORD + "\n",
    )  # fmt: skip

    backend = open_backend(Settings(database_url=f"sqlite:///{database}"))
    try:
        # The admin: no demo clinic was loaded beside the account create-user made.
        login = _log_in(qtbot, backend, "boss", ADMIN_PASSWORD)
        with qtbot.waitSignal(login.logged_in, timeout=20_000) as logged:
            qtbot.keyClick(login.password, Qt.Key.Key_Return)
        admin_user = logged.args[1]
        login.close()
        assert backend.doctors() == [] and backend.search_patients("a") == []
        window = _window(qtbot, backend, admin_user, prefs)
        window.show_view("admin")
        assert window.admin is not None
        catalogue = window.admin.show_page("catalogue")
        settle(qtbot, window.tasks)
        assert isinstance(catalogue, CataloguePage)
        _add_specialities(qtbot, catalogue, ["Cardiology", "Dermatology"])
        doctors_page = window.admin.show_page("doctors")
        settle(qtbot, window.tasks)
        assert isinstance(doctors_page, DoctorsPage)
        doctor_id = _add_doctor(qtbot, doctors_page, "Cardiology")
        hours_page = window.admin.show_page("hours")
        settle(qtbot, window.tasks)
        assert isinstance(hours_page, HoursPage)
        assert _set_week(qtbot, hours_page, doctor_id) > 0
        staff_page = window.admin.show_page("staff")
        settle(qtbot, window.tasks)
        assert isinstance(staff_page, StaffPage)
        temporary = _add_receptionist(qtbot, staff_page)
        _close(qtbot, window)
        backend.logout()

        # The receptionist: a new password first, then the desk; no admin area.
        login = _log_in(qtbot, backend, "robin", temporary)
        opened: list[UserInfo] = []
        login.logged_in.connect(lambda _backend, user: opened.append(user))
        qtbot.keyClick(login.password, Qt.Key.Key_Return)
        settle(qtbot, login.tasks)
        dialog = login.password_dialog
        assert dialog is not None and dialog.isVisible() and not opened
        qtbot.keyClicks(dialog.new_password, "robin-at-the-desk")
        qtbot.keyClicks(dialog.repeat_password, "robin-at-the-desk")
        qtbot.keyClick(dialog.repeat_password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
        login.close()
        assert opened[0].role is Role.RECEPTIONIST
        window = _window(qtbot, backend, opened[0], prefs)
        assert window.admin is None
        _register_patient(qtbot, window)

        window.show_view("calendar")
        calendar = window.calendar
        day = datetime.now(TZ).date() + timedelta(days=1)
        show_day(qtbot, calendar, doctor_id, day)
        start = datetime.combine(day, time(), TZ)
        free = [
            s.slot.id
            for s in backend.calendar([doctor_id], start, start + timedelta(days=1))
            if s.state is SlotState.FREE and s.slot.start > datetime.now(UTC)
        ]
        assert free, "the new doctor's hours made slots for tomorrow"
        click_slot(qtbot, calendar, free[0])
        booking = calendar.dialog
        assert isinstance(booking, BookingDialog) and booking.isVisible()
        qtbot.keyClicks(booking.search.box, "Carla")
        qtbot.waitUntil(lambda: booking.search.model.rowCount() == 1, timeout=10_000)
        qtbot.keyClick(booking.search.box, Qt.Key.Key_Return)
        qtbot.keyClick(booking.search.table, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: booking.confirm.isEnabled(), timeout=10_000)
        qtbot.keyClick(booking.confirm, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: not booking.isVisible(), timeout=10_000)
        qtbot.waitUntil(lambda: state_of(calendar, free[0]) is SlotState.BOOKED, timeout=10_000)
        day_list = backend.doctor_day(doctor_id, day)
        assert [(a.slot_id, a.patient_name, a.status) for a in day_list] == [
            (free[0], "Carla Jimenez", AppointmentStatus.SCHEDULED)
        ]
        _close(qtbot, window)
    finally:
        backend.close()
