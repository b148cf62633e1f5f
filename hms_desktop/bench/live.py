"""A change on one desk, shown on a second desk in a process of its own: the embedded store's
change events (`bench ui`), and the same through `serve --workers 2` over it (`bench remote`).

The second desk is the real desktop window (offscreen Qt) showing one doctor's day; it prints
the slots' states each time its calendar has loaded. This process makes 50 changes (hold,
book, cancel, in turn) and times each from the start of its call to the moment the other
window shows it. The floor, measured in the same run: the same change followed by a second
desk's calendar reload in this process, with no event to wait for.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from typing import Any

from hms_desktop.bench.common import latency_summary
from hms_desktop.domain.models import SlotState
from hms_desktop.services.backend import Backend

CHANGES = (50, 12)  # full run, quick run
SHOWN_WITHIN_SECONDS = 10.0
TARGET_P99_MS = 1000.0

# The second desk: the real main window on one doctor's day, printing every load's states.
_WATCHER = """
import json, sys, tempfile, threading, time
from datetime import date
from PySide6.QtCore import QSettings
from hms_desktop.app.bootstrap import open_backend
from hms_desktop.config import load_settings
from hms_desktop.ui.app import application
from hms_desktop.ui.main_window import MainWindow
username, password, doctor_id, day = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
app = application()
settings = load_settings()
backend = open_backend(settings)
user = backend.login(username, password)
prefs = QSettings(tempfile.mktemp(suffix=".ini"), QSettings.Format.IniFormat)
window = MainWindow(backend, user, settings.tz, prefs)
window.show()
window.show_view("calendar")
calendar = window.calendar
def shown():
    states = {item.slot.id: item.state.value for item in calendar.model.slots()}
    print(json.dumps({"at": time.time(), "states": states}), flush=True)
calendar.loaded.connect(shown)
calendar.doctor.setCurrentIndex(calendar.doctor.findData(doctor_id))
calendar.set_week(False)
calendar.anchor = date.fromisoformat(day)
calendar.reload()
# Qt's loop runs here; the parent closes stdin to stop the desk.
threading.Thread(target=lambda: (sys.stdin.readline(), app.quit()), daemon=True).start()
app.exec()
window.close()
backend.close()
"""


class _Watcher:
    """The second desk's process, and what it has shown so far."""

    def __init__(self, env: dict[str, str], argv: list[str]) -> None:
        self._states: queue.Queue[tuple[float, dict[str, str]]] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _WATCHER, *argv],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                shown = json.loads(line)
                self._states.put((float(shown["at"]), shown["states"]))

    def shown(self, slot_id: int, state: SlotState) -> float:
        """When the window first showed `slot_id` in `state` (waiting for it)."""
        deadline = time.monotonic() + SHOWN_WITHIN_SECONDS
        while True:
            at, states = self._states.get(timeout=max(0.01, deadline - time.monotonic()))
            if states.get(str(slot_id)) == state.value:
                return at

    def shown_anything(self) -> None:
        """Wait for the window's first calendar (its start-up is not a change)."""
        self._states.put(self._states.get(timeout=60))

    def drain(self) -> None:
        while not self._states.empty():
            self._states.get_nowait()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@contextmanager
def watcher(
    env: dict[str, str], username: str, password: str, doctor_id: int, day: str
) -> Iterator[_Watcher]:
    env = {**env, "QT_QPA_PLATFORM": "offscreen", "HMS_LOG_LEVEL": "WARNING"}
    desk = _Watcher(env, [username, password, str(doctor_id), day])
    try:
        yield desk
    finally:
        desk.close()


def measure(
    acting: Backend,
    reloading: Backend,
    desk: _Watcher,
    doctor_id: int,
    day_start: datetime,
    patient_ids: list[int],
    changes: int,
) -> dict[str, Any]:
    """`changes` changes on `acting` (hold, book, cancel on the doctor's free slots of the
    day), each timed until `desk` shows it; and the floor: the same kind of change and a
    calendar reload on `reloading`."""
    window = (day_start, day_start + timedelta(days=1))
    soon = datetime.now(day_start.tzinfo) + timedelta(hours=1)
    free = [
        item.slot.id
        for item in reloading.calendar([doctor_id], *window)
        if item.state is SlotState.FREE and item.slot.start > soon
    ]
    if len(free) < 2:
        raise RuntimeError("the benchmark's doctor has no free slots left on the day")
    shown: list[float] = []
    floor: list[float] = []
    token, appointment_id = "", 0
    for number in range(changes):
        # Hold, book, cancel, on each slot in turn (a cancelled slot is free again).
        slot_id = free[(number // 3) % (len(free) - 1)]
        patient_id = patient_ids[(number // 3) % len(patient_ids)]
        desk.drain()
        began = time.time()
        if number % 3 == 0:
            token, state = acting.hold_slot(slot_id, patient_id).token, SlotState.HELD
        elif number % 3 == 1:
            appointment_id = acting.confirm_booking(slot_id, patient_id, token).id
            state = SlotState.BOOKED
        else:
            acting.cancel(appointment_id)
            state = SlotState.FREE
        shown.append(desk.shown(slot_id, state) - began)
        # The floor on another slot: a write of the same kind, then a reload, back to back.
        began = time.time()
        hold = acting.hold_slot(free[-1], patient_id)
        reloading.calendar([doctor_id], *window)
        floor.append(time.time() - began)
        acting.release_hold(free[-1], hold.token)
    return {"shown": latency_summary(shown), "floor": latency_summary(floor)}


def environment(**settings: str) -> dict[str, str]:
    """The second desk's environment: this one's, without another clinic's settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
    env.update(settings)
    if "HMS_CONFIG" not in env:  # an empty file: no configuration file of this machine's
        handle, path = tempfile.mkstemp(prefix="hms-bench-", suffix=".toml")
        os.close(handle)
        env["HMS_CONFIG"] = path
    return env


def desk_to_desk(
    open_desk: Callable[[], Backend],
    env: dict[str, str],
    credentials: tuple[str, str],
    tz: tzinfo,
    changes: int,
    patients: str = "a",
) -> dict[str, Any]:
    """Both desks logged in as one account (as the demo's shared `reception` does; its
    holds are still another desk's on the other PC); the second desk in its own process."""
    acting, reloading = open_desk(), open_desk()
    try:
        for backend in (acting, reloading):
            backend.login(*credentials)
        doctor_id = acting.doctors()[0].id
        day = datetime.now(tz).date() + timedelta(days=1)
        day_start = datetime.combine(day, datetime.min.time(), tz)
        patient_ids = [record.id for record in acting.search_patients(patients, limit=5)]
        with watcher(env, *credentials, doctor_id, day.isoformat()) as desk:
            desk.shown_anything()
            return measure(acting, reloading, desk, doctor_id, day_start, patient_ids, changes)
    finally:
        acting.close()
        reloading.close()
