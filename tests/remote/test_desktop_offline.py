"""The desktop on a RemoteBackend while its server restarts: the offline banner shows, the
typed search survives, and it comes back by itself and reloads what changed meanwhile."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from hms_desktop.client import RemoteBackend
from hms_desktop.services import accounts, scheduling
from hms_desktop.ui.main_window import MainWindow
from tests import factories
from tests.contract.conftest import World

WAIT_MS = 15_000


def test_offline_banner_then_recovery_with_remote_backend(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    assert world.server is not None
    doc = factories.doctor(world.clinic)
    factories.patient(world.clinic, full_name="Alice Walker")
    remote, user = world.desk()
    prefs = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(remote, user, world.clinic.settings.tz, prefs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=WAIT_MS)
    assert window.banner.isHidden() and window.requests.model.records == []

    world.server.stop()
    window.show_view("patients")
    qtbot.keyClicks(window.patients.search.box, "Walk")
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    assert "cannot be reached" in window.banner.label.text()
    # Meanwhile a patient asks for an appointment online (the stores are up, the server not).
    patient = factories.patient(world.clinic, full_name="Bob Online")
    request = scheduling.request_appointment(
        world.clinic, factories.patient_actor(world.clinic, patient), doctor_id=doc.doctor_id
    )

    world.server.start()
    qtbot.waitUntil(window.banner.isHidden, timeout=WAIT_MS)
    assert window.patients.search.box.text() == "Walk"
    qtbot.waitUntil(
        lambda: [p.full_name for p in window.patients.search.model.records] == ["Alice Walker"],
        timeout=WAIT_MS,
    )
    # The event stream reconnected and resynchronised: the request missed while away shows.
    qtbot.waitUntil(
        lambda: [r.id for r in window.requests.model.records] == [request.id], timeout=WAIT_MS
    )
    window.close()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=WAIT_MS)


def test_revoked_session_sends_the_desk_back_to_log_in(
    world: World, qtbot: QtBot, tmp_path: Path
) -> None:
    assert world.server is not None
    remote, user = world.desk()
    assert isinstance(remote, RemoteBackend)
    prefs = QSettings(str(tmp_path / "desk.ini"), QSettings.Format.IniFormat)
    window = MainWindow(remote, user, world.clinic.settings.tz, prefs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=WAIT_MS)

    # IT revokes the session on the server (both tokens): the next reload cannot go on.
    refresh, access = remote.transport._refresh, remote.transport.access_token()
    assert refresh is not None
    accounts.revoke_token(world.server.clinic, refresh)
    accounts.revoke_token(world.server.clinic, access)
    with qtbot.waitSignal(window.logged_out, timeout=WAIT_MS):
        qtbot.keyClick(window, Qt.Key.Key_F5)
    assert window.isHidden() and remote.current_user is None
    qtbot.waitUntil(lambda: not window.tasks.busy, timeout=WAIT_MS)
