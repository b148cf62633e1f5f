"""A patient's `GET /appointments` kept per patient and its token checks kept per server
(api/patient_answers.py, api/sign_ins.py, answered by api/fast_path.py): the same bytes as
the route's, never one patient's list to another, every change seen by the next read on
any server, and every log-out, deactivation or password reset refused at once by every
server with its checks kept. Real PostgreSQL, Redis and HTTP; two servers on one store
play two hosts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hms_desktop.api import booking
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import RedisUnavailable
from hms_desktop.domain.models import SYSTEM, Actor
from hms_desktop.services import accounts, doctors, scheduling, staff
from hms_desktop.services.clinic import Clinic, open_clinic
from hms_desktop.store.tables import User
from tests import factories
from tests.api.conftest import LiveServer
from tests.api.test_fast_path import RouterCalls
from tests.live_server import GENEROUS_LIMIT, ServerThread
from tests.stores import StoreSpec
from tests.tcp_proxy import TcpProxy

LONG_AGE = {"answer_cache_seconds": 60}
# What uvicorn adds on the wire, and the per-request id.
_NOT_COMPARED = {"date", "server", "x-request-id"}


def _compared(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_COMPARED}
    return response.status_code, response.content, headers


@pytest.fixture
def postgres_only(store: StoreSpec) -> None:
    if not store.redis_url:
        pytest.skip("kept only with Redis (an embedded clinic keeps nothing)")


def _free_slots(clinic: Clinic, doctor_id: int, count: int) -> list[int]:
    now = clinic.now()
    found = doctors.free_slots(
        clinic, SYSTEM, [doctor_id], now + timedelta(hours=1), now + timedelta(days=7)
    )
    assert len(found) >= count
    return [slot.id for slot in found[:count]]


def _book_online(client: httpx.Client, slot_id: int) -> int:
    held = client.post("/appointments/me", json={"slot": slot_id})
    assert held.status_code == 201, held.text
    token = held.json()["appointmentId"]
    booked = client.put("/appointments/me", json={"slot": slot_id, "appointmentId": token})
    assert booked.status_code == 200, booked.text
    return int(booked.json()["appointment_id"])


def _book_at_desk(clinic: Clinic, desk: Actor, patient_id: int, slot_id: int) -> int:
    hold = scheduling.hold_slot(clinic, desk, slot_id, patient_id)
    return scheduling.confirm_booking(clinic, desk, slot_id, patient_id, token=hold.token).id


def _listed(client: httpx.Client) -> dict[int, dict[str, object]]:
    answer = client.get("/appointments")
    assert answer.status_code == 200, answer.text
    return {item["appointment_id"]: item for item in answer.json()}


class Hosts:
    """Two servers on one store (two hosts behind a balancer), each noting what reached its
    router (so a test knows which answers the kept path gave)."""

    def __init__(self, serve: Callable[..., LiveServer]) -> None:
        self.calls = [RouterCalls(), RouterCalls()]
        self.one = serve(customize=self.calls[0], **LONG_AGE)
        self.two = serve(customize=self.calls[1], **LONG_AGE)
        self.clinic = self.one.clinic


@pytest.fixture
def hosts(serve: Callable[..., LiveServer], postgres_only: None) -> Hosts:
    return Hosts(serve)


def _kept_read(client: httpx.Client, calls: RouterCalls) -> httpx.Response:
    """A read the kept path answered (the route keeps it first when needed)."""
    client.get("/appointments")
    mark = len(calls.paths)
    answer = client.get("/appointments")
    assert calls.since(mark) == [], "the kept list did not answer"
    return answer


def test_the_kept_list_is_the_routes_answer_byte_for_byte(hosts: Hosts) -> None:
    api, calls = hosts.one, hosts.calls[0]
    doctor = api.doctor()
    record, user = api.patient_user()
    with api.client(cookie=api.session_for(user)) as patient:
        for slot in _free_slots(api.clinic, doctor.doctor_id, 3):
            _book_online(patient, slot)
        mark = len(calls.paths)
        first = patient.get("/appointments")
        second = patient.get("/appointments")
        assert calls.since(mark) == ["/appointments"], "the second read reached the router"
    assert first.status_code == 200 and len(first.json()) == 3
    assert _compared(second) == _compared(first)
    # The bytes FastAPI rendered from `response_model=list[BookingAppointment]` before the
    # list was kept: the same route shape, answering the same records.
    actor = accounts.verify_token(api.clinic, api.session_for(user))
    reference = FastAPI()

    @reference.get("/appointments", response_model=list[booking.BookingAppointment])
    def listed() -> list[booking.BookingAppointment]:
        records = scheduling.my_appointments(api.clinic, actor)
        return [booking._appointment(item, api.clinic) for item in records]

    async def render() -> httpx.Response:
        transport = httpx.ASGITransport(reference)
        async with httpx.AsyncClient(transport=transport, base_url=api.url) as plain:
            return await plain.get("/appointments")

    rendered = asyncio.run(render())
    assert second.content == rendered.content
    assert second.headers["content-type"] == rendered.headers["content-type"]
    assert {item["patient_id"] for item in second.json()} == {record.id}


def test_patients_interleaving_never_see_each_others_lists(hosts: Hosts) -> None:
    api = hosts.one
    doctor = api.doctor()
    slots = _free_slots(api.clinic, doctor.doctor_id, 4)
    people = []
    for index in range(2):
        record, user = api.patient_user()
        access = api.token_for(user)
        people.append((record, api.client(access), api.client(cookie=api.session_for(user))))
        with api.client(access) as client:
            _book_online(client, slots[2 * index])
            _book_online(client, slots[2 * index + 1])
    try:
        seen: dict[int, set[bytes]] = {record.id: set() for record, _, _ in people}
        for _ in range(6):
            for record, bearer, cookie in people + people[::-1]:
                for client in (bearer, cookie):
                    answer = client.get("/appointments")
                    assert answer.status_code == 200
                    assert {item["patient_id"] for item in answer.json()} == {record.id}
                    seen[record.id].add(answer.content)
        # One list each, and not the same one.
        (a,), (b,) = seen.values()
        assert a != b
    finally:
        for _, bearer, cookie in people:
            bearer.close()
            cookie.close()


def test_every_change_shows_in_the_next_read_on_either_host(hosts: Hosts) -> None:
    clinic = hosts.clinic
    doctor = hosts.one.doctor()
    _, desk = factories.staff(clinic)
    record, user = hosts.one.patient_user()
    actor = factories.patient_actor(clinic, record)
    slots = _free_slots(clinic, doctor.doctor_id, 4)
    cookie = hosts.one.session_for(user)

    def truth() -> list[object]:
        """The list as the services read it now."""
        return json.loads(booking.encode_appointments(clinic, actor))

    def both_kept() -> None:
        for client, calls in ((one, hosts.calls[0]), (two, hosts.calls[1])):
            assert _kept_read(client, calls).json() == truth()

    with hosts.one.client(cookie=cookie) as one, hosts.two.client(cookie=cookie) as two:
        booked = _book_online(one, slots[0])
        both_kept()
        # Booked by the patient on host one: neither host answers its kept list.
        online = _book_online(one, slots[1])
        assert two.get("/appointments").json() == truth()
        assert one.get("/appointments").json() == truth()
        assert len(truth()) == 2
        both_kept()
        # Booked, moved and cancelled by a desk (through the services, as a desktop does).
        at_desk = _book_at_desk(clinic, desk, record.id, slots[2])
        assert two.get("/appointments").json() == one.get("/appointments").json() == truth()
        assert at_desk in _listed(one)
        both_kept()
        before = _listed(two)[at_desk]
        scheduling.reschedule_appointment(clinic, desk, at_desk, slots[3])
        assert two.get("/appointments").json() == one.get("/appointments").json() == truth()
        assert _listed(two)[at_desk] != before
        both_kept()
        before = _listed(one)[booked]
        scheduling.cancel_appointment(clinic, desk, booked)
        assert two.get("/appointments").json() == one.get("/appointments").json() == truth()
        assert _listed(one)[booked]["status"] != before["status"]
        # Cancelled by the patient on host two: host one's next read shows it.
        both_kept()
        before = _listed(one)[online]
        assert two.delete(f"/appointments/{online}").status_code == 204
        assert one.get("/appointments").json() == truth()
        assert _listed(one)[online]["status"] != before["status"]


def test_a_log_out_on_one_host_is_refused_by_the_other_with_its_checks_kept(
    hosts: Hosts,
) -> None:
    _, user = hosts.one.patient_user()
    cookie = hosts.one.session_for(user)
    with hosts.one.client(cookie=cookie) as one, hosts.two.client(cookie=cookie) as two:
        _kept_read(two, hosts.calls[1])
        assert one.delete("/sessions").status_code == 204
        refused = two.get("/appointments")
        assert refused.status_code == 401, refused.text
    # The hospital API's access token, ended by its log-out on host two.
    tokens = accounts.issue_tokens(hosts.clinic, user)
    with hosts.one.client(tokens.access) as one, hosts.two.client(tokens.access) as two:
        _kept_read(one, hosts.calls[0])
        assert one.get("/api/user/profiles/me/").status_code == 200
        assert two.post("/api/user/logout/", json={"refresh": tokens.refresh}).status_code == 200
        assert one.get("/appointments").status_code == 401
        assert one.get("/api/user/profiles/me/").status_code == 401


def test_a_deactivated_account_is_refused_at_once_everywhere(hosts: Hosts) -> None:
    _, user = hosts.one.patient_user()
    access = hosts.one.token_for(user)
    with hosts.one.client(access) as one, hosts.two.client(access) as two:
        _kept_read(one, hosts.calls[0])
        _kept_read(two, hosts.calls[1])
        accounts.set_active(hosts.clinic, SYSTEM, user.id, False)
        assert one.get("/appointments").status_code == 401
        assert two.get("/appointments").status_code == 401
        accounts.set_active(hosts.clinic, SYSTEM, user.id, True)
        assert one.get("/appointments").status_code == 200


def test_a_reset_password_binds_a_kept_check_at_once(hosts: Hosts) -> None:
    """A reset password leaves its owner nothing but a password change, at once: a check
    kept before the reset is not used after it (a renamed account, likewise)."""
    member, _ = factories.staff(hosts.clinic, Role.DOCTOR)
    _, admin = factories.staff(hosts.clinic, Role.ADMIN)
    access = hosts.one.token_for(member)
    with hosts.two.client(access) as two:
        for _ in range(2):
            assert two.get("/desk/v1/session").status_code == 200
            assert two.get("/appointments").status_code == 200
        staff.reset_password(hosts.clinic, admin, member.id)
        refused = two.get("/appointments")
        assert refused.status_code == 403, refused.text
        assert two.get("/desk/v1/session").json()["must_change_password"] is True


def test_an_answer_kept_for_one_role_is_never_anothers(hosts: Hosts) -> None:
    """The patient's list is kept; a doctor's schedule and a desk's refusal are answered by
    the route every time, whatever the kept path holds."""
    api = hosts.one
    doctor = api.doctor()
    record, user = api.patient_user()
    _, desk = factories.staff(api.clinic)
    _book_at_desk(api.clinic, desk, record.id, _free_slots(api.clinic, doctor.doctor_id, 1)[0])
    desk_user = accounts.get_user(api.clinic, SYSTEM, desk.user_id or 0)
    callers = {
        "patient": api.token_for(user),
        "doctor": api.token_for(doctor.user),
        "desk": api.token_for(desk_user),
    }
    first: dict[str, tuple[int, bytes, dict[str, str]]] = {}
    for _ in range(3):
        for role, token in callers.items():
            with api.client(token) as client:
                answer = _compared(client.get("/appointments"))
            assert first.setdefault(role, answer) == answer, role
    assert first["patient"][0] == first["doctor"][0] == 200
    assert first["patient"][1] == first["doctor"][1]  # one appointment, seen by both
    assert first["desk"][0] == 403  # neither a patient nor a doctor
    with api.client() as anonymous:
        assert anonymous.get("/appointments").status_code == 401


@pytest.fixture
def redis_behind_proxy(
    store: StoreSpec, postgres_only: None
) -> Iterator[tuple[Clinic, LiveServer, TcpProxy]]:
    """A server whose Redis is behind a proxy the test cuts; the test's clinic reaches Redis
    directly (another host, still writing)."""
    host, port = store.redis_url.removeprefix("redis://").split("/")[0].split(":")
    proxy = TcpProxy(host, int(port))
    limits = {"rate_limit_default": GENEROUS_LIMIT, **LONG_AGE}
    direct = open_clinic(store.settings(**limits), migrate=False)
    behind = store.settings(**limits).model_copy(
        update={"redis_url": store.redis_url.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}")}
    )
    server = ServerThread(open_clinic(behind, migrate=False)).start()
    try:
        yield direct, LiveServer(server.url, server.clinic), proxy
    finally:
        server.stop()
        server.clinic.close()
        direct.close()
        proxy.close()


def test_with_redis_away_a_kept_check_is_never_trusted(
    redis_behind_proxy: tuple[Clinic, LiveServer, TcpProxy],
) -> None:
    direct, api, proxy = redis_behind_proxy
    _, user = api.patient_user()
    access = api.token_for(user)
    with api.client(access) as client:
        for _ in range(2):
            assert client.get("/appointments").status_code == 200
        proxy.cut()
        try:
            # Not the kept list: SQL checks the token, and the budget (in Redis) is a 503.
            away = client.get("/appointments")
            assert away.status_code == 503, away.text
            # Deactivated elsewhere while this server cannot read the keys: SQL refuses it.
            accounts.set_active(direct, SYSTEM, user.id, False)
            refused = client.get("/appointments")
            assert refused.status_code == 401, refused.text
        finally:
            proxy.restore()
        assert client.get("/appointments").status_code == 401


def test_an_account_write_that_cannot_tell_the_servers_is_refused(
    redis_behind_proxy: tuple[Clinic, LiveServer, TcpProxy],
) -> None:
    _, api, proxy = redis_behind_proxy
    _, user = api.patient_user()
    proxy.cut()
    try:
        with pytest.raises(RedisUnavailable):
            accounts.set_active(api.clinic, SYSTEM, user.id, False)
    finally:
        proxy.restore()
    with api.clinic.db.read() as session:
        assert session.scalar(select(User.is_active).where(User.id == user.id)) is True
