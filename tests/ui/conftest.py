"""Desk fixtures: a clinic with doctors and patients, a logged-in LocalBackend, helpers to
wait for the worker pool and to click a calendar slot like a receptionist would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.models import CalendarSlot, PatientRecord, SlotState, UserInfo
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.ui.calendar import CalendarView
from hms_desktop.ui.login import DEMO_HINT_DONE
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.tasks import Tasks
from tests import factories, stores
from tests.stores import StoreSpec


@dataclass
class Desk:
    clinic: Clinic
    backend: LocalBackend
    user: UserInfo
    doctors: list[factories.DoctorFixture]
    speciality_ids: list[int]
    patients: list[PatientRecord]


def make_desk(clinic: Clinic, *, seed_people: bool = True) -> Desk:
    user, _ = factories.staff(clinic, first_name="Robin", last_name="Desk")
    backend = LocalBackend(clinic)
    backend.login(user.username, factories.PASSWORD)
    desk = Desk(clinic, backend, user, [], [], [])
    if seed_people:
        cardiology = factories.speciality(clinic, "Cardiology")
        dermatology = factories.speciality(clinic, "Dermatology")
        desk.speciality_ids = [cardiology, dermatology]
        desk.doctors = [
            factories.doctor(clinic, specialisation_ids=[cardiology], last_name="Heart", fee=80),
            factories.doctor(clinic, specialisation_ids=[dermatology], last_name="Skin", fee=60),
        ]
        desk.patients = [
            factories.patient(clinic, full_name="Alice Walker", phone="+15550001111"),
            factories.patient(clinic, full_name="Bob Marley", phone="+15550002222"),
        ]
    return desk


# The UI talks to the `Backend`, never to the store: one store is enough for its tests
# (the services' and API's tests run on every store). A test that is about a store says
# so with its own `@pytest.mark.parametrize("store", STORES, indirect=True)`.
UI_STORES = ["sqlite"]


@pytest.fixture(params=UI_STORES)
def store(request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    yield from stores.provide(request, request.param)


@pytest.fixture
def desk(clinic: Clinic) -> Iterator[Desk]:
    made = make_desk(clinic)
    yield made
    made.backend.close()


@pytest.fixture(autouse=True, scope="session")
def _desk_settings_in_a_temp_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Windows made with the default QSettings must not touch the user's own."""
    folder = str(tmp_path_factory.mktemp("qsettings"))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, folder)


@pytest.fixture(autouse=True)
def _demo_hint_not_yet_dismissed() -> None:
    """Each test starts on a workstation that has not used or hidden the demo hint."""
    QSettings().remove(DEMO_HINT_DONE)


@pytest.fixture
def prefs(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)


def settle(qtbot: QtBot, tasks: Tasks, timeout: int = 10_000) -> None:
    """Wait until the worker pool is idle (and stays idle for a moment)."""
    for _ in range(3):
        qtbot.waitUntil(lambda: not tasks.busy, timeout=timeout)
        qtbot.wait(20)


@pytest.fixture
def window_for(qtbot: QtBot, prefs: QSettings) -> Iterator[Callable[[Desk], MainWindow]]:
    opened: list[MainWindow] = []

    def _open(desk: Desk) -> MainWindow:
        window = MainWindow(desk.backend, desk.user, desk.clinic.settings.tz, prefs)
        window.show()
        settle(qtbot, window.tasks)
        opened.append(window)
        return window

    yield _open
    # Closed here rather than by qtbot, so calls still running finish before the backend
    # closes; deleteLater then drops the window with its worker signals.
    for window in opened:
        window.close()
        settle(qtbot, window.tasks)
        window.deleteLater()
    qtbot.wait(10)


def tomorrow(clinic: Clinic) -> date:
    return clinic.today() + timedelta(days=1)


def show_day(qtbot: QtBot, calendar: CalendarView, doctor_id: int, day: date) -> None:
    """Pick the doctor and the day view of `day` through the calendar's own controls."""
    index = calendar.doctor.findData(doctor_id)
    assert index >= 0, "doctor not offered in the calendar"
    calendar.doctor.setCurrentIndex(index)
    qtbot.mouseClick(calendar.day_button, Qt.MouseButton.LeftButton)
    calendar.anchor = day
    calendar.reload()
    settle(qtbot, calendar.tasks)


def cell(calendar: CalendarView, slot_id: int):  # type: ignore[no-untyped-def]
    index = calendar.model.index_of(slot_id)
    assert index.isValid(), "slot not shown"
    return index


def state_of(calendar: CalendarView, slot_id: int) -> SlotState:
    item = calendar.model.slot_at(calendar.model.index_of(slot_id))
    assert isinstance(item, CalendarSlot)
    return item.state


def click_slot(qtbot: QtBot, calendar: CalendarView, slot_id: int, double: bool = False) -> None:
    table = calendar.table
    index = cell(calendar, slot_id)
    table.scrollTo(index)
    point = table.visualRect(index).center()
    if double:
        qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)
    else:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=point)


def free_slots(desk: Desk, doctor_id: int, day: date) -> list[int]:
    tz = desk.clinic.settings.tz
    start = datetime.combine(day, datetime.min.time(), tz)
    slots = desk.backend.calendar([doctor_id], start, start + timedelta(days=1))
    now = datetime.now(UTC)
    return [s.slot.id for s in slots if s.state is SlotState.FREE and s.slot.start > now]
