"""A lost connection: a banner, automatic retries, and nothing typed is lost."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.domain.errors import BackendUnavailable
from hms_desktop.domain.models import RESYNC, ChangeEvent, PatientForm, PatientRecord
from hms_desktop.services import liveness
from hms_desktop.services.clinic import open_clinic
from hms_desktop.ui import tasks as tasks_module
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.patients import PatientFormDialog
from tests.live_server import free_port
from tests.services.test_redis_outage import RedisServer
from tests.stores import StoreSpec
from tests.ui.conftest import Desk, make_desk, settle

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency


class _FlakyNetwork:
    """Makes the next `failures` searches fail as if the server were unreachable."""

    def __init__(self, desk: Desk, failures: int) -> None:
        self.failures = failures
        self._search = desk.backend.search_patients

    def search_patients(self, text: str, limit: int = 50) -> list[PatientRecord]:
        if self.failures > 0:
            self.failures -= 1
            raise BackendUnavailable()
        return self._search(text, limit)


def test_banner_while_the_server_is_away_then_results(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    network = _FlakyNetwork(desk, failures=2)
    desk.backend.search_patients = network.search_patients  # type: ignore[method-assign]
    window = window_for(desk)
    window.tasks.retry_delay_ms = 200
    search = window.patients.search
    qtbot.keyClicks(search.box, "Alice")
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=10_000)
    assert BackendUnavailable.message in window.banner.label.text()
    assert search.box.text() == "Alice"
    qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=10_000)
    assert not window.banner.isVisible() and network.failures == 0
    assert search.box.text() == "Alice"


def test_a_local_desk_shows_a_lost_redis_by_itself_and_its_return(
    qtbot: QtBot, store: StoreSpec, prefs: QSettings
) -> None:
    """On the database there is no event stream to fall silent: the desk's store probe
    says within seconds that Redis is away, and when it is back, with nobody clicking.
    Subscribing while Redis is away does not hold the window up either."""
    redis_server = RedisServer(free_port())
    clinic = open_clinic(
        dataclasses.replace(store, redis_url=redis_server.url).settings(), migrate=False
    )
    redis_server.start()
    desk = make_desk(clinic)  # logged in while Redis answers
    redis_server.kill()
    try:
        started = time.monotonic()
        window = MainWindow(desk.backend, desk.user, clinic.settings.tz, prefs)
        built = time.monotonic() - started
        qtbot.addWidget(window)
        window.show()
        assert built < 1.0, f"the window took {built:.2f} s to open with Redis away"
        # The calendar's first load (slot holds live in Redis) or the probe says so.
        qtbot.waitUntil(window.banner.isVisible, timeout=5_000)

        redis_server.start()
        qtbot.waitUntil(window.banner.isHidden, timeout=10_000)
        settle(qtbot, window.tasks)

        redis_server.kill()
        lost = time.monotonic()
        qtbot.waitUntil(window.banner.isVisible, timeout=5_000)
        took = time.monotonic() - lost
        assert took <= 5.0
        print(f"banner {took:.2f} s after Redis died")  # noqa: T201  # the README's figure
        text = window.banner.label.text()
        assert liveness.REDIS_AWAY in text and "Offline — press F5 to retry." in text
        redis_server.start()
        qtbot.waitUntil(window.banner.isHidden, timeout=10_000)
        window.close()
        settle(qtbot, window.tasks)
    finally:
        redis_server.kill()
        desk.backend.close()
        clinic.close()


def test_the_banner_stops_saying_retrying_once_retries_stop_and_f5_retries(
    qtbot: QtBot,
    desk: Desk,
    window_for: Callable[[Desk], MainWindow],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tasks_module, "MAX_RETRIES", 3)
    network = _FlakyNetwork(desk, failures=3)
    desk.backend.search_patients = network.search_patients  # type: ignore[method-assign]
    window = window_for(desk)
    window.tasks.retry_delay_ms = 100
    search = window.patients.search
    qtbot.keyClicks(search.box, "Alice")
    qtbot.waitUntil(lambda: "Retrying…" in window.banner.label.text(), timeout=10_000)
    # Three tries, then the desk stops: the banner says so, and what F5 does.
    qtbot.waitUntil(
        lambda: "Offline — press F5 to retry." in window.banner.label.text(), timeout=10_000
    )
    assert network.failures == 0 and window.banner.isVisible()
    assert "Retrying…" not in window.banner.label.text()
    qtbot.keyClick(window, Qt.Key.Key_F5)
    qtbot.waitUntil(window.banner.isHidden, timeout=10_000)
    qtbot.waitUntil(lambda: search.model.rowCount() == 1, timeout=10_000)


class _WritesFail:
    """Registering a patient fails as if the server were unreachable (once)."""

    def __init__(self, desk: Desk) -> None:
        self.failures = 1
        self._register = desk.backend.register_patient

    def register_patient(self, form: PatientForm) -> PatientRecord:
        if self.failures > 0:
            self.failures -= 1
            raise BackendUnavailable()
        return self._register(form)


def test_a_failed_save_says_it_is_not_repeated_and_its_error_clears_when_the_server_is_back(
    qtbot: QtBot, desk: Desk, window_for: Callable[[Desk], MainWindow]
) -> None:
    writes = _WritesFail(desk)
    desk.backend.register_patient = writes.register_patient  # type: ignore[method-assign]
    window = window_for(desk)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.patients.findChild(PatientFormDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.full_name, "Nora Offline")
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dialog.form_error.isVisible, timeout=10_000)
    text = dialog.form_error.text()
    assert BackendUnavailable.message in text and tasks_module.NOT_REPEATED in text
    assert "retrying" not in text.lower() and "keeps" not in text
    assert writes.failures == 0 and dialog.isVisible() and dialog.full_name.text() == "Nora Offline"
    # The connection comes back (the live stream says so): the stale error goes.
    window.on_change(ChangeEvent(kind=RESYNC))
    assert dialog.form_error.isHidden() and dialog.form_error.text() == ""
    qtbot.mouseClick(dialog.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=10_000)
    assert [p.full_name for p in desk.backend.search_patients("Nora Off")] == ["Nora Offline"]
