"""A remote desk against a real `hms-desktop serve` process, and that process stopping
promptly (SIGTERM) even while desks hold event streams open."""

from __future__ import annotations

import queue
import signal
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from hms_desktop.client import RemoteBackend
from hms_desktop.domain.models import SYSTEM, ChangeEvent
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.contract.conftest import remote_settings
from tests.live_server import free_port
from tests.remote.serving import start_serve
from tests.stores import StoreSpec

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency


def test_remote_desk_through_serve_which_stops_promptly(
    store: StoreSpec, open_store: Callable[..., Clinic], tmp_path: Path
) -> None:
    clinic = open_store()
    user, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic)
    now = clinic.now()
    first, second = (
        s.id
        for s in doctors.free_slots(
            clinic, SYSTEM, [doc.doctor_id], now, now + timedelta(days=7), limit=2
        )
    )
    port = free_port()
    process = start_serve(store, tmp_path, port)
    remote = RemoteBackend(remote_settings(f"http://127.0.0.1:{port}"), backoff=0.05)
    try:
        remote.login(user.username, factories.PASSWORD)
        heard: queue.Queue[ChangeEvent] = queue.Queue()
        subscription = remote.subscribe(heard.put)
        booked = remote.confirm_booking(
            first, patient.id, remote.hold_slot(first, patient.id).token
        )
        hold = scheduling.hold_slot(clinic, desk, second, patient.id)
        # Across processes: through Redis, or the embedded file's change_events table.
        kinds = set()
        while ("hold", second) not in kinds:
            event = heard.get(timeout=5)
            kinds.add((event.kind, event.slot_id))
        assert remote.patient_history(patient.id) == [booked]
        assert hold.slot_id == second

        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        assert time.monotonic() - stopping < 12, "serve waited on the open event stream"
        subscription.close()
    finally:
        remote.close()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def test_serve_stops_within_two_seconds_with_open_event_streams_and_no_error(
    store: StoreSpec, open_store: Callable[..., Clinic], tmp_path: Path
) -> None:
    clinic = open_store()
    user, _ = factories.staff(clinic)
    port = free_port()
    log = tmp_path / "serve.log"
    # Several workers where Redis lets them share the clinic (the central setup).
    workers = 2 if store.redis_url else 1
    process = start_serve(store, tmp_path, port, log=log, level="INFO", workers=workers)
    remote = RemoteBackend(remote_settings(f"http://127.0.0.1:{port}"), backoff=0.05)
    other = RemoteBackend(remote_settings(f"http://127.0.0.1:{port}"), backoff=0.05)
    try:
        remote.login(user.username, factories.PASSWORD)
        other.login(user.username, factories.PASSWORD)
        streams = [remote.subscribe(lambda _e: None), other.subscribe(lambda _e: None)]
        assert all(getattr(stream, "connected", False) for stream in streams)

        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        took = time.monotonic() - stopping
        assert took < 2.0, f"serve ({workers} workers) took {took:.1f} s to stop with open streams"
        # uvicorn raises the signal again once it has shut down cleanly.
        assert process.returncode in (0, -signal.SIGTERM)
        text = log.read_text()
        assert "Shutting down" in text  # the log was captured
        assert "ERROR" not in text and "Traceback" not in text, text
        print(f"serve ({workers} workers) stopped in {took:.2f} s")  # noqa: T201  # README
    finally:
        remote.close()
        other.close()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
