"""Real concurrency over HTTP: many patients race for one slot; two moves race for one."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx

from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import accounts, doctors, scheduling
from tests.api.conftest import LiveServer

CLIENTS = 30
RACE_MESSAGES = ({"error": "Slot is temporarily locked."}, {"error": "Slot is already booked."})


def _race(clients: list[httpx.Client], send) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    start = threading.Barrier(len(clients))

    def one(client: httpx.Client) -> httpx.Response:
        start.wait(timeout=30)
        return send(client)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        return list(pool.map(one, clients))


def test_thirty_patients_hold_one_slot_at_once(api: LiveServer) -> None:
    doc = api.doctor()
    now = api.clinic.now()
    (slot,) = doctors.free_slots(
        api.clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=1
    )
    clients = [api.client(cookie=api.session_for(api.patient_user()[1])) for _ in range(CLIENTS)]
    try:
        for client in clients:  # every connection open before the race starts
            assert client.get("/api/version").status_code == 200
        holds = _race(clients, lambda c: c.post("/appointments/me", json={"slot": slot.id}))
        winners = [i for i, response in enumerate(holds) if response.status_code == 201]
        assert len(winners) == 1, [r.status_code for r in holds]
        for response in holds:
            if response.status_code != 201:
                assert response.status_code == 422 and response.json() in RACE_MESSAGES

        confirms = _race(clients, lambda c: c.put("/appointments/me", json={"slot": slot.id}))
        assert [r.status_code for r in confirms].count(200) == 1
        assert confirms[winners[0]].status_code == 200
    finally:
        for client in clients:
            client.close()
    page = scheduling.list_appointments(
        api.clinic, accounts.actor_for(api.staff()), doctor_id=doc.doctor_id
    )
    assert [item.slot_id for item in page.items] == [slot.id]


def test_two_reschedules_into_one_free_slot(api: LiveServer) -> None:
    clinic = api.clinic
    desk = accounts.actor_for(api.staff())
    doc = api.doctor()
    now = clinic.now()
    first, second, target = doctors.free_slots(
        clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=3
    )
    patients = [api.patient_user(), api.patient_user()]
    booked = []
    for (record, _), slot in zip(patients, (first, second), strict=True):
        scheduling.hold_slot(clinic, desk, slot.id, record.id)
        booked.append(scheduling.confirm_booking(clinic, desk, slot.id, record.id).id)
    clients = [api.client(cookie=api.session_for(user)) for _, user in patients]
    try:
        for client in clients:
            client.get("/api/version")
        moves = [
            lambda c, appointment=appointment: c.put(
                f"/appointments/{appointment}", json={"slot": target.id}
            )
            for appointment in booked
        ]
        start = threading.Barrier(2)

        def run(index: int) -> httpx.Response:
            start.wait(timeout=30)
            return moves[index](clients[index])

        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(run, range(2)))
    finally:
        for client in clients:
            client.close()
    statuses = sorted(response.status_code for response in results)
    assert statuses == [200, 422], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 422)
    assert loser.json() in (
        {"error": "Slot is temporarily locked."},
        {"error": "Slot is already booked"},
    )
    page = scheduling.list_appointments(clinic, desk, doctor_id=doc.doctor_id)
    assert sorted(item.slot_id for item in page.items).count(target.id) == 1
