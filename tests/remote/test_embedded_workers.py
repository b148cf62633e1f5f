"""The small clinic as the README starts it: `serve --workers 2` on one store, two remote
desks and a local desk on the server PC's own data. Each desk hears every other desk's hold,
booking, move and cancel within a second, whichever worker served whom."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from hms_desktop.client import RemoteBackend
from hms_desktop.domain.models import SYSTEM, ChangeEvent, SlotState
from hms_desktop.services import doctors
from hms_desktop.services.backend import Backend
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from tests import factories
from tests.contract.conftest import LIMITS, remote_settings
from tests.live_server import free_port
from tests.remote.serving import start_serve
from tests.stores import StoreSpec

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency

WITHIN = 1.0

Heard = queue.Queue[tuple[ChangeEvent, float]]


def _delay(heard: Heard, kind: str, slot_id: int, since: float) -> float:
    deadline = time.monotonic() + 10
    while True:
        event, at = heard.get(timeout=max(0.0, deadline - time.monotonic()))
        if event.kind == kind and event.slot_id == slot_id:
            return at - since


def _round(
    actor: str, desks: dict[str, tuple[Backend, Heard]], slots: list[int], patient_id: int
) -> dict[str, float]:
    """`actor` holds, books, moves and cancels; how long each other desk took to hear."""
    backend = desks[actor][0]
    others = {name: heard for name, (_, heard) in desks.items() if name != actor}
    delays: dict[str, float] = {}

    def heard_by_all(kind: str, slot_id: int, start: float) -> None:
        for name, heard in others.items():
            delays[f"{actor} {kind} → {name}"] = _delay(heard, kind, slot_id, start)

    start = time.time()
    hold = backend.hold_slot(slots[0], patient_id)
    heard_by_all("hold", slots[0], start)
    start = time.time()
    booked = backend.confirm_booking(slots[0], patient_id, hold.token)
    heard_by_all("book", slots[0], start)
    start = time.time()
    backend.reschedule(booked.id, slots[1])
    heard_by_all("reschedule", slots[1], start)
    start = time.time()
    backend.cancel(booked.id)
    heard_by_all("cancel", slots[1], start)
    return delays


def test_serve_with_two_workers_on_one_store_keeps_every_desk_live(
    store: StoreSpec, open_store: Callable[..., Clinic], tmp_path: Path
) -> None:
    clinic = open_store()
    doc = factories.doctor(clinic)
    patients = [factories.patient(clinic).id for _ in range(3)]
    now = clinic.now()
    slots = [
        s.id
        for s in doctors.free_slots(
            clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=7
        )
    ]
    port = free_port()
    process = start_serve(store, tmp_path, port, workers=2)
    desks: dict[str, tuple[Backend, Heard]] = {}
    try:
        backends: dict[str, Backend] = {
            "remote A": RemoteBackend(remote_settings(f"http://127.0.0.1:{port}"), backoff=0.05),
            "remote B": RemoteBackend(remote_settings(f"http://127.0.0.1:{port}"), backoff=0.05),
            "local": LocalBackend(open_store(**LIMITS)),
        }
        for name, backend in backends.items():
            user, _ = factories.staff(clinic)
            backend.login(user.username, factories.PASSWORD)
            heard: Heard = queue.Queue()
            backend.subscribe(lambda event, heard=heard: heard.put((event, time.time())))
            desks[name] = (backend, heard)

        delays: dict[str, float] = {}
        for number, name in enumerate(desks):
            delays |= _round(name, desks, slots[2 * number : 2 * number + 2], patients[number])

        # What the heard events redraw: a hold at one remote desk is another desk's on both.
        hold = desks["remote A"][0].hold_slot(slots[6], patients[0])
        window = (now, now + timedelta(days=7))
        for name in ("remote B", "local"):
            seen = {c.slot.id: c for c in desks[name][0].calendar([doc.doctor_id], *window)}
            assert seen[slots[6]].state is SlotState.HELD and seen[slots[6]].hold is not None
            assert seen[slots[6]].hold.token == "" != hold.token
    finally:
        for backend, _ in desks.values():
            backend.close()
        process.terminate()
        process.wait(timeout=30)
    assert max(delays.values()) < WITHIN, delays
    assert len(delays) == 3 * 4 * 2
