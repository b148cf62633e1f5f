"""An honest connection state: an idle remote desk learns within seconds that its server
was killed and that it is back; the calendar's heading always names the days its grid
shows; subscribing and unsubscribing never hold the GUI thread up; the log-in form says
"Connecting…" until the server answered, and what it found."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from pytestqt.qtbot import QtBot

from hms_desktop.client import RemoteBackend
from hms_desktop.domain.errors import BackendUnavailable
from hms_desktop.services.clinic import Clinic
from hms_desktop.ui.calendar.cache import range_words
from hms_desktop.ui.calendar.view import CalendarView
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.contract.conftest import World, remote_settings
from tests.live_server import free_port
from tests.remote.serving import start_serve
from tests.stores import StoreSpec
from tests.ui.conftest import settle

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency

WAIT_MS = 15_000
OFFLINE_WITHIN_S = 5.0


def heading_matches_grid(calendar: CalendarView) -> bool:
    days = sorted({column.day for column in calendar.model.columns})
    return not days or calendar.range_label.text() == range_words(days[0], len(days))


class _Watch:
    """Samples, every 20 ms on the GUI thread, whether the heading names the grid's days."""

    def __init__(self, calendar: CalendarView) -> None:
        self.calendar = calendar
        self.samples = 0
        self.disagreements: list[str] = []
        self.timer = QTimer(calendar)  # goes with the calendar
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._sample)
        self.timer.start()

    def _sample(self) -> None:
        self.samples += 1
        if not heading_matches_grid(self.calendar):
            self.disagreements.append(self.calendar.range_label.text())


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_an_idle_remote_desk_shows_a_killed_server_within_seconds_and_its_return(
    store: StoreSpec, open_store: Callable[..., Clinic], qtbot: QtBot, tmp_path: Path
) -> None:
    clinic = open_store()
    user, _ = factories.staff(clinic)
    factories.doctor(clinic)  # one doctor: the calendar shows their week
    port = free_port()
    process = start_serve(store, tmp_path, port)
    remote = RemoteBackend(remote_settings(f"http://127.0.0.1:{port}"), backoff=0.05)
    try:
        desk_user = remote.login(user.username, factories.PASSWORD)
        prefs = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
        window = MainWindow(remote, desk_user, clinic.settings.tz, prefs)
        qtbot.addWidget(window)
        window.show()
        window.show_view("calendar")
        calendar = window.calendar
        qtbot.waitUntil(lambda: bool(calendar.model.columns), timeout=WAIT_MS)
        assert window.listening is not None and window.listening.opened.wait(10)
        qtbot.waitUntil(lambda: all(s.connected for s in remote._streams), timeout=WAIT_MS)
        settle(qtbot, window.tasks)
        shown = calendar.range_label.text()
        watch = _Watch(calendar)

        # The server dies; nobody touches the desk.
        process.kill()
        process.wait(timeout=10)
        killed = time.monotonic()
        qtbot.waitUntil(window.banner.isVisible, timeout=int(OFFLINE_WITHIN_S * 1000) + 500)
        took = time.monotonic() - killed
        assert took <= OFFLINE_WITHIN_S, f"the banner took {took:.1f} s"
        text = window.banner.label.text()
        assert BackendUnavailable.message in text and "Offline — press F5 to retry." in text

        # Meanwhile the desk moves on two weeks (the next one was fetched ahead): the grid
        # and its heading keep the last days they could show, greyed, and say which are
        # coming.
        qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: calendar.range_label.text() != shown, timeout=WAIT_MS)
        shown = calendar.range_label.text()
        qtbot.keyClick(window, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(calendar.loading_label.isVisible, timeout=WAIT_MS)
        assert calendar.range_label.text() == shown and not calendar.table.isEnabled()
        wanted = calendar.days()
        assert range_words(wanted[0], len(wanted)) in calendar.loading_label.text()
        qtbot.waitUntil(lambda: "Retrying…" in window.banner.label.text(), timeout=WAIT_MS)

        process = start_serve(store, tmp_path, port)
        qtbot.waitUntil(window.banner.isHidden, timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: calendar.range_label.text() == range_words(wanted[0], len(wanted)),
            timeout=WAIT_MS,
        )
        assert calendar.table.isEnabled() and calendar.loading_label.isHidden()
        watch.timer.stop()
        assert watch.samples > 10 and watch.disagreements == []
        print(f"banner shown {took:.2f} s after the server was killed")  # noqa: T201
        window.close()
        settle(qtbot, window.tasks)
    finally:
        remote.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_subscribing_and_closing_never_wait_on_the_gui_thread_for_a_dead_server(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    assert world.server is not None
    remote, user = world.desk()
    world.server.stop()
    prefs = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    started = time.monotonic()
    window = MainWindow(remote, user, world.clinic.settings.tz, prefs)
    built = time.monotonic() - started
    qtbot.addWidget(window)
    window.show()
    # Subscribing alone used to wait up to 5 s here for a stream that cannot connect.
    assert built < 1.0, f"the window took {built:.2f} s to open"
    qtbot.waitUntil(window.banner.isVisible, timeout=int(OFFLINE_WITHIN_S * 1000))
    assert window.listening is not None
    listening = window.listening
    assert listening.opened.wait(10)
    started = time.monotonic()
    window.close()
    closed = time.monotonic() - started
    assert closed < 0.5, f"closing took {closed:.2f} s"
    print(f"window opened in {built:.3f} s and closed in {closed:.3f} s")  # noqa: T201
    settle(qtbot, window.tasks)  # nothing is retried for a closed window


class _WebPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html><body>Welcome to nginx!</body></html>"
        self.send_response(404 if self.path.startswith("/api") else 200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _login_status(qtbot: QtBot, url: str) -> tuple[str, LoginWindow, RemoteBackend]:
    backend = RemoteBackend(remote_settings(url), backoff=0.05)
    login = LoginWindow(backend)
    qtbot.addWidget(login)
    login.show()
    return login.status.text(), login, backend


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_the_log_in_form_says_connecting_until_the_server_answered(
    world: World, qtbot: QtBot
) -> None:
    assert world.server is not None
    # A real clinic server: "Connecting…" first, "Connected" once it answered.
    first, login, backend = _login_status(qtbot, world.server.url)
    assert first.startswith("Connecting…") and "Connected" not in first
    qtbot.waitUntil(lambda: login.status.text().startswith("Connected: Remote"), timeout=WAIT_MS)
    assert login.connected
    login.hide()
    backend.close()

    # A port nobody listens on: never "Connected".
    dead = f"http://127.0.0.1:{free_port()}"
    first, login, backend = _login_status(qtbot, dead)
    assert first.startswith("Connecting…")
    qtbot.waitUntil(lambda: login.status.text().startswith("Not connected"), timeout=WAIT_MS)
    assert dead in login.status.text() and not login.connected
    assert login.message.text() == BackendUnavailable.message
    login.hide()  # it would ask again every few seconds
    backend.close()

    # Some other web server: named as not being a clinic server.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        first, login, backend = _login_status(qtbot, url)
        assert first.startswith("Connecting…")
        qtbot.waitUntil(lambda: login.status.text().startswith("Not connected"), timeout=WAIT_MS)
        assert f"{url} answers, but it is not an hms-desktop clinic server" in login.message.text()
        login.hide()
        backend.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
