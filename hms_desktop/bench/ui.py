"""`hms-desktop bench ui`: how the desk feels, measured offscreen on an embedded database.

- start to an interactive log-in window (a fresh process, as a receptionist starts it);
- search keystroke to results over 100,000 patients;
- calendar week switch with 20 doctors side by side, and a week of 8 side by side;
- the longest GUI-thread stall during a full booking flow (a 5 ms QTimer heartbeat).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from hms_desktop.bench import live, ui_week
from hms_desktop.bench.common import Report, Table, Target, latency_summary
from hms_desktop.bench.data import FIRST_NAMES, LAST_NAMES
from hms_desktop.config import Settings
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, SlotState, WorkingHours
from hms_desktop.services import accounts, catalogue, doctors
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import open_clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.store import schema

log = logging.getLogger(__name__)

DESK_USER = ("bench-desk", "bench-desk-password")
SEARCHES = ("smi", "john", "garcia", "pat", "ngu", "+44770", "1980-05-0", "wil", "moha", "lee")
READING_PAUSE_S = 0.5
BOOKED_PATIENTS = ("garcia", "smith", "nguyen", "patel", "kowalski")
WEEK_HOURS = [WorkingHours(day, clock_time(8, 0), clock_time(18, 0), 20) for day in range(7)]

# The child process: the real app start (DeskApp), printing when the log-in window is
# shown and the event loop has come round once (it then takes clicks and keys).
_STARTUP_PROBE = """
import sys, time
from PySide6.QtCore import QTimer
from hms_desktop.config import load_settings
from hms_desktop.app.desktop import desk_app
from hms_desktop.ui.app import application
app = application()
desk = desk_app(load_settings())
def ready(_window):
    QTimer.singleShot(0, lambda: (print("interactive", flush=True), app.quit()))
