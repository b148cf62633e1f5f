"""The database goes away under load and comes back: every answer meanwhile is a success or a
503 with `Retry-After` and a message naming the database (never a 500), the log says so in
a line or two (no traceback per request), desks' event streams say so, and bookings
resume. The server reaches PostgreSQL through a TCP proxy the test cuts and restores."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.engine import make_url

from hms_desktop.api import desk_events
from hms_desktop.domain.models import STORE_AWAY, STORE_BACK, SYSTEM
from hms_desktop.services import accounts
from hms_desktop.services.clinic import Clinic, open_clinic
from tests import factories
from tests.api.conftest import FEW_HOURS, LiveServer
from tests.live_server import GENEROUS_LIMIT, ServerThread
from tests.services.support import free_slot_ids
from tests.stores import StoreSpec
from tests.tcp_proxy import TcpProxy

PATIENTS = 6
SLOTS_EACH = 3
OUTAGE_SECONDS = 3.0


@dataclass(frozen=True)
class Answer:
    at: float
    what: str
    status: int
    retry_after: str | None
    body: str


@pytest.fixture
def proxied(store: StoreSpec) -> Iterator[tuple[Clinic, ServerThread, TcpProxy]]:
    """A clinic seeded directly, and a server whose database is behind the proxy."""
    url = make_url(store.database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    limits = {"rate_limit_default": GENEROUS_LIMIT, "rate_limit_desk": GENEROUS_LIMIT}
    direct = open_clinic(store.settings(**limits), migrate=False)
    behind = store.settings(**limits).model_copy(
        update={"database_url": url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)}
    )
    server = ServerThread(open_clinic(behind, migrate=False)).start()
    try:
        yield direct, server, proxy
    finally:
        server.stop()
        server.clinic.close()
        proxy.close()
        direct.close()


class Load:
    """Patients holding, confirming and cancelling over the booking API, and a desk reading
    over the desk and hospital APIs, each in a thread, every answer kept."""

    def __init__(self, server: LiveServer, tokens: list[str], slots: list[list[int]]) -> None:
        self.server = server
        self.answers: list[Answer] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._patient, args=(token, own), daemon=True)
            for token, own in zip(tokens[1:], slots, strict=True)
        ]
        self._threads.append(threading.Thread(target=self._desk, args=(tokens[0],), daemon=True))

    def _keep(self, what: str, response: httpx.Response) -> httpx.Response:
        answer = Answer(
            time.monotonic(),
            what,
            response.status_code,
            response.headers.get("Retry-After"),
            response.text,
        )
        with self._lock:
            self.answers.append(answer)
        return response

    def _patient(self, token: str, slots: list[int]) -> None:
        with self.server.client(token) as client:
            while not self._stop.is_set():
                for slot in slots:
                    held = self._keep("hold", client.post("/appointments/me", json={"slot": slot}))
                    if held.status_code != 201:
                        continue
                    body = {"slot": slot, "appointmentId": held.json()["appointmentId"]}
                    booked = self._keep("confirm", client.put("/appointments/me", json=body))
                    if booked.status_code == 200:
                        appointment = booked.json()["appointment_id"]
                        self._keep("cancel", client.delete(f"/appointments/{appointment}"))

    def _desk(self, token: str) -> None:
        with self.server.client(token) as client:
            while not self._stop.is_set():
                self._keep("desk patients", client.get("/desk/v1/patients", params={"q": "Pat"}))
                self._keep("hospital patients", client.get("/patients/"))
                time.sleep(0.02)

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def between(self, start: float, end: float) -> list[Answer]:
        with self._lock:
            return [answer for answer in self.answers if start <= answer.at < end]


def follow_events(url: str, token: str, seen: list[tuple[float, str]]) -> Callable[[], None]:
    """A desk's event stream, read in a thread; returns a function that stops it."""
    stop, connected = threading.Event(), threading.Event()

    def run() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with (
            httpx.Client(base_url=url, timeout=httpx.Timeout(30.0)) as client,
            client.stream("GET", "/desk/v1/events", headers=headers) as response,
        ):
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith(": connected"):
                    connected.set()
                elif line.startswith("data:"):
                    seen.append((time.monotonic(), json.loads(line[5:])["kind"]))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert connected.wait(15), "the event stream did not open"

    def close() -> None:
        stop.set()

    return close


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_the_database_away_under_load_is_503_never_500_and_bookings_resume(
    proxied: tuple[Clinic, ServerThread, TcpProxy],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(desk_events, "HEARTBEAT_SECONDS", 0.5)
    monkeypatch.setattr(desk_events, "OUTAGE_PROBE_SECONDS", 0.5)
    clinic, server, proxy = proxied
    doctor = factories.doctor(clinic, hours=FEW_HOURS)
    slots = free_slot_ids(clinic, doctor.doctor_id, PATIENTS * SLOTS_EACH)
    desk, _ = factories.staff(clinic)
    people = [desk] + [
        accounts.get_user(clinic, SYSTEM, factories.patient(clinic).user_id)
        for _ in range(PATIENTS)
    ]
    tokens = [accounts.issue_tokens(clinic, person).access for person in people]
    live = LiveServer(server.url, clinic)
    events: list[tuple[float, str]] = []
    stop_events = follow_events(server.url, tokens[0], events)
    mine = [slots[i * SLOTS_EACH : (i + 1) * SLOTS_EACH] for i in range(PATIENTS)]

    with caplog.at_level(logging.WARNING), Load(live, tokens, mine) as load:
        time.sleep(1.5)
        cut_at = time.monotonic()
        proxy.cut()
        time.sleep(OUTAGE_SECONDS)
        proxy.restore()
        back_at = time.monotonic()
        deadline = back_at + 20
        while time.monotonic() < deadline:
            resumed = [a for a in load.between(back_at, time.monotonic()) if a.what == "confirm"]
            if sum(a.status == 200 for a in resumed) >= PATIENTS:
                break
            time.sleep(0.1)
        time.sleep(1.0)  # the event stream's next probe
    stop_events()

    answers = load.answers
    statuses = {a.status for a in answers}
    assert 500 not in statuses, [a for a in answers if a.status >= 500 and a.status != 503][:3]
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable, "the outage was not seen: no 503 while the database was away"
    assert all(a.retry_after is not None and int(a.retry_after) >= 1 for a in unavailable)
    assert all("database" in a.body for a in unavailable)
    assert {a.what for a in unavailable} >= {"hold", "desk patients"}
    # Holds before the cut were answered, and confirmations again after it.
    assert any(a.status == 201 for a in load.between(0, cut_at))
    after = [a for a in load.between(back_at, time.monotonic()) if a.what == "confirm"]
    assert sum(a.status == 200 for a in after) >= PATIENTS, "bookings did not resume"

    # The log: a WARNING line per few seconds of outage, no traceback, no ERROR.
    api_records = [r for r in caplog.records if r.name.startswith("hms_desktop.api")]
    assert not [r for r in api_records if r.levelno >= logging.ERROR]
    outage_lines = [r for r in api_records if "answering 503" in r.getMessage()]
    assert 1 <= len(outage_lines) <= 3 and not any(r.exc_info for r in outage_lines)

    # The desk's event stream said the database was away, then that it is back.
    kinds = [kind for _, kind in events]
    assert STORE_AWAY in kinds and STORE_BACK in kinds
    assert kinds.index(STORE_AWAY) < len(kinds) - 1 - kinds[::-1].index(STORE_BACK)


@pytest.fixture
def redis_behind_proxy(store: StoreSpec) -> Iterator[tuple[Clinic, ServerThread, TcpProxy]]:
    """A clinic seeded directly, and a server whose Redis is behind the proxy."""
    url = make_url(store.redis_url.replace("redis://", "postgresql://", 1))
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 6379)
    limits = {"rate_limit_default": GENEROUS_LIMIT, "rate_limit_desk": GENEROUS_LIMIT}
    direct = open_clinic(store.settings(**limits), migrate=False)
    behind = store.settings(**limits).model_copy(
        update={"redis_url": f"redis://127.0.0.1:{proxy.port}/{url.database or 0}"}
    )
    server = ServerThread(open_clinic(behind, migrate=False)).start()
    try:
        yield direct, server, proxy
    finally:
        server.stop()
        server.clinic.close()
        proxy.close()
        direct.close()


