"""A storm of random concurrent holds, confirms, reschedules and cancels over a few slots."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from hms_desktop.domain.errors import (
    HoldNotYours,
    NoHoldFound,
    SlotAlreadyBooked,
    SlotLocked,
    TooManyHolds,
)
from hms_desktop.domain.models import Actor
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import free_slot_ids, live_appointments

OPERATIONS = 2000
WORKERS = 16
SLOTS = 5
PATIENTS = 20
HOLD_TTL_MINUTES = 0.01
# Refusals a desk meets in a busy clinic (a patient with three holds already, among them).
EXPECTED = (SlotLocked, SlotAlreadyBooked, NoHoldFound, HoldNotYours, TooManyHolds)


@dataclass
class PatientState:
    """What the desks know about one patient; one desk serves a patient at a time."""

    patient_id: int
    lock: threading.Lock = field(default_factory=threading.Lock)
    # slot id -> (hold token, the desk user holding it)
    tokens: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    appointments: dict[int, int] = field(default_factory=dict)  # appointment id -> slot id


class Storm:
    """Random operations by many desks; remembers every booking the services confirmed."""

    def __init__(
        self,
        desks: list[tuple[Clinic, Actor]],
        slots: list[int],
        patients: list[int],
        seed: int,
        expected: tuple[type[Exception], ...] = EXPECTED,
    ) -> None:
        self.desks = desks
        self.slots = slots
        self.patients = [PatientState(p) for p in patients]
        self.expected = expected
        self.outcomes: Counter[str] = Counter()
        # Outcomes by the phase the operation started in (set from outside, e.g. "redis down").
        self.phase = "start"
        self.by_phase: dict[str, Counter[str]] = {}
        self._in_flight: Counter[str] = Counter()
        self._going = threading.Event()
        self._going.set()
        self.unexpected: list[BaseException] = []
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    def _pick(self) -> tuple[Clinic, Actor, PatientState, int, float]:
        with self._lock:
            dice = self._random.random()
            # Reschedules and cancels go to patients who have something booked.
            booked = [p for p in self.patients if p.appointments] if dice >= 0.6 else []
            return (
                *self._random.choice(self.desks),
                self._random.choice(booked or self.patients),
                self._random.choice(self.slots),
                dice,
            )

    def _start(self) -> str:
        with self._lock:
            self._in_flight[self.phase] += 1
            return self.phase

    def _count(self, phase: str, outcome: str) -> None:
        with self._lock:
            self._in_flight[phase] -= 1
            self.outcomes[outcome] += 1
            self.by_phase.setdefault(phase, Counter())[outcome] += 1

    def drain(self, phase: str, timeout: float = 60) -> None:
        """Wait until no operation that started in `phase` is still running."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if self._in_flight[phase] == 0:
                    return
            assert time.monotonic() < deadline, f"operations of {phase!r} never finished"
            time.sleep(0.005)

    def pause(self) -> None:
        """Operations not yet begun wait until `resume`."""
        self._going.clear()

    def resume(self) -> None:
        self._going.set()

    def step(self, _: int) -> None:
        assert self._going.wait(timeout=60), "the storm was paused for good"
        clinic, desk, patient, slot, dice = self._pick()
        with patient.lock:
            phase = self._start()
            try:
                name = self._operate(clinic, desk, patient, slot, dice)
            except self.expected as error:
                name = type(error).__name__
            except Exception as error:  # noqa: BLE001 - collected and reported by the test
                with self._lock:
                    self.unexpected.append(error)
                name = "unexpected"
            self._count(phase, name)

    def _operate(
        self, clinic: Clinic, desk: Actor, patient: PatientState, slot: int, dice: float
    ) -> str:
        if patient.tokens and dice < 0.6:
            # The desk mostly goes on with a slot it holds for this patient.
            slot = sorted(patient.tokens)[int(dice * 1000) % len(patient.tokens)]
        if dice < 0.3 or (dice >= 0.6 and not patient.appointments):
            hold = scheduling.hold_slot(clinic, desk, slot, patient.patient_id)
            if dice > 0.15:
                patient.tokens[slot] = (hold.token, desk.user_id)
                return "held"
            # Now and then the patient says yes on the spot.
            booked = scheduling.confirm_booking(
                clinic, desk, slot, patient.patient_id, token=hold.token
            )
            patient.appointments[booked.id] = slot
            return "booked"
        if dice < 0.5:
            token, _ = patient.tokens.pop(slot, (None, None))
            booked = scheduling.confirm_booking(clinic, desk, slot, patient.patient_id, token=token)
            patient.appointments[booked.id] = slot
            return "booked"
        if dice < 0.6:
            token, holder = patient.tokens.pop(slot, ("no-such-token", desk.user_id))
            if holder == desk.user_id:
                released = scheduling.release_hold(clinic, desk, slot, token)
                return "released" if released else "nothing to release"
            # Another desk's hold: this desk lets it go explicitly (recorded in the audit).
            released = scheduling.take_over_hold(clinic, desk, slot)
            return "taken over" if released else "nothing to release"
        appointment_id = sorted(patient.appointments)[int(dice * 1000) % len(patient.appointments)]
        if dice < 0.85:
            # Desks move patients to slots they believe free; the guards decide who is right.
            taken = set(self.confirmed().values())
            untaken = [s for s in self.slots if s not in taken]
            slot = untaken[int(dice * 1000) % len(untaken)] if untaken else slot
            moved = scheduling.reschedule_appointment(clinic, desk, appointment_id, slot)
            assert moved.slot_id == slot
            patient.appointments[appointment_id] = slot
            return "rescheduled"
        scheduling.cancel_appointment(clinic, desk, appointment_id)
        del patient.appointments[appointment_id]
        return "cancelled"

    def confirmed(self) -> dict[int, int]:
        return {
            appointment: slot
            for patient in self.patients
            for appointment, slot in patient.appointments.items()
        }