desk.login_ready.connect(ready)
desk.start()
app.exec()
desk.close()
"""


def _bulk_patients(url: str, count: int) -> None:
    """`count` patients with plausible names, birth dates and phones, straight in SQL."""
    engine = create_engine(url)
    now = "2026-01-01 00:00:00.000000"
    with engine.begin() as connection:
        connection.execute(text("CREATE TEMP TABLE firsts (idx INTEGER PRIMARY KEY, name TEXT)"))
        connection.execute(text("CREATE TEMP TABLE lasts (idx INTEGER PRIMARY KEY, name TEXT)"))
        connection.execute(
            text("INSERT INTO firsts VALUES (:i, :n)"),
            [{"i": i, "n": n} for i, n in enumerate(FIRST_NAMES)],
        )
        connection.execute(
            text("INSERT INTO lasts VALUES (:i, :n)"),
            [{"i": i, "n": n} for i, n in enumerate(LAST_NAMES)],
        )
        connection.execute(
            text(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) "
                "INSERT INTO users (username, email, first_name, last_name, password_hash, role, "
                "is_staff, is_active, date_joined, failed_logins) "
                "SELECT 'bulk-' || i, '', "
                "(SELECT name FROM firsts WHERE idx = (i * 31) % :nf), "
                "(SELECT name FROM lasts WHERE idx = (i * 17 + i / 7) % :nl), "
                "NULL, 'patient', 0, 1, :now, 0 FROM n"
            ),
            {"count": count, "nf": len(FIRST_NAMES), "nl": len(LAST_NAMES), "now": now},
        )
        connection.execute(
            text(
                "INSERT INTO profiles (user_id, bio, address, date_of_birth, gender, created_at, "
                "updated_at) SELECT id, '', '', date('1935-01-01', '+' || ((id * 7919) % 32000) "
                "|| ' days'), CASE id % 2 WHEN 0 THEN 'female' ELSE 'male' END, :now, :now "
                "FROM users WHERE username LIKE 'bulk-%'"
            ),
            {"now": now},
        )
        connection.execute(
            text(
                "INSERT INTO patients (user_id, phone) SELECT id, '+447' || "
                "substr('000000000' || ((id * 387420489) % 1000000000), -9, 9) "
                "FROM users WHERE username LIKE 'bulk-%'"
            )
        )
        connection.execute(text("ANALYZE"))
    engine.dispose()


def _prepare(url: str, patients: int, doctor_count: int) -> tuple[int, int]:
    """Schema, bulk patients, a desk account and `doctor_count` doctors of one speciality,
    the first `SIDE_BY_SIDE_DOCTORS` of them of a second one too."""
    schema.upgrade(url)
    _bulk_patients(url, patients)
    clinic = open_clinic(Settings(database_url=url), migrate=False)
    try:
        accounts.create_user(
            clinic, SYSTEM, username=DESK_USER[0], role=Role.RECEPTIONIST, password=DESK_USER[1]
        )
        speciality, second = (
            catalogue.create_named(clinic, SYSTEM, NamedList.SPECIALISATIONS, name, "").id
            for name in ("Cardiology", "Dermatology")
        )
        for number in range(doctor_count):
            user = accounts.create_user(
                clinic,
                SYSTEM,
                username=f"bench-doctor-{number}",
                role=Role.DOCTOR,
                password=None,
                first_name="Doctor",
                last_name=f"{LAST_NAMES[number]}",
            )
            assert user.doctor_id is not None
            both = number < ui_week.SIDE_BY_SIDE_DOCTORS
            doctors.update_doctor(
                clinic,
                SYSTEM,
                user.doctor_id,
                fee=50,
                specialisation_ids=[speciality, second] if both else [speciality],
            )
            doctors.set_working_hours(clinic, SYSTEM, user.doctor_id, WEEK_HOURS)
        return speciality, second
    finally:
        clinic.close()


def _startup(url: str, runs: int) -> list[float]:
    env = dict(
        os.environ, HMS_DATABASE_URL=url, QT_QPA_PLATFORM="offscreen", HMS_LOG_LEVEL="WARNING"
    )
    env.pop("HMS_API_URL", None)
    env.pop("HMS_REDIS_URL", None)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        with subprocess.Popen(
            [sys.executable, "-c", _STARTUP_PROBE],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        ) as child:
            assert child.stdout is not None
            line = child.stdout.readline()
            elapsed = time.perf_counter() - started
            child.wait(timeout=60)
        if line.strip() != "interactive":
            raise RuntimeError("the desk did not reach its log-in window")
        samples.append(elapsed)
    return samples


def _wait(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Wait in Qt's own event loop (never sleeping on the GUI thread)."""
    from PySide6.QtCore import QEventLoop, QTimer

    if condition():
        return
    loop = QEventLoop()
    poll = QTimer()
    poll.setInterval(1)

    def check() -> None:
        if condition():
            loop.quit()

    poll.timeout.connect(check)
    poll.start()
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    poll.stop()
    if not condition():
        raise TimeoutError("the desk did not answer in time")


