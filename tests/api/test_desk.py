"""The desk API over real HTTP: its session, JSON errors, OpenAPI entry and event stream."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest

from hms_desktop.api import desk_events
from hms_desktop.domain.models import SYSTEM, ChangeEvent
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.events import Listener, Subscription
from tests import factories
from tests.contract.conftest import LIMITS
from tests.live_server import ServerThread


class CountingBus:
    """The clinic's event bus, counting the subscriptions still open."""

    def __init__(self, bus: object) -> None:
        self.bus = bus
        self.open = 0
        self._lock = threading.Lock()

    def publish(self, event: ChangeEvent) -> None:
        self.bus.publish(event)  # type: ignore[attr-defined]

    def subscribe(self, listener: Listener) -> Subscription:
        inner = self.bus.subscribe(listener)  # type: ignore[attr-defined]
        with self._lock:
            self.open += 1
        bus = self

        class Counted:
            def close(self) -> None:
                inner.close()
                with bus._lock:
                    bus.open -= 1

        return Counted()

    def close(self) -> None:
        self.bus.close()  # type: ignore[attr-defined]


@pytest.fixture
def server(open_store: Callable[..., Clinic]) -> Iterator[ServerThread]:
    clinic = open_store(**LIMITS)
    clinic.events = CountingBus(clinic.events)  # type: ignore[assignment]
    live = ServerThread(clinic).start()
    yield live
    live.stop()


