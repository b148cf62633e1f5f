"""The speciality search reuses its encoded answer until a change event (or its age) ends it."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from hms_desktop.api.answer_cache import AnswerCache
from hms_desktop.domain.models import ChangeEvent
from hms_desktop.domain.schedule import iso_millis
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.events import InProcessEventBus
from tests import factories
from tests.api.conftest import LiveServer


class _Counter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> bytes:
        self.calls += 1
        return f"answer {self.calls}".encode()


def test_answer_is_reused_until_a_change_event() -> None:
    bus = InProcessEventBus()
    cache = AnswerCache(bus, max_age=60)
    compute = _Counter()

    assert cache.answer("key", compute) == b"answer 1"
    assert cache.answer("key", compute) == b"answer 1"
    bus.publish(ChangeEvent(kind="hold", slot_id=1))
    assert cache.answer("key", compute) == b"answer 2"
    assert compute.calls == 2
    cache.close()


def test_answer_expires_after_its_age() -> None:
    now = [100.0]
    cache = AnswerCache(InProcessEventBus(), max_age=1.0, clock=lambda: now[0])
    compute = _Counter()

    cache.answer("key", compute)
    now[0] += 0.5
    assert cache.answer("key", compute) == b"answer 1"
    now[0] += 0.6
    assert cache.answer("key", compute) == b"answer 2"


def test_answer_computed_during_a_change_is_not_kept() -> None:
    bus = InProcessEventBus()
    cache = AnswerCache(bus, max_age=60)
    calls = []

    def racing() -> bytes:
        calls.append(1)
        bus.publish(ChangeEvent(kind="book", slot_id=1))  # a desk books while we compute
        return b"maybe stale"

    cache.answer("key", racing)
    cache.answer("key", racing)
    assert len(calls) == 2


def test_zero_age_disables_the_cache() -> None:
    cache = AnswerCache(InProcessEventBus(), max_age=0)
    compute = _Counter()
    cache.answer("key", compute)
    cache.answer("key", compute)
    assert compute.calls == 2


def test_hold_on_another_desk_leaves_the_cached_listing_at_once(
    serve: Callable[..., LiveServer], open_store: Callable[..., Clinic]
) -> None:
    # A long cache age: only the change event can take the held slot out of the answer.
    api = serve(answer_cache_seconds=60)
    cardio = factories.speciality(api.clinic, "Cardiology")
    api.doctor(specialisation_ids=[cardio])
    _, user = api.patient_user()
    other_desk = open_store()
    _, desk = factories.staff(other_desk)
    walk_in = factories.patient(other_desk, desk)
    now = datetime.now(UTC)
    window = {"startTime": iso_millis(now), "endTime": iso_millis(now + timedelta(days=2))}

    def listed_slots() -> list[int]:
        response = patient.get("/doctors/specialities/cardiology", params=window)
        assert response.status_code == 200
        return [row["slot_id"] for row in response.json()]

    with api.client(cookie=api.session_for(user)) as patient:
        first = listed_slots()
        assert listed_slots() == first
        scheduling.hold_slot(other_desk, desk, first[0], walk_in.id)
        deadline = time.monotonic() + 5
        while first[0] in listed_slots():
            assert time.monotonic() < deadline, "the held slot is still offered"
            time.sleep(0.02)
        assert listed_slots() == first[1:]
