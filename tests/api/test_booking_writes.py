"""A patient's hold and booking answered before FastAPI's router (api/booking_writes.py): the
same answers as the routes (successes and every refusal), the route left to answer what
this path cannot check the same way, and a log-out on another host refused at once. Real
PostgreSQL, Redis and HTTP; two servers on one store: one with the path, one without."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from fastapi import FastAPI

from hms_desktop.api import booking_writes
from hms_desktop.api.booking import HoldCreated
from hms_desktop.api.booking_writes import WRITE_THREADS, BookingWrites
from hms_desktop.domain.enums import Role
from tests.api.conftest import LiveServer
from tests.api.test_fast_path import RouterCalls
from tests.api.test_patient_reads import _compared, _free_slots
from tests.stores import StoreSpec


def _without_the_path(app: FastAPI) -> None:
    """`customize` for `serve`: every write answered by its route."""
    app.user_middleware = [m for m in app.user_middleware if m.cls is not BookingWrites]


class Hosts:
    def __init__(self, serve: Callable[..., LiveServer]) -> None:
        self.calls = RouterCalls()
        self.fast = serve(customize=self.calls)
        self.plain = serve(customize=_without_the_path)
        self.clinic = self.fast.clinic

    def patient_and_slots(self, count: int) -> tuple[str, list[int]]:
        """A new patient's session cookie and `count` free slots of a new doctor."""
        doctor = self.fast.doctor()
        _, user = self.fast.patient_user()
        return self.fast.session_for(user), _free_slots(self.clinic, doctor.doctor_id, count)


@pytest.fixture
def hosts(serve: Callable[..., LiveServer], store: StoreSpec) -> Hosts:
    if not store.redis_url:
        pytest.skip("token checks are kept only with Redis")
    return Hosts(serve)


def _kept(client: httpx.Client) -> None:
    """One call through the router: this server now keeps the token's check."""
    assert client.get("/appointments").status_code == 200


def _hold(client: httpx.Client, slot_id: object) -> httpx.Response:
    return client.post("/appointments/me", json={"slot": slot_id})


def _confirm(client: httpx.Client, slot_id: int, token: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"slot": slot_id}
    if token is not None:
        body["appointmentId"] = token
    return client.put("/appointments/me", json=body)


def test_a_hold_and_a_booking_are_answered_as_the_routes_answer_them(hosts: Hosts) -> None:
    session, (ours, theirs) = hosts.patient_and_slots(2)
    with hosts.fast.client(cookie=session) as fast, hosts.plain.client(cookie=session) as plain:
        _kept(fast)
        mark = len(hosts.calls.paths)
        held = _hold(fast, ours)
        booked = _confirm(fast, ours, held.json()["appointmentId"])
        assert hosts.calls.since(mark) == [], "the router answered"
        route_held = _hold(plain, theirs)
        route_booked = _confirm(plain, theirs, route_held.json()["appointmentId"])
        listed = {item["appointment_id"]: item for item in plain.get("/appointments").json()}
    assert held.status_code == route_held.status_code == 201
    assert _compared(held)[2] == _compared(route_held)[2]  # headers: the same kind of answer
    assert set(held.json()) == set(route_held.json()) == {"appointmentId"}
    assert booked.status_code == route_booked.status_code == 200
    assert set(_compared(booked)[2]) == set(_compared(route_booked)[2])
    # The booking's bytes are the route's rendering of the same record (GET /appointments
    # renders each record as the PUT route's response model does).
    record = listed[booked.json()["appointment_id"]]
    assert booked.content == json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
    assert listed[route_booked.json()["appointment_id"]] == route_booked.json()


