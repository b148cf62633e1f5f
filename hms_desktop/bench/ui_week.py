"""`hms-desktop bench ui`'s calendar weeks: a speciality's doctors side by side for a week,
from the click on next / previous to the grid and its header painted. Run for the 20
doctors of the bench clinic, and for a speciality of `SIDE_BY_SIDE_DOCTORS` (the week a
receptionist reads: each day over its doctors, names whole)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# The doctors of the second speciality, shown side by side for a week.
SIDE_BY_SIDE_DOCTORS = 8
SIDE_BY_SIDE_TARGET_MS = 150


@dataclass
class Weeks:
    switches: list[float]  # seconds per switch
    columns: int
    cells: int


def week_switches(
    window: Any,
    speciality_id: int,
    steps: list[int],
    wait: Callable[..., None],
    pause: Callable[[float], None],
    reading_pause_s: float,
) -> Weeks:
    """Show `speciality_id`'s doctors side by side for a week, then step through weeks
    (+1 next, -1 previous), each from an idle desk; the time of each step to painted."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    window.show_view("calendar")
    calendar = window.calendar
    calendar.speciality.setCurrentIndex(calendar.speciality.findData(speciality_id))
    wait(lambda: not window.tasks.busy)
    calendar.doctor.setCurrentIndex(calendar.doctor.findData(None))  # all side by side
    calendar.set_week(True)
    wait(lambda: not window.tasks.busy and len(calendar.model.columns) > 7)
    loaded: list[int] = []

    def shown() -> None:
        loaded.append(1)

    calendar.loaded.connect(shown)
    switches: list[float] = []
    for step in steps:
        # A receptionist reads a week before moving on: start from an idle desk.
        pause(reading_pause_s)
        wait(lambda: not window.tasks.busy)
        loaded.clear()
        started = time.perf_counter()
        QTest.mouseClick(
            calendar.next_button if step > 0 else calendar.prev_button,
            Qt.MouseButton.LeftButton,
        )
        wait(lambda: bool(loaded))
        calendar.table.horizontalHeader().viewport().repaint()
        calendar.table.viewport().repaint()
        switches.append(time.perf_counter() - started)
    calendar.loaded.disconnect(shown)
    return Weeks(switches, len(calendar.model.columns), len(calendar.model.slots()))