@pytest.mark.parametrize("store", ["postgres"], indirect=True)
def test_redis_away_under_load_is_503_naming_the_lock_store_and_holds_resume(
    redis_behind_proxy: tuple[Clinic, ServerThread, TcpProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(desk_events, "HEARTBEAT_SECONDS", 0.5)
    monkeypatch.setattr(desk_events, "OUTAGE_PROBE_SECONDS", 0.5)
    clinic, server, proxy = redis_behind_proxy
    doctor = factories.doctor(clinic, hours=FEW_HOURS)
    slots = free_slot_ids(clinic, doctor.doctor_id, PATIENTS * SLOTS_EACH)
    desk, _ = factories.staff(clinic)
    people = [desk] + [
        accounts.get_user(clinic, SYSTEM, factories.patient(clinic).user_id)
        for _ in range(PATIENTS)
    ]
    tokens = [accounts.issue_tokens(clinic, person).access for person in people]
    events: list[tuple[float, str]] = []
    stop_events = follow_events(server.url, tokens[0], events)
    mine = [slots[i * SLOTS_EACH : (i + 1) * SLOTS_EACH] for i in range(PATIENTS)]
    with Load(LiveServer(server.url, clinic), tokens, mine) as load:
        time.sleep(1.0)
        proxy.cut()
        time.sleep(2.0)
        proxy.restore()
        back_at = time.monotonic()
        deadline = back_at + 20
        while time.monotonic() < deadline:
            resumed = [a for a in load.between(back_at, time.monotonic()) if a.what == "hold"]
            if sum(a.status == 201 for a in resumed) >= PATIENTS:
                break
            time.sleep(0.1)
        time.sleep(1.0)
    stop_events()

    answers = load.answers
    assert not [a for a in answers if a.status >= 500 and a.status != 503][:1]
    unavailable = [a for a in answers if a.status == 503]
    assert unavailable and all(a.retry_after for a in unavailable)
    assert all("lock store" in a.body or "slot-hold" in a.body for a in unavailable)
    resumed = [a for a in load.between(back_at, time.monotonic()) if a.what == "hold"]
    assert sum(a.status == 201 for a in resumed) >= PATIENTS, "holds did not resume"
    kinds = [kind for _, kind in events]
    assert STORE_AWAY in kinds