def test_every_refusal_is_the_routes_refusal(hosts: Hosts) -> None:
    doctor = hosts.fast.doctor()
    _, user = hosts.fast.patient_user()
    _, other = hosts.fast.patient_user()
    slots = _free_slots(hosts.clinic, doctor.doctor_id, 4)
    session, other_session = hosts.fast.session_for(user), hosts.fast.session_for(other)
    with (
        hosts.fast.client(cookie=session) as fast,
        hosts.plain.client(cookie=session) as plain,
        hosts.fast.client(cookie=other_session) as other_fast,
    ):
        _kept(fast)
        _kept(other_fast)
        held = _hold(other_fast, slots[0])  # the other patient's hold
        assert held.status_code == 201
        theirs_token = held.json()["appointmentId"]
        booked = _hold(other_fast, slots[1])
        assert _confirm(other_fast, slots[1], booked.json()["appointmentId"]).status_code == 200
        cases: list[tuple[str, Callable[[httpx.Client], httpx.Response], bool]] = [
            ("no such slot", lambda c: _hold(c, 2_000_000_000), True),
            ("held by another patient", lambda c: _hold(c, slots[0]), True),
            ("booked by another patient", lambda c: _hold(c, slots[1]), True),
            ("no hold to confirm", lambda c: _confirm(c, slots[2]), True),
            ("someone else's hold", lambda c: _confirm(c, slots[0], theirs_token), True),
            ("a wrong hold token", lambda c: _confirm(c, slots[0], "not-the-token"), True),
            ("no slot named", lambda c: c.post("/appointments/me", json={}), True),
            # What FastAPI refuses before the route: left to it, answered the same.
            ("a slot that is no number", lambda c: _hold(c, "abc"), False),
            ("a body that is no JSON", lambda c: c.post("/appointments/me", content=b"{"), False),
            ("a list for a body", lambda c: c.post("/appointments/me", json=[1]), False),
        ]
        for name, call, answered_here in cases:
            mark = len(hosts.calls.paths)
            ours, theirs = call(fast), call(plain)
            assert 400 <= ours.status_code < 500, (name, ours.text)
            assert _compared(ours) == _compared(theirs), name
            reached = hosts.calls.since(mark)
            assert reached == ([] if answered_here else ["/appointments/me"]), (name, reached)


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.RECEPTIONIST, Role.ADMIN])
def test_staff_on_the_patients_writes_are_refused_as_by_the_route(hosts: Hosts, role: Role) -> None:
    doctor = hosts.fast.doctor()
    slot = _free_slots(hosts.clinic, doctor.doctor_id, 1)[0]
    token = hosts.fast.token_for(hosts.fast.staff(role))
    with hosts.fast.client(token) as fast, hosts.plain.client(token) as plain:
        fast.get("/appointments")  # keeps the check (a doctor's schedule, else a refusal)
        for call in (lambda c: _hold(c, slot), lambda c: _confirm(c, slot)):
            ours, theirs = call(fast), call(plain)
            assert ours.status_code in (401, 403), ours.text
            assert _compared(ours) == _compared(theirs)


def test_a_log_out_on_another_host_is_refused_at_once(hosts: Hosts) -> None:
    session, (first, second) = hosts.patient_and_slots(2)
    with hosts.fast.client(cookie=session) as fast, hosts.plain.client(cookie=session) as plain:
        _kept(fast)
        assert _hold(fast, first).status_code == 201
        assert plain.delete("/sessions").status_code in (200, 204)
        refused = _hold(fast, second)
    assert refused.status_code == 401, refused.text


def test_a_spent_budget_is_the_routes_429(
    serve: Callable[..., LiveServer], store: StoreSpec
) -> None:
    if not store.redis_url:
        pytest.skip("token checks are kept only with Redis")
    calls = RouterCalls()
    api = serve(customize=calls, rate_limit_default="4/minute")
    doctor = api.doctor()
    _, user = api.patient_user()
    slots = _free_slots(api.clinic, doctor.doctor_id, 4)
    with api.client(cookie=api.session_for(user)) as patient:
        _kept(patient)  # one of four
        mark = len(calls.paths)
        answers = [_hold(patient, slot).status_code for slot in slots]
    assert answers == [201, 201, 201, 429]
    assert calls.since(mark) == ["/appointments/me"], "only the refusal reached the route"


def test_the_writes_take_turns_on_a_few_threads_of_their_own(
    hosts: Hosts, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three times as many holds at once as the path has threads: every one is answered,
    and no more than WRITE_THREADS of them run their use case at the same moment."""
    running, most = 0, 0
    counting = threading.Lock()

    def slow_hold(clinic: object, actor: object, choice: object) -> HoldCreated:
        nonlocal running, most
        with counting:
            running += 1
            most = max(most, running)
        time.sleep(0.2)
        with counting:
            running -= 1
        return HoldCreated(appointmentId="held")

    monkeypatch.setitem(booking_writes._WORK, "POST", (slow_hold, 201))
    session, _ = hosts.patient_and_slots(0)
    with hosts.fast.client(cookie=session) as client:
        _kept(client)

    def hold_once(_: int) -> int:
        with hosts.fast.client(cookie=session) as client:
            return _hold(client, 1).status_code

    with ThreadPoolExecutor(3 * WRITE_THREADS) as pool:
        answers = list(pool.map(hold_once, range(3 * WRITE_THREADS)))
    assert answers == [201] * (3 * WRITE_THREADS)
    # Never more than its threads; and they were used (the default pool ran 22 at once).
    assert WRITE_THREADS // 2 < most <= WRITE_THREADS
