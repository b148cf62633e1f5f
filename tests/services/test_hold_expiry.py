"""A hold that runs out: the slot goes to the next patient and the stale token is worthless."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from hms_desktop.domain.errors import HoldNotYours, NoHoldFound
from hms_desktop.domain.models import SYSTEM, SlotState
from hms_desktop.services import doctors, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import free_slot_ids, live_appointments

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency

TTL_MINUTES = 0.01  # 600 ms


def _wait_until_expired(clinic: Clinic, slot_id: int) -> float:
    started = time.monotonic()
    while clinic.locks.get(slot_id) is not None:
        assert time.monotonic() - started < 10, "the hold never expired"
        time.sleep(0.05)
    return time.monotonic() - started


def test_an_expired_hold_frees_the_slot_and_its_token_is_stale(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(hold_ttl_minutes=TTL_MINUTES)
    other_desk = open_store(hold_ttl_minutes=TTL_MINUTES)
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    alice, bob = factories.patient(clinic, desk).id, factories.patient(clinic, desk).id

    stale = scheduling.hold_slot(clinic, desk, slot, alice)
    now = clinic.now()
    window = (now, now + timedelta(days=7))
    waited = _wait_until_expired(other_desk, slot)
    assert waited < 5
    assert slot in {s.id for s in doctors.free_slots(clinic, SYSTEM, [doc.doctor_id], *window)}
    (state,) = [
        c.state
        for c in scheduling.calendar(clinic, desk, [doc.doctor_id], *window)
        if c.slot.id == slot
    ]
    assert state is SlotState.FREE

    fresh = scheduling.hold_slot(other_desk, desk, slot, bob)
    assert fresh.token != stale.token and fresh.patient_id == bob
    with pytest.raises(NoHoldFound):
        scheduling.confirm_booking(clinic, desk, slot, alice, token=stale.token)
    with pytest.raises(HoldNotYours):
        scheduling.confirm_booking(clinic, desk, slot, alice)
    assert scheduling.release_hold(clinic, desk, slot, stale.token) is False
    booked = scheduling.confirm_booking(other_desk, desk, slot, bob, token=fresh.token)
    assert live_appointments(clinic, [slot]) == [(booked.id, slot)]


def test_a_stale_token_cannot_confirm_after_expiry_even_unchallenged(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(hold_ttl_minutes=TTL_MINUTES)
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    alice = factories.patient(clinic, desk).id
    stale = scheduling.hold_slot(clinic, desk, slot, alice)
    _wait_until_expired(clinic, slot)
    with pytest.raises(NoHoldFound):
        scheduling.confirm_booking(clinic, desk, slot, alice, token=stale.token)
    assert live_appointments(clinic, [slot]) == []
    # Holding again gives a new token, which does confirm.
    again = scheduling.hold_slot(clinic, desk, slot, alice)
    assert again.token != stale.token
    scheduling.confirm_booking(clinic, desk, slot, alice, token=again.token)
