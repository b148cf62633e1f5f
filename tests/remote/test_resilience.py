"""A remote desk through a server restart, token expiry and revocation, and a version
mismatch."""

from __future__ import annotations

import json
import queue
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import hms_desktop
from hms_desktop.client import IncompatibleServer, RemoteBackend
from hms_desktop.domain.errors import BackendUnavailable, TokenInvalid
from hms_desktop.domain.models import SYSTEM, ChangeEvent
from hms_desktop.services import accounts, doctors
from tests import factories
from tests.contract.conftest import World, remote_settings

WAIT = 10.0


def _next_kind(events: queue.Queue[ChangeEvent], kind: str) -> ChangeEvent:
    while True:
        event = events.get(timeout=WAIT)
        if event.kind == kind:
            return event


def test_server_restart_offline_then_back_by_itself(world: World) -> None:
    assert world.server is not None
    remote, _ = world.desk()
    assert isinstance(remote, RemoteBackend)
    doc = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    now = world.clinic.now()
    first, second = (
        s.id
        for s in doctors.free_slots(
            world.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=2
        )
    )
    booked = remote.confirm_booking(first, patient.id, remote.hold_slot(first, patient.id).token)
    events: queue.Queue[ChangeEvent] = queue.Queue()
    subscription = remote.subscribe(events.put)
    assert remote.online

    world.server.stop()
    with pytest.raises(BackendUnavailable, match="cannot be reached"):
        remote.patient_history(patient.id)
    with pytest.raises(BackendUnavailable):
        remote.hold_slot(second, patient.id)
    assert not remote.online
    assert remote.current_user is not None  # still logged in: offline is not logged out

    world.server.start()
    assert _next_kind(events, "resync").kind == "resync"
    assert remote.patient_history(patient.id) == [booked]
    assert remote.online
    hold = remote.hold_slot(second, patient.id)
    heard = _next_kind(events, "hold")
    assert heard.slot_id == second
    remote.confirm_booking(second, patient.id, hold.token)
    assert {a.slot_id for a in remote.patient_history(patient.id)} == {first, second}
    subscription.close()


def test_expired_access_token_is_refreshed_and_revoked_refresh_logs_out(world: World) -> None:
    assert world.server is not None
    server_clinic = world.server.clinic
    lifetime = timedelta(minutes=server_clinic.settings.access_token_minutes + 1)
    offset = -lifetime  # the tokens of this log-in were issued long enough ago to expire
    server_clinic.clock = lambda: datetime.now(UTC) + offset
    remote, user = world.desk()
    assert isinstance(remote, RemoteBackend)
    expired = remote.transport._access
    assert expired is not None
    with pytest.raises(TokenInvalid):
        accounts.verify_token(server_clinic, expired)

    offset = timedelta(0)
    assert remote.pending_requests() == []  # refreshed before the request, unnoticed
    renewed = remote.transport.access_token()
    assert renewed != expired and accounts.verify_token(server_clinic, renewed).user_id == user.id

    # The server refuses a token the desk still believes valid: one refresh, then the answer.
    accounts.revoke_token(server_clinic, renewed, ("access",), whole_login=False)
    assert remote.pending_requests() == []
    assert remote.transport.access_token() != renewed

    refresh = remote.transport._refresh
    assert refresh is not None
    accounts.revoke_token(server_clinic, refresh)
    accounts.revoke_token(
        server_clinic, remote.transport.access_token(), ("access",), whole_login=False
    )
    with pytest.raises(TokenInvalid, match="^Token is invalid or expired$"):
        remote.pending_requests()
    assert remote.current_user is None


def test_logout_revokes_the_refresh_token(world: World) -> None:
    remote, _ = world.desk()
    assert isinstance(remote, RemoteBackend)
    refresh = remote.transport._refresh
    assert refresh is not None
    remote.logout()
    assert world.server is not None
    with pytest.raises(TokenInvalid):
        accounts.refresh_access(world.server.clinic, refresh)


class _OtherVersion(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"api_version": "2.0", "server_version": "9.0.0"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_server_of_another_major_version_is_refused() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OtherVersion)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    backend = RemoteBackend(remote_settings(f"http://127.0.0.1:{server.server_address[1]}"))
    try:
        with pytest.raises(IncompatibleServer, match="speaks desk API version 2.0") as refused:
            backend.login("anyone", "anything")
        assert hms_desktop.API_VERSION in refused.value.message
        assert backend.current_user is None
    finally:
        backend.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_unreachable_server_at_login_is_backend_unavailable() -> None:
    from tests.contract.server import free_port

    backend = RemoteBackend(remote_settings(f"http://127.0.0.1:{free_port()}"), backoff=0.01)
    try:
        with pytest.raises(BackendUnavailable):
            backend.login("anyone", "anything")
        assert not backend.online and backend.description.endswith(str(backend.transport.base_url))
    finally:
        backend.close()
