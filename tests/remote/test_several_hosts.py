"""Several `hms-desktop serve` hosts behind a load balancer: two real server processes on
different ports, sharing one PostgreSQL and one Redis, with clients alternating between them.
Holds, log-outs, rate-limit counts and change events are shared, so a client may be sent
to either host for any request."""

from __future__ import annotations

import itertools
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import time as clock_time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from hms_desktop.api.deps import SESSION_COOKIE
from hms_desktop.client import RemoteBackend
from hms_desktop.domain.models import RESYNC, SYSTEM, ChangeEvent, WorkingHours
from hms_desktop.services import accounts, doctors, scheduling
from hms_desktop.services.clinic import Clinic, open_clinic
from tests import factories, stores
from tests.contract.conftest import remote_settings
from tests.live_server import free_port
from tests.remote.serving import start_serve
from tests.stores import StoreSpec
from tests.tcp_proxy import TcpProxy

CLIENTS = 30
RACE_MESSAGES = ({"error": "Slot is temporarily locked."}, {"error": "Slot is already booked."})
# A few slots a day (quick to make): free slots within any day-long window.
FEW_HOURS = [
    WorkingHours(day, clock_time(hour, 0), clock_time(hour, 30), 15)
    for day in range(7)
    for hour in (1, 7, 13, 19)
]
# Low enough to reach in a test; every other test stays well within them (each makes its
# own accounts, and a patient or a name is counted on its own; the module's few anonymous
# calls, counted per address, stay under REQUEST_LIMIT).
LOGIN_LIMIT, REQUEST_LIMIT = 4, 20
LIMITS = {
    "HMS_RATE_LIMIT_LOGIN": f"{LOGIN_LIMIT}/minute",
    "HMS_RATE_LIMIT_DEFAULT": f"{REQUEST_LIMIT}/minute",
    # Every test's log-ins come from 127.0.0.1: the per-address count is not the one tested.
    "HMS_RATE_LIMIT_LOGIN_CLIENT": "1000/minute",
}


@dataclass
class Hosts:
    store: StoreSpec
    folder: Path
    clinic: Clinic
    urls: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, name: str) -> tuple[subprocess.Popen[bytes], int]:
        """Start another host on the clinic's store: its process and port."""
        port, log = free_port(), self.folder / f"serve-{name}.log"
        self.logs.append(log)
        process = start_serve(self.store, self.folder, port, log=log, env=LIMITS)
        self.processes.append(process)
        return process, port

    def url(self, index: int) -> str:
        """The host a load balancer sends request number `index` to (round robin)."""
        return self.urls[index % 2]

    def client(self, index: int, *, cookie: str | None = None) -> httpx.Client:
        client = httpx.Client(base_url=self.url(index), timeout=30)
        if cookie:
            client.cookies.set(SESSION_COOKIE, cookie)
        return client


@pytest.fixture(scope="module")
def hosts(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hosts]:
    """Hosts A and B: two `serve` processes on one PostgreSQL + Redis store, started at once
    (as in a roll-out) and shared by this module's tests (each makes its own people and
    slots; two server starts per test would double the module's time). Every host is
    stopped afterwards, and none may have logged an error."""
    provided = stores.provide(request, "postgres")
    store = next(provided)
    hosts = Hosts(
        store, tmp_path_factory.mktemp("hosts"), open_clinic(store.settings(), migrate=False)
    )
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            started = list(pool.map(hosts.start, ("a", "b")))
        hosts.urls = [f"http://127.0.0.1:{port}" for _, port in started]
        yield hosts
    finally:
        for process in hosts.processes:
            process.terminate()
        for process in hosts.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        hosts.clinic.close()
        next(provided, None)  # the store removed
    for log in hosts.logs:
        text = log.read_text()
        assert "ERROR" not in text and "Traceback" not in text, f"{log.name}:\n{text}"


def _first_slot(clinic: Clinic, doctor_id: int, count: int = 1) -> list[int]:
    now = clinic.now()
    found = doctors.free_slots(clinic, SYSTEM, [doctor_id], now, now + timedelta(days=7))
    return [slot.id for slot in found[:count]]


def _race(clients: list[httpx.Client], send: Callable[[httpx.Client], httpx.Response]):  # type: ignore[no-untyped-def]
    start = threading.Barrier(len(clients))

    def one(client: httpx.Client) -> httpx.Response:
        start.wait(timeout=30)
        return send(client)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(one, clients))