def _login(client: httpx.Client, username: str) -> dict[str, object]:
    answer = client.post(
        "/desk/v1/session", json={"username": username, "password": factories.PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_session_tokens_refresh_and_logout(server: ServerThread) -> None:
    user, _ = factories.staff(server.clinic)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        wrong = client.post("/desk/v1/session", json={"username": user.username, "password": "x"})
        assert wrong.status_code == 401
        assert wrong.json() == {
            "error": "Invalid username or password.",
            "kind": "unauthenticated",
            "field": None,
            "type": "AuthenticationFailed",
        }
        session = _login(client, user.username)
        assert session["user"]["username"] == user.username  # type: ignore[index]
        bearer = {"Authorization": f"Bearer {session['access']}"}
        assert client.get("/desk/v1/session", headers=bearer).json()["id"] == user.id

        renewed = client.post("/desk/v1/session/refresh", json={"refresh": session["refresh"]})
        assert renewed.status_code == 200 and renewed.json()["access"]
        gone = client.post(
            "/desk/v1/session/logout", json={"refresh": session["refresh"]}, headers=bearer
        )
        assert gone.status_code == 204
        refused = client.post("/desk/v1/session/refresh", json={"refresh": session["refresh"]})
        assert refused.status_code == 401
        assert refused.json()["error"] == "Token is invalid or expired"
        assert client.get("/desk/v1/session", headers=bearer).status_code == 401


def test_a_desk_log_in_names_its_desk_and_its_holds_stay_with_it(server: ServerThread) -> None:
    user, _ = factories.staff(server.clinic)
    doc = factories.doctor(server.clinic)
    alice = factories.patient(server.clinic)
    now = server.clinic.now()
    first, second = doctors.free_slots(
        server.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=2
    )
    with (
        httpx.Client(base_url=server.url, timeout=10) as named,
        httpx.Client(base_url=server.url, timeout=10) as unnamed,
    ):
        answer = named.post(
            "/desk/v1/session",
            json={"username": user.username, "password": factories.PASSWORD, "desk": "Desk 3"},
        )
        named.headers["Authorization"] = f"Bearer {answer.json()['access']}"
        unnamed.headers["Authorization"] = f"Bearer {_login(unnamed, user.username)['access']}"
        held = named.post("/desk/v1/holds", json={"slot_id": first.id, "patient_id": alice.id})
        assert held.status_code == 201 and held.json()["desk"] == "Desk 3"
        # A client that names no desk is known by its address.
        other = unnamed.post("/desk/v1/holds", json={"slot_id": second.id, "patient_id": alice.id})
        assert other.status_code == 201 and other.json()["desk"] == "127.0.0.1"
        # The same account's other log-in holds nothing of the first one's.
        again = unnamed.post("/desk/v1/holds", json={"slot_id": first.id, "patient_id": alice.id})
        assert again.status_code == 422 and again.json()["type"] == "SlotLocked"
        too_long = named.post(
            "/desk/v1/session",
            json={"username": user.username, "password": factories.PASSWORD, "desk": "d" * 151},
        )
        assert too_long.status_code == 400 and too_long.json()["field"] == "desk"


def test_domain_errors_travel_as_json_with_kind_and_field(server: ServerThread) -> None:
    user, _ = factories.staff(server.clinic)
    doc = factories.doctor(server.clinic)
    alice, bob = factories.patient(server.clinic), factories.patient(server.clinic)
    now = server.clinic.now()
    (slot,) = doctors.free_slots(
        server.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=1
    )
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/desk/v1/requests").status_code == 401
        client.headers["Authorization"] = f"Bearer {_login(client, user.username)['access']}"
        held = client.post("/desk/v1/holds", json={"slot_id": slot.id, "patient_id": alice.id})
        assert held.status_code == 201 and held.json()["slot_id"] == slot.id
        locked = client.post("/desk/v1/holds", json={"slot_id": slot.id, "patient_id": bob.id})
        assert locked.status_code == 422
        assert locked.json() == {
            "error": "Slot is temporarily locked.",
            "kind": "unprocessable",
            "field": None,
            "type": "SlotLocked",
        }
        bad = client.post("/desk/v1/patients", json={"full_name": "A B", "email": "nope"})
        assert bad.status_code == 400 and bad.json()["field"] == "email"
        malformed = client.post("/desk/v1/holds", json={"slot_id": "x"})
        assert malformed.status_code == 400 and malformed.json()["kind"] == "invalid"


def test_openapi_documents_every_desk_route(server: ServerThread) -> None:
    schema = httpx.get(f"{server.url}/openapi.json", timeout=10).json()
    paths = {path for path in schema["paths"] if path.startswith("/desk/v1/")}
    assert {
        "/desk/v1/session",
        "/desk/v1/patients",
        "/desk/v1/calendar",
        "/desk/v1/holds",
        "/desk/v1/appointments",
        "/desk/v1/requests",
        "/desk/v1/events",
    } <= paths
    assert len(paths) >= 24
    events = schema["paths"]["/desk/v1/events"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in events


def test_event_stream_heartbeats_events_and_cleans_up(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(desk_events, "HEARTBEAT_SECONDS", 0.2)
    bus = server.clinic.events
    assert isinstance(bus, CountingBus)
    user, actor = factories.staff(server.clinic)
    doc = factories.doctor(server.clinic)
    patient = factories.patient(server.clinic)
    now = server.clinic.now()
    (slot,) = doctors.free_slots(
        server.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=1
    )
    # The app itself listens too (its answer cache): count what the stream adds.
    standing = bus.open
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/desk/v1/events").status_code == 401
        token = _login(client, user.username)["access"]
        headers = {"Authorization": f"Bearer {token}"}
        with client.stream("GET", "/desk/v1/events", headers=headers) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == ": connected"
            assert bus.open == standing + 1
            assert next(lines) == ""
            assert next(lines) == ": heartbeat"
            scheduling.hold_slot(server.clinic, actor, slot.id, patient.id)
            data = next(line for line in lines if line.startswith("data: "))
            event = ChangeEvent.from_dict(json.loads(data.removeprefix("data: ")))
            assert (event.kind, event.slot_id, event.doctor_id) == ("hold", slot.id, doc.doctor_id)
    deadline = time.monotonic() + 5
    while bus.open > standing and time.monotonic() < deadline:
        time.sleep(0.05)
    assert bus.open == standing
