"""The request queue: each preferred time with its next date, the Assign dialog opened on the
free slots in the preferred time, and the navigation saying how many requests wait."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import catalogue, scheduling
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.request_picker import PREFERRED_MARK
from tests.ui.conftest import Desk


def _request(desk: Desk, reason: str, available_time_id: int | None = None) -> int:
    return scheduling.request_appointment(
        desk.clinic,
        SYSTEM,
        doctor_id=desk.doctors[1].doctor_id,
        patient_id=desk.patients[0].id,
        symptoms=reason,
        available_time_id=available_time_id,
    ).id


def test_the_preferred_time_shows_its_next_date_and_assign_opens_on_it(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    day = desk.clinic.today() + timedelta(days=2)
    label = f"{day:%a} 10:00-12:00"
    preferred = catalogue.save_available_time(desk.clinic, SYSTEM, label)
    _request(desk, "Rash", preferred.id)
    window = window_for(desk)
    window.show_view("requests")
    requests = window.requests
    qtbot.waitUntil(lambda: requests.model.rowCount() == 1, timeout=10_000)
    shown = requests.model.data(requests.model.index(0, 3))
    assert shown == f"{label} — next: {day:%a} {day.day} {day:%b}"

    qtbot.mouseClick(requests.assign_button, Qt.MouseButton.LeftButton)
    picker = requests.dialog
    assert picker is not None
    qtbot.waitUntil(lambda: picker.ok.isEnabled(), timeout=10_000)
    # Four half-hour slots from 10:00 to 12:00 that day and a week later, marked; the first
    # one chosen.
    assert len(picker.preferred) == 8
    current = picker.list.currentItem()
    assert current.data(Qt.ItemDataRole.UserRole) == picker.preferred[0]
    assert current.text().startswith(f"{day:%a %d %b %Y}, 10:00")
    assert current.text().endswith(PREFERRED_MARK)
    assert not picker.list.item(0).text().endswith(PREFERRED_MARK), "sooner slots come first"
    assert "highlighted" in picker.hint.text()
    picker.reject()


def test_the_requests_entry_counts_the_waiting_requests_live(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    first = _request(desk, "Rash")
    window = window_for(desk)
    entry = window.navigation.item(window.view_names.index("requests"))
    qtbot.waitUntil(lambda: entry.text() == "Requests (1)", timeout=10_000)
    _request(desk, "Itch")  # arrives online: the count follows without a click
    qtbot.waitUntil(lambda: entry.text() == "Requests (2)", timeout=10_000)
    window.show_view("requests")
    assert window.view_title.text() == "Requests (2)"
    desk.backend.decline_request(first, "Doctor away")
    qtbot.waitUntil(lambda: entry.text() == "Requests (1)", timeout=10_000)
    assert window.view_title.text() == "Requests (1)"
    scheduling.decline_request(
        desk.clinic, SYSTEM, desk.backend.pending_requests()[0].id, "Doctor away"
    )
    qtbot.waitUntil(lambda: entry.text() == "Requests", timeout=10_000)