def test_thirty_patients_race_for_one_slot_through_two_hosts(hosts: Hosts) -> None:
    clinic = hosts.clinic
    doc = factories.doctor(clinic, hours=FEW_HOURS)
    (slot,) = _first_slot(clinic, doc.doctor_id)
    sessions = []
    for _ in range(CLIENTS):
        record = factories.patient(clinic)
        user = accounts.get_user(clinic, SYSTEM, record.user_id)
        sessions.append(accounts.issue_session_token(clinic, user))
    # Client i talks to host i % 2: half the racers on each host.
    clients = [hosts.client(i, cookie=cookie) for i, cookie in enumerate(sessions)]
    try:
        for client in clients:  # every connection open before the race starts
            assert client.get("/api/version").status_code == 200
        holds = _race(clients, lambda c: c.post("/appointments/me", json={"slot": slot}))
        winners = [i for i, response in enumerate(holds) if response.status_code == 201]
        assert len(winners) == 1, [r.status_code for r in holds]
        for response in holds:
            if response.status_code != 201:
                assert response.status_code == 422, response.text
                assert response.json() in RACE_MESSAGES
        (winner,) = winners
        # One hold exists, whichever host is asked: the winner's, its token known to no other.
        held = clinic.locks.get(slot)
        assert held is not None and held.token == holds[winner].json()["appointmentId"]

        confirms = _race(clients, lambda c: c.put("/appointments/me", json={"slot": slot}))
        assert [r.status_code for r in confirms].count(200) == 1, [r.text for r in confirms]
        assert confirms[winner].status_code == 200
    finally:
        for client in clients:
            client.close()
    desk = factories.staff(clinic)[1]
    page = scheduling.list_appointments(clinic, desk, doctor_id=doc.doctor_id)
    assert [item.slot_id for item in page.items] == [slot]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _stream_ends(client: httpx.Client, token: str) -> threading.Event:
    """Open the desk event stream with `token`; the event is set once the server ends it."""
    ended, connected = threading.Event(), threading.Event()

    def follow() -> None:
        with client.stream("GET", "/desk/v1/events", headers=_bearer(token)) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if line == ": connected":
                    connected.set()
        ended.set()

    threading.Thread(target=follow, daemon=True).start()
    assert connected.wait(10), "the event stream did not open"
    return ended


def test_a_log_out_on_one_host_is_refused_by_the_other_at_once(hosts: Hosts) -> None:
    user, _ = factories.staff(hosts.clinic)
    with hosts.client(0) as a, hosts.client(1) as b:
        # The desk API: log in on A, work on B, log out on A.
        credentials = {"username": user.username, "password": factories.PASSWORD}
        login = a.post("/desk/v1/session", json=credentials)
        assert login.status_code == 200, login.text
        access, refresh = login.json()["access"], login.json()["refresh"]
        assert b.get("/desk/v1/session", headers=_bearer(access)).status_code == 200
        stream_on_b = _stream_ends(b, access)
        out = a.post("/desk/v1/session/logout", json={"refresh": refresh}, headers=_bearer(access))
        assert out.status_code == 204, out.text
        refused = b.get("/desk/v1/session", headers=_bearer(access))
        assert refused.status_code == 401, refused.text
        assert b.post("/desk/v1/session/refresh", json={"refresh": refresh}).status_code == 401
        # A desk's open event stream on B ends at its next log-in check (every 4 s).
        assert stream_on_b.wait(8), "B kept streaming to a logged-out desk"

        # The hospital API: register and log in on A, log out on B, refused on A.
        registered = b.post(
            "/api/user/register/",
            json={
                "username": factories.unique("ada"),
                "first_name": "Ada",
                "password": "s3cret-pass",
                "confirm_password": "s3cret-pass",
            },
        )
        assert registered.status_code == 201, registered.text
        name = registered.json()["user"]["username"]
        tokens = a.post("/api/user/login/", json={"username": name, "password": "s3cret-pass"})
        assert tokens.status_code == 200, tokens.text
        access, refresh = tokens.json()["access"], tokens.json()["refresh"]
        assert b.get("/api/user/profiles/me/", headers=_bearer(access)).status_code == 200
        assert b.post("/api/user/logout/", json={"refresh": refresh}).status_code == 200
        refused = a.get("/api/user/profiles/me/", headers=_bearer(access))
        assert refused.status_code == 401, refused.text
        again = a.post("/api/user/token/refresh/", json={"refresh": refresh})
        assert again.status_code == 401, again.text

        # The booking API: a session cookie made on B, ended on A, refused on B.
        session = b.post("/sessions", json={"username": name, "password": "s3cret-pass"})
        assert session.status_code == 201, session.text
        cookie = session.cookies[SESSION_COOKIE]
    with hosts.client(0, cookie=cookie) as a, hosts.client(1, cookie=cookie) as b:
        assert b.get("/appointments").status_code == 200
        assert a.delete("/sessions").status_code == 204
        refused = b.get("/appointments")
        assert refused.status_code == 401, refused.text


