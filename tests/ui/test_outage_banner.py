"""A remote desk whose server loses its database: the desk shows its banner by itself (the
event stream says so, nobody clicks), a search meanwhile says the database is away instead
of showing nothing, and the banner clears once the database is back."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.engine import make_url

from hms_desktop.api import desk_events
from hms_desktop.client import RemoteBackend
from hms_desktop.services.clinic import open_clinic
from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.contract.conftest import remote_settings
from tests.live_server import ServerThread
from tests.stores import StoreSpec
from tests.tcp_proxy import TcpProxy
from tests.ui.conftest import Desk, settle


@pytest.fixture
def desk_behind_proxy(
    store: StoreSpec, desk: Desk, qtbot: QtBot, prefs: QSettings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[MainWindow, TcpProxy]]:
    monkeypatch.setattr(desk_events, "HEARTBEAT_SECONDS", 0.5)
    monkeypatch.setattr(desk_events, "OUTAGE_PROBE_SECONDS", 0.5)
    url = make_url(store.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    behind = store.settings().model_copy(
        update={"database_url": url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)}
    )
    server = ServerThread(open_clinic(behind, migrate=False)).start()
    backend = RemoteBackend(remote_settings(server.url), retries=0)
    user = backend.login(desk.user.username, factories.PASSWORD)
    window = MainWindow(backend, user, desk.clinic.settings.tz, prefs)
    window.show()
    settle(qtbot, window.tasks)
    try:
        yield window, proxy
    finally:
        proxy.restore()
        window.close()
        settle(qtbot, window.tasks)
        window.deleteLater()
        qtbot.wait(10)
        backend.close()
        server.stop()
        server.clinic.close()
        proxy.close()


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_the_database_away_shows_the_banner_unasked_and_clears_it(
    qtbot: QtBot, desk_behind_proxy: tuple[MainWindow, TcpProxy]
) -> None:
    window, proxy = desk_behind_proxy
    window.tasks.retry_delay_ms = 300
    assert window.banner.isHidden()
    proxy.cut()
    qtbot.waitUntil(window.banner.isVisible, timeout=5_000)  # nobody clicked
    assert "database" in window.banner.label.text()

    # A search meanwhile: its 503 keeps the banner and says why, not "no patient matches".
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(window.patients.search.box, "Alice")
    qtbot.wait(1_000)
    assert window.banner.isVisible()
    assert "No patient matches" not in window.patients.search.empty.text()

    proxy.restore()
    qtbot.waitUntil(window.banner.isHidden, timeout=10_000)
    # The search retried by itself and found her.
    qtbot.waitUntil(
        lambda: [r.full_name for r in window.patients.search.model.records] == ["Alice Walker"],
        timeout=10_000,
    )