def run_storm(storm: Storm, operations: int, workers: int = WORKERS) -> float:
    started = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(storm.step, range(operations), timeout=240))
    return time.monotonic() - started


def assert_no_double_booking_and_nothing_lost(clinic: Clinic, storm: Storm) -> None:
    live = live_appointments(clinic, storm.slots)
    slots = [slot for _, slot in live]
    assert len(slots) == len(set(slots)), f"two live appointments on one slot: {sorted(live)}"
    assert dict(live) == storm.confirmed()


@pytest.mark.slow
def test_storm_of_random_operations_never_double_books(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    doc = factories.doctor(clinic)
    slots = free_slot_ids(clinic, doc.doctor_id, SLOTS)
    patients = [factories.patient(clinic).id for _ in range(PATIENTS)]
    # Four desks: two share this process's Clinic, two have their own.
    # Holds last 0.6 s, so abandoned ones expire during the storm and slots change hands.
    shared = open_store(hold_ttl_minutes=HOLD_TTL_MINUTES)
    clinics = [shared, shared, *(open_store(hold_ttl_minutes=HOLD_TTL_MINUTES) for _ in "ab")]
    desks = [(desk_clinic, factories.staff(clinic)[1]) for desk_clinic in clinics]
    storm = Storm(desks, slots, patients, seed=20261121)

    elapsed = run_storm(storm, OPERATIONS)

    assert not storm.unexpected, storm.unexpected[:5]
    assert sum(storm.outcomes.values()) == OPERATIONS
    for done in ("held", "booked", "released", "rescheduled", "cancelled", "SlotLocked"):
        assert storm.outcomes[done] > 0, storm.outcomes
    assert_no_double_booking_and_nothing_lost(clinic, storm)
    print(f"storm: {OPERATIONS} operations in {elapsed:.1f} s; {dict(storm.outcomes)}")  # noqa: T201