def _first_refusal(send: Callable[[int], httpx.Response], attempts: int) -> int:
    """The number of the first attempt refused with 429 (1-based), sending up to `attempts`."""
    for number in range(1, attempts + 1):
        response = send(number)
        if response.status_code == 429:
            return number
        assert response.status_code in (200, 401), response.text
    raise AssertionError(f"no 429 within {attempts} attempts")


def test_rate_limit_counts_are_shared_by_the_hosts(hosts: Hosts) -> None:
    clinic = hosts.clinic
    clients = [hosts.client(0), hosts.client(1)]
    try:
        # Failed log-ins per address and name: on one host, then alternating between two.
        names = [factories.staff(clinic)[0].username for _ in range(2)]

        def wrong_password(name: str, host: Callable[[int], int]):  # type: ignore[no-untyped-def]
            return lambda n: clients[host(n)].post(
                "/desk/v1/session", json={"username": name, "password": "not-the-password"}
            )

        one_host = _first_refusal(wrong_password(names[0], lambda _n: 0), 20)
        alternating = _first_refusal(wrong_password(names[1], lambda n: n % 2), 20)
        assert one_host == alternating == LOGIN_LIMIT + 1

        # The request budget of a patient: the same.
        sessions = []
        for _ in range(2):
            record = factories.patient(clinic)
            user = accounts.get_user(clinic, SYSTEM, record.user_id)
            sessions.append(accounts.issue_session_token(clinic, user))

        def listing(session: str, host: Callable[[int], int]):  # type: ignore[no-untyped-def]
            return lambda n: clients[host(n)].get("/doctors", headers=_bearer(session))

        one_host = _first_refusal(listing(sessions[0], lambda _n: 0), 40)
        alternating = _first_refusal(listing(sessions[1], lambda n: n % 2), 40)
        assert one_host == alternating == REQUEST_LIMIT + 1
    finally:
        for client in clients:
            client.close()


WITHIN = 1.0  # seconds from the request on one host to the event on the other's desk


@pytest.mark.latency  # a wall-clock bound: run alone in CI
def test_a_desk_on_one_host_sees_changes_made_through_the_other_within_a_second(
    hosts: Hosts,
) -> None:
    clinic = hosts.clinic
    name = factories.unique("Cardiology")
    doc = factories.doctor(
        clinic, specialisation_ids=[factories.speciality(clinic, name)], hours=FEW_HOURS
    )
    patient = factories.patient(clinic)
    now = clinic.now()
    window = {"startTime": now.isoformat(), "endTime": (now + timedelta(days=2)).isoformat()}
    slots = _first_slot(clinic, doc.doctor_id, 2)
    desks = []
    for index in range(2):
        user, _ = factories.staff(clinic)
        desk = RemoteBackend(remote_settings(hosts.url(index)), backoff=0.05)
        desk.login(user.username, factories.PASSWORD)
        desks.append(desk)
    heard: list[queue.Queue[tuple[float, ChangeEvent]]] = [queue.Queue(), queue.Queue()]

    def arrival(index: int, kind: str, slot: int) -> float:
        while True:
            at, event = heard[index].get(timeout=5)
            if event.kind == kind and event.slot_id == slot:
                return at

    record = accounts.get_user(clinic, SYSTEM, patient.user_id)
    latencies = []
    try:
        for index in range(2):
            stream = desks[index].subscribe(
                lambda event, i=index: heard[i].put((time.monotonic(), event))
            )
            assert getattr(stream, "connected", False)
        with hosts.client(0, cookie=accounts.issue_session_token(clinic, record)) as on_a:
            # A's free-slot answer is cached; a change made through B empties it too.
            listed = on_a.get(f"/doctors/specialities/{name}", params=window)
            assert slots[0] in [item["slot_id"] for item in listed.json()], listed.text
            # Desk 0 is on host A, desk 1 on host B: each sees what the other did.
            for watcher, actor in ((0, 1), (1, 0)):
                slot = slots[watcher]
                started = time.monotonic()
                hold = desks[actor].hold_slot(slot, patient.id)
                latencies.append(arrival(watcher, "hold", slot) - started)
                if watcher == 0:
                    listed = on_a.get(f"/doctors/specialities/{name}", params=window)
                    assert slot not in [item["slot_id"] for item in listed.json()]
                started = time.monotonic()
                desks[actor].confirm_booking(slot, patient.id, hold.token)
                latencies.append(arrival(watcher, "book", slot) - started)
    finally:
        for desk in desks:
            desk.close()
    print(f"events across hosts in {', '.join(f'{s * 1000:.0f}' for s in latencies)} ms")  # noqa: T201
    assert max(latencies) < WITHIN, latencies


