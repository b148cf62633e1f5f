"""A remote desk at work, over a real server with the default request limits: finding 20
patients typed at a person's speed and booking 10 appointments through the calendar in
about a minute gets no 429. The server's answers are counted."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.client import RemoteBackend
from hms_desktop.services.clinic import Clinic
from hms_desktop.ui.calendar import BookingDialog
from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.contract.conftest import remote_settings
from tests.live_server import ServerThread
from tests.status_counter import StatusCounter
from tests.ui.conftest import Desk, click_slot, free_slots, settle, show_day, tomorrow

log = logging.getLogger(__name__)

NAMES = [
    "Amara Okafor", "Bjorn Lindqvist", "Chiara Rossi", "Dmitri Volkov", "Esther Mensah",
    "Farid Haddad", "Greta Novak", "Hiroshi Tanaka", "Ingrid Olsen", "Jamal Bakr",
    "Keiko Sato", "Lucia Moreno", "Mateo Silva", "Nadia Petrova", "Oskar Brandt",
    "Priya Nair", "Quentin Dubois", "Rosa Jimenez", "Sven Aalto", "Tariq Aziz",
]  # fmt: skip
# A quick typist: 100 ms a key (a person types 150–300 ms a key; faster is a harder test).
KEY_DELAY_MS = 100
BOOKINGS = 10


@pytest.fixture
def remote_desk(
    desk: Desk, open_store: Callable[..., Clinic], qtbot: QtBot, prefs: QSettings
) -> Iterator[tuple[MainWindow, StatusCounter]]:
    for name in NAMES:
        factories.patient(desk.clinic, full_name=name)
    counter = StatusCounter()
    # The server's settings are the defaults (the fixture's store sets none of the limits).
    server = ServerThread(open_store(), customize=counter.install).start()
    backend = RemoteBackend(remote_settings(server.url))
    user = backend.login(desk.user.username, factories.PASSWORD)
    window = MainWindow(backend, user, desk.clinic.settings.tz, prefs)
    window.show()
    settle(qtbot, window.tasks)
    try:
        yield window, counter
    finally:
        window.close()
        settle(qtbot, window.tasks)
        window.deleteLater()
        qtbot.wait(10)
        backend.close()
        server.stop()


def _find(qtbot: QtBot, window: MainWindow, name: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    search = window.patients.search
    qtbot.keyClicks(search.box, name, delay=KEY_DELAY_MS)
    qtbot.waitUntil(lambda: [r.full_name for r in search.model.records] == [name], timeout=10_000)


def _book(qtbot: QtBot, window: MainWindow, slot_id: int, name: str) -> None:
    calendar = window.calendar
    click_slot(qtbot, calendar, slot_id)
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog) and dialog.isVisible()
    qtbot.keyClicks(dialog.search.box, name.split()[0], delay=KEY_DELAY_MS)
    qtbot.waitUntil(lambda: dialog.search.model.rowCount() == 1, timeout=10_000)
    qtbot.keyClick(dialog.search.box, Qt.Key.Key_Return)
    qtbot.keyClick(dialog.search.table, Qt.Key.Key_Return)  # pick → hold
    qtbot.waitUntil(dialog.confirm.isEnabled, timeout=10_000)
    qtbot.keyClick(dialog.confirm, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert dialog.result_record is not None


def test_a_desk_finding_20_patients_and_booking_10_gets_no_429(
    qtbot: QtBot, desk: Desk, remote_desk: tuple[MainWindow, StatusCounter]
) -> None:
    window, counter = remote_desk
    day = tomorrow(desk.clinic)
    slots = free_slots(desk, desk.doctors[0].doctor_id, day)[:BOOKINGS]
    assert len(slots) == BOOKINGS
    before = counter.total
    started = time.monotonic()
    for name in NAMES:
        _find(qtbot, window, name)
    window.show_view("calendar")
    show_day(qtbot, window.calendar, desk.doctors[0].doctor_id, day)
    for slot_id, name in zip(slots, NAMES, strict=False):
        _book(qtbot, window, slot_id, name)
    settle(qtbot, window.tasks)
    elapsed = time.monotonic() - started
    made = counter.total - before
    log.warning("desk at work: %d requests in %.0f s (%s)", made, elapsed, dict(counter.statuses))
    assert counter.statuses[429] == 0, counter.paths
    assert not [key for key in counter.paths if key[0] >= 500]
    # The point of the budget: a minute's work stays well inside it (600 a minute).
    assert made < 300, counter.paths
