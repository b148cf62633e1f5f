"""A lost connection: a banner, automatic retries, and nothing typed is lost."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from hms_desktop.domain.errors import BackendUnavailable
from hms_desktop.domain.models import PatientRecord
from hms_desktop.ui.main_window import MainWindow
from tests.ui.conftest import Desk


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