def _pause(seconds: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


class _Heartbeat:
    """A 5 ms timer on the GUI thread; the longest gap between its ticks is the worst stall."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.longest = 0.0
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(5)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.longest = max(self.longest, now - self._last)
        self._last = now

    def start(self) -> None:
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.longest


def _book_one(calendar: Any, window: Any, patient: str) -> None:
    """Click a free slot, find the patient, hold (Enter), confirm; wait until it shows."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from hms_desktop.ui.calendar import BookingDialog

    soon = datetime.now(UTC) + timedelta(hours=1)
    free = next(
        s for s in calendar.model.slots() if s.state is SlotState.FREE and s.slot.start > soon
    )
    index = calendar.model.index_of(free.slot.id)
    calendar.table.scrollTo(index)
    QTest.mouseClick(
        calendar.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=calendar.table.visualRect(index).center(),
    )
    dialog = calendar.dialog
    assert isinstance(dialog, BookingDialog)
    QTest.keyClicks(dialog.search.box, patient)
    _wait(lambda: dialog.search.model.rowCount() > 0 and not window.tasks.busy)
    QTest.keyClick(dialog.search.box, Qt.Key.Key_Return)
    QTest.keyClick(dialog.search.table, Qt.Key.Key_Return)
    _wait(lambda: dialog.confirm.isEnabled())
    QTest.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    _wait(lambda: not dialog.isVisible())
    _wait(
        lambda: (
            calendar.model.slot_at(calendar.model.index_of(free.slot.id)).state is SlotState.BOOKED
        )
    )


def _measure_in_gui(
    url: str, speciality_id: int, second_speciality_id: int, quick: bool
) -> dict[str, object]:
    from PySide6.QtCore import QSettings
    from PySide6.QtTest import QTest

    from hms_desktop.app.bootstrap import open_backend
    from hms_desktop.ui.app import application
    from hms_desktop.ui.main_window import MainWindow

    app = application()
    settings = Settings(database_url=url)
    backend = open_backend(settings)
    user = backend.login(*DESK_USER)
    prefs = QSettings(
        str(Path(url.removeprefix("sqlite:///")).with_suffix(".ini")), QSettings.Format.IniFormat
    )
    window = MainWindow(backend, user, settings.tz, prefs)
    window.resize(1366, 768)
    window.show()
    _wait(lambda: not window.tasks.busy)
    try:
        # --- search: the last keystroke of each query to its results on screen ---------------
        search = window.patients.search
        window.show_view("patients")
        keystrokes: list[float] = []
        shown: list[int] = []
        search.results_shown.connect(shown.append)
        for query in SEARCHES[: 4 if quick else len(SEARCHES)]:
            search.box.clear()
            QTest.keyClicks(search.box, query[:-1])
            _wait(lambda: not window.tasks.busy)
            shown.clear()
            started = time.perf_counter()
            QTest.keyClicks(search.box, query[-1])
            _wait(lambda: bool(shown))
            keystrokes.append(time.perf_counter() - started)

        backend_alone: list[float] = []
        for query in SEARCHES[: 4 if quick else len(SEARCHES)]:
            started = time.perf_counter()
            backend.search_patients(query)
            backend_alone.append(time.perf_counter() - started)

        # --- calendar: a week of 20 doctors side by side, next / previous; then of 8 -------
        steps = [1, 1, -1, -1] if quick else [1, 1, 1, -1, -1, -1] * 2
        weeks = ui_week.week_switches(window, speciality_id, steps, _wait, _pause, READING_PAUSE_S)
        side_by_side = ui_week.week_switches(
            window, second_speciality_id, steps, _wait, _pause, READING_PAUSE_S
        )
        calendar = window.calendar

        # --- full booking flows under a heartbeat -----------------------------------------
        # A booking is made in one doctor's week, the view a receptionist books from.
        calendar.speciality.setCurrentIndex(calendar.speciality.findData(speciality_id))
        _wait(lambda: not window.tasks.busy)
        calendar.doctor.setCurrentIndex(1)
        calendar.go_today()
        _wait(lambda: not window.tasks.busy and len(calendar.model.columns) == 7)
        stalls: list[float] = []
        flows: list[float] = []
        for patient in BOOKED_PATIENTS[: 1 if quick else len(BOOKED_PATIENTS)]:
            _pause(READING_PAUSE_S)
            _wait(lambda: not window.tasks.busy)
            heartbeat = _Heartbeat()
            heartbeat.start()
            started = time.perf_counter()
            _book_one(calendar, window, patient)
            flows.append(time.perf_counter() - started)
            stalls.append(heartbeat.stop())
        return {
            "keystrokes": keystrokes,
            "backend_search": backend_alone,
            "switches": weeks.switches,
            "columns": weeks.columns,
            "cells": weeks.cells,
            "side_by_side": side_by_side.switches,
            "side_by_side_columns": side_by_side.columns,
            "stalls": stalls,
            "flows": flows,
        }
    finally:
        window.close()
        with contextlib.suppress(TimeoutError):
            _wait(lambda: not window.tasks.busy)
        window.deleteLater()
        app.processEvents()
        backend.close()


def run(settings: Settings, *, quick: bool = False) -> Report:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    patients = 10_000 if quick else 100_000
    doctor_count = 20
    scratch = Path(tempfile.mkdtemp(prefix="hms-bench-ui-"))
    url = f"sqlite:///{scratch / 'desk.sqlite3'}"
    try:
        started = time.perf_counter()
        specialities = _prepare(url, patients, doctor_count)
        prepare_s = time.perf_counter() - started
        startup = _startup(url, 2 if quick else 5)
        gui = _measure_in_gui(url, *specialities, quick)
        spread = live.desk_to_desk(
            lambda: LocalBackend(open_clinic(Settings(database_url=url)), owns_clinic=True),
            live.environment(HMS_DATABASE_URL=url),
            DESK_USER,
            UTC,
            live.CHANGES[1 if quick else 0],
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    startup_summary = latency_summary(startup)
    search = latency_summary(gui["keystrokes"])  # type: ignore[arg-type]
    weeks = latency_summary(gui["switches"])  # type: ignore[arg-type]
    side_by_side = latency_summary(gui["side_by_side"])  # type: ignore[arg-type]
    backend_search = latency_summary(gui["backend_search"])  # type: ignore[arg-type]
    stalls = latency_summary(gui["stalls"])  # type: ignore[arg-type]
    flows = latency_summary(gui["flows"])  # type: ignore[arg-type]
    rows = [
        [
            "start to interactive log-in window",
            startup_summary["count"],
            startup_summary["p50_ms"],
            startup_summary["max_ms"],
        ],
        [
            f"search keystroke to results ({patients:,} patients)",
            search["count"],
            search["p50_ms"],
            search["max_ms"],
        ],
        [
            "  of which the backend search alone (same queries)",
            backend_search["count"],
            backend_search["p50_ms"],
            backend_search["max_ms"],
        ],
        [
            f"calendar week switch ({doctor_count} doctors, {gui['columns']} columns)",
            weeks["count"],
            weeks["p50_ms"],
            weeks["max_ms"],
        ],
        [
            f"a week of all doctors side by side ({ui_week.SIDE_BY_SIDE_DOCTORS} doctors, "
            f"{gui['side_by_side_columns']} columns), click to painted",
            side_by_side["count"],
            side_by_side["p50_ms"],
            side_by_side["max_ms"],
        ],
        [
            "longest GUI-thread stall per booking flow",
            stalls["count"],
            stalls["p50_ms"],
            stalls["max_ms"],
        ],
        [
            "booking flow, click to booked on screen",
            flows["count"],
            flows["p50_ms"],
            flows["max_ms"],
        ],
        [
            "change on one desk → shown on a second desk process",
            spread["shown"]["count"],
            spread["shown"]["p50_ms"],
            spread["shown"]["max_ms"],
        ],
        [
            "  floor: the same kind of write + a calendar reload, one process",
            spread["floor"]["count"],
            spread["floor"]["p50_ms"],
            spread["floor"]["max_ms"],
        ],
    ]
    return Report(
        name="ui",
        setup=(
            f"offscreen Qt, embedded SQLite in a temporary directory, {patients:,} patients, "
            f"{doctor_count} doctors; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; "
            f"load average {os.getloadavg()[0]:.1f}; data prepared in {prepare_s:.1f} s"
        ),
        quick=quick,
        tables=[Table("desk latency", ["what", "samples", "median ms", "max ms"], rows)],
        figures={
            "startup": startup_summary,
            "search": search,
            "backend_search": backend_search,
            "week_switch": weeks,
            "side_by_side_week": side_by_side,
            "longest_stall": stalls,
            "booking_flow": flows,
            "desk_to_desk": spread["shown"],
            "desk_to_desk_floor": spread["floor"],
            "patients": patients,
            "doctors": doctor_count,
        },
        targets=[
            Target("start to log-in window, median s", startup_summary["p50_ms"] / 1000, 1.5),
            Target("search keystroke to results, max ms", search["max_ms"], 100),
            Target("calendar week switch, max ms", weeks["max_ms"], 150),
            Target(
                f"a week of {ui_week.SIDE_BY_SIDE_DOCTORS} doctors side by side renders, max ms",
                side_by_side["max_ms"],
                ui_week.SIDE_BY_SIDE_TARGET_MS,
            ),
            Target("longest GUI-thread stall in a booking flow, max ms", stalls["max_ms"], 100),
            Target(
                "change on one desk shown on another desk process, p99 ms",
                spread["shown"]["p99_ms"],
                live.TARGET_P99_MS,
            ),
        ],
        notes=[
            "start-up includes the Python interpreter and Qt start in a fresh process",
            "search figures include the worker round trip and the table update",
        ],
    )
