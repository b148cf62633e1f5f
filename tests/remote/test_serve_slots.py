"""`hms-desktop serve` keeps every doctor's slots ahead: it tops them up as it starts (and
hourly after), and still stops promptly."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Slot, WorkingHoursRow
from tests import factories
from tests.live_server import free_port
from tests.remote.serving import start_serve
from tests.stores import StoreSpec

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency


def _slots(clinic: Clinic, doctor_id: int) -> int:
    with clinic.db.read() as session:
        return session.scalar(select(func.count()).where(Slot.doctor_id == doctor_id)) or 0


def test_serve_tops_up_slots_at_start(
    store: StoreSpec, open_store: Callable[..., Clinic], tmp_path: Path
) -> None:
    clinic = open_store()
    doc = factories.doctor(clinic, hours=[])
    # Weekly hours but no slots: what a clinic looks like when nothing topped up for weeks.
    with clinic.db.transaction() as session:
        session.add_all(
            WorkingHoursRow(
                doctor_id=doc.doctor_id,
                weekday=w.weekday,
                start_time=w.start,
                end_time=w.end,
                slot_minutes=w.slot_minutes,
            )
            for w in factories.ALL_WEEK
        )
    assert _slots(clinic, doc.doctor_id) == 0
    process = start_serve(store, tmp_path, free_port())
    try:
        deadline = time.monotonic() + 30
        while _slots(clinic, doc.doctor_id) < 27 * 47:  # the horizon is 28 days
            assert time.monotonic() < deadline, "serve did not top up the slots"
            assert process.poll() is None, "serve exited"
            time.sleep(0.1)
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert process.wait(timeout=15) in (0, -signal.SIGTERM)
        # The keeper waits an hour between top-ups; a stop does not wait for it.
        assert time.monotonic() - stopping < 8
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