class Balancer(TcpProxy):
    """A round-robin TCP load balancer over loopback ports: each new connection goes to the
    next port of `ports`, which the test changes as an operator (or a health check) does."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self._turn = itertools.count()
        super().__init__("127.0.0.1", ports[0])

    @property  # type: ignore[override]
    def target(self) -> tuple[str, int]:
        ports = self.ports
        return ("127.0.0.1", ports[next(self._turn) % len(ports)])

    @target.setter
    def target(self, _value: tuple[str, int]) -> None:
        pass


@pytest.mark.latency  # a wall-clock bound: run alone in CI
def test_a_desk_behind_the_balancer_moves_on_when_its_host_stops(hosts: Hosts) -> None:
    """A rolling restart: host C is taken out of the balancer's pool and stopped; the desk
    whose event stream C was serving reconnects through the balancer to B at once, hears
    it should reload (resync), then hears the other hosts' changes, and keeps working."""
    clinic = hosts.clinic
    doc = factories.doctor(clinic, hours=FEW_HOURS)
    patient = factories.patient(clinic)
    first, second = _first_slot(clinic, doc.doctor_id, 2)
    host_c, port_c = hosts.start("c")
    port_b = int(hosts.urls[1].rsplit(":", 1)[1])
    balancer = Balancer([port_c])
    behind = RemoteBackend(remote_settings(f"http://127.0.0.1:{balancer.port}"), backoff=0.05)
    on_a = RemoteBackend(remote_settings(hosts.urls[0]), backoff=0.05)
    heard: queue.Queue[tuple[float, ChangeEvent]] = queue.Queue()

    def next_event(kind: str, slot: int | None = None, wait: float = 5.0) -> float:
        deadline = time.monotonic() + wait
        while True:
            at, event = heard.get(timeout=max(0.0, deadline - time.monotonic()))
            if event.kind == kind and event.slot_id == slot:
                return at

    try:
        for desk in (behind, on_a):
            desk.login(factories.staff(clinic)[0].username, factories.PASSWORD)
        stream = behind.subscribe(lambda event: heard.put((time.monotonic(), event)))
        assert getattr(stream, "connected", False)  # through the balancer, to C
        balancer.ports = [port_c, port_b]  # B joins the pool ...
        balancer.ports = [port_b]  # ... and C is drained from it, then stopped
        stopping = time.monotonic()
        host_c.terminate()
        host_c.wait(timeout=15)
        assert time.monotonic() - stopping < 5, "C waited on the desk's event stream"
        moved = next_event(RESYNC, wait=10) - stopping
        started = time.monotonic()
        held = on_a.hold_slot(first, patient.id)
        latency = next_event("hold", first) - started
        assert latency < WITHIN, latency
        # The desk's own requests (their kept-alive connection to C is gone) go to B.
        mine = behind.hold_slot(second, patient.id)
        assert [hold.slot_id for hold in (held, mine)] == [first, second]
        assert clinic.locks.get(second) == mine
    finally:
        behind.close()
        on_a.close()
        balancer.close()
    print(f"desk back on another host {moved * 1000:.0f} ms after its host stopped")  # noqa: T201
