"""Many desks racing for one slot: exactly one appointment, everyone else a documented error."""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.errors import (
    DomainError,
    HoldNotYours,
    InvalidTransition,
    LoginThrottled,
    NoHoldFound,
    PhoneTaken,
    SlotAlreadyBooked,
    SlotLocked,
    TokenInvalid,
    UsernameTaken,
)
from hms_desktop.domain.models import Actor, AppointmentRecord, Hold
from hms_desktop.services import accounts, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services import desk_process
from tests.services.support import attempt, free_slot_ids, live_appointments
from tests.stores import StoreSpec

DOCUMENTED = (SlotLocked, SlotAlreadyBooked, NoHoldFound, HoldNotYours)
THREADS = 32
PROCESSES = 8


def _hold_then_confirm(
    clinic: Clinic, slot_id: int, patient_id: int, barrier: threading.Barrier
) -> AppointmentRecord | DomainError:
    _, desk = factories.staff(clinic)
    barrier.wait(timeout=60)
    try:
        hold = scheduling.hold_slot(clinic, desk, slot_id, patient_id)
        return scheduling.confirm_booking(clinic, desk, slot_id, patient_id, token=hold.token)
    except DomainError as error:
        return error


def _assert_one_winner(outcomes: Iterable[AppointmentRecord | DomainError]) -> None:
    outcomes = list(outcomes)
    winners = [o for o in outcomes if isinstance(o, AppointmentRecord)]
    losers = [o for o in outcomes if not isinstance(o, AppointmentRecord)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(error, DOCUMENTED) for error in losers), losers


@pytest.mark.slow
def test_32_desks_race_to_hold_and_confirm_one_slot(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    doc = factories.doctor(clinic)
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    patients = [factories.patient(clinic).id for _ in range(THREADS)]
    # Half the desks share this process's Clinic, half have a Clinic (pools, clients) of their own.
    desks = [clinic if n % 2 == 0 else open_store() for n in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        futures = [
            pool.submit(_hold_then_confirm, desk, slot, patient, barrier)
            for desk, patient in zip(desks, patients, strict=True)
        ]
        outcomes = [future.result(timeout=120) for future in futures]
    _assert_one_winner(outcomes)
    (winner,) = [o for o in outcomes if isinstance(o, AppointmentRecord)]
    assert live_appointments(clinic, [slot]) == [(winner.id, slot)]
    assert clinic.locks.get(slot) is None


@pytest.mark.slow
def test_separate_processes_race_to_book_one_slot(clinic: Clinic, store: StoreSpec) -> None:
    doc = factories.doctor(clinic)
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    patients = [factories.patient(clinic).id for _ in range(PROCESSES)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    results = context.Queue()
    workers = [
        context.Process(
            target=desk_process.book, args=(store.settings(), slot, patient, barrier, results)
        )
        for patient in patients
    ]
    try:
        for worker in workers:
            worker.start()
        outcomes = _collect(results, workers, deadline=time.monotonic() + 120)
        for worker in workers:
            worker.join(timeout=30)
            assert worker.exitcode == 0
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
    booked = [value for kind, value in outcomes if kind == "booked"]
    errors = [value for kind, value in outcomes if kind == "error"]
    assert len(booked) == 1, outcomes
    assert set(errors) <= {error.__name__ for error in DOCUMENTED}, errors
    assert live_appointments(clinic, [slot]) == [(booked[0], slot)]


def _collect(results: Any, workers: list[Any], *, deadline: float) -> list[tuple[str, int | str]]:
    """Every worker's result; fails at once if a worker died without giving one."""
    outcomes: list[tuple[str, int | str]] = []
    while len(outcomes) < len(workers):
        assert time.monotonic() < deadline, f"workers gave only {outcomes}"
        try:
            outcomes.append(results.get(timeout=0.5))
        except queue.Empty:
            crashed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
            assert not crashed, f"a worker process crashed (exit codes {crashed})"
    return outcomes


class AlwaysGrantingLocks:
    """A lock store that lets every desk believe it holds the slot (as if Redis lied)."""

    def __init__(self) -> None:
        self._holds: dict[int, Hold] = {}

    def acquire(self, hold: Hold, ttl_ms: int, *, max_per_patient: int = 0) -> Hold:
        self._holds[hold.slot_id] = hold
        return hold

    def get(self, slot_id: int) -> Hold | None:
        return self._holds.get(slot_id)

    def get_many(self, slot_ids: Iterable[int]) -> dict[int, Hold]:
        return {}

    def release(self, slot_id: int, token: str) -> bool:
        return self._holds.pop(slot_id, None) is not None

    def ping(self) -> None:
        """Always reachable."""

    def close(self) -> None:
        """Nothing to close."""


def _forged_hold(slot_id: int, patient_id: int, holder: Actor) -> Hold:
    return Hold(f"forged-{patient_id}", slot_id, patient_id, holder.user_id, "forger", datetime.max)


@pytest.mark.slow
def test_database_index_alone_stops_a_double_booking(clinic: Clinic) -> None:
    """With the lock store out of the picture, the partial unique index is the last guard."""
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    racers = 8
    patients = [factories.patient(clinic).id for _ in range(racers)]
    desks = []
    for patient in patients:
        locks = AlwaysGrantingLocks()
        locks.acquire(_forged_hold(slot, patient, desk), 0)
        desks.append(dataclasses.replace(clinic, locks=locks))
    barrier = threading.Barrier(racers)

    def confirm(forged: Clinic, patient: int) -> AppointmentRecord | DomainError:
        barrier.wait(timeout=60)
        try:
            return scheduling.confirm_booking(forged, desk, slot, patient)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(racers) as pool:
        outcomes = list(pool.map(confirm, desks, patients, timeout=120))
    winners = [o for o in outcomes if isinstance(o, AppointmentRecord)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, SlotAlreadyBooked) for o in outcomes if o is not winners[0])
    assert live_appointments(clinic, [slot]) == [(winners[0].id, slot)]

    # Once cancelled, the slot can be booked again through the same forged path.
    scheduling.cancel_appointment(clinic, desk, winners[0].id)
    loser_desk, loser_patient = next(
        (d, p) for d, p, o in zip(desks, patients, outcomes, strict=True) if o is not winners[0]
    )
    loser_desk.locks.acquire(_forged_hold(slot, loser_patient, desk), 0)
    rebooked = scheduling.confirm_booking(loser_desk, desk, slot, loser_patient)
    assert live_appointments(clinic, [slot]) == [(rebooked.id, slot)]


@pytest.mark.parametrize("field", ["phone", "username"])
def test_concurrent_registrations_of_one_phone_or_username(
    clinic: Clinic, open_store: Callable[..., Clinic], field: str
) -> None:
    """Two desks registering the same person at once: one record, the other a clear error."""
    racers = 8
    desks = [(open_store(), factories.staff(clinic)[1]) for _ in range(racers)]
    fields = {"phone": "+44 7700 900123"} if field == "phone" else {"username": "same-login"}
    fields |= {"password": factories.PASSWORD} if field == "username" else {}
    barrier = threading.Barrier(racers)

    def register(desk: tuple[Clinic, Any]) -> object:
        barrier.wait(timeout=60)
        try:
            return factories.patient(desk[0], desk[1], **fields)
        except DomainError as error:
            return error

    with ThreadPoolExecutor(racers) as pool:
        outcomes = list(pool.map(register, desks, timeout=120))
    errors = [o for o in outcomes if isinstance(o, DomainError)]
    assert len(outcomes) - len(errors) == 1, outcomes
    expected = PhoneTaken if field == "phone" else UsernameTaken
    assert all(isinstance(error, expected) for error in errors), errors


def test_parallel_password_guessing_is_counted_in_full(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    """Failed log-ins counted by racing desks must all count, or parallel guessing from one
    place evades the throttle."""
    failures_allowed = 5
    limits = {"rate_limit_login": f"{failures_allowed}/minute"}
    desks = [open_store(**limits) for _ in range(4)]
    user, _ = factories.staff(clinic)
    guesses = 4 * failures_allowed
    barrier = threading.Barrier(guesses)

    def guess(number: int) -> str:
        barrier.wait(timeout=60)
        desk = desks[number % len(desks)]
        try:
            accounts.log_in(desk, user.username, f"guess-{number}", client="10.0.0.66")
        except DomainError as error:
            return type(error).__name__
        return "logged in"

    with ThreadPoolExecutor(guesses) as pool:
        outcomes = list(pool.map(guess, range(guesses), timeout=120))
    assert set(outcomes) <= {"AuthenticationFailed", "LoginThrottled"}, outcomes
    # Shared counters: at most the allowed number of guesses were even checked.
    assert outcomes.count("AuthenticationFailed") <= failures_allowed
    with pytest.raises(LoginThrottled):
        accounts.log_in(desks[0], user.username, factories.PASSWORD, client="10.0.0.66")


@pytest.mark.slow
def test_a_cancel_and_a_status_change_racing_cannot_both_win(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    """Cancelled then arrived, or arrived then cancelled, are both invalid: one must lose."""
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    doctors_desk = open_store()
    rounds = 12
    both_won = []
    for slot in free_slot_ids(clinic, doc.doctor_id, rounds):
        patient = factories.patient(clinic, desk).id
        hold = scheduling.hold_slot(clinic, desk, slot, patient)
        appointment = scheduling.confirm_booking(clinic, desk, slot, patient, token=hold.token)
        barrier = threading.Barrier(2)

        def cancel(number: int = appointment.id, start: threading.Barrier = barrier) -> object:
            start.wait(timeout=30)
            return attempt(lambda: scheduling.cancel_appointment(clinic, desk, number))

        def arrive(number: int = appointment.id, start: threading.Barrier = barrier) -> object:
            start.wait(timeout=30)
            return attempt(
                lambda: scheduling.set_status(
                    doctors_desk, doc.actor, number, AppointmentStatus.ARRIVED
                )
            )

        with ThreadPoolExecutor(2) as pool:
            cancelled, arrived = pool.submit(cancel), pool.submit(arrive)
            outcomes = (cancelled.result(timeout=60), arrived.result(timeout=60))
        losers = [o for o in outcomes if isinstance(o, DomainError)]
        assert all(isinstance(o, InvalidTransition) for o in losers), outcomes
        if not losers:
            both_won.append(appointment.id)
        final = scheduling.get_appointment(clinic, desk, appointment.id).status
        winner = outcomes[0] if not isinstance(outcomes[0], DomainError) else outcomes[1]
        assert final is winner.status  # type: ignore[union-attr]
    assert both_won == []


def test_logging_out_twice_at_once_revokes_once(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    user, _ = factories.staff(clinic)
    refresh = accounts.issue_tokens(clinic, user).refresh
    desks = [open_store() for _ in range(4)]
    barrier = threading.Barrier(len(desks))

    def log_out(desk: Clinic) -> object:
        barrier.wait(timeout=30)
        return attempt(lambda: accounts.revoke_token(desk, refresh))

    with ThreadPoolExecutor(len(desks)) as pool:
        outcomes = list(pool.map(log_out, desks, timeout=60))
    assert outcomes == [None] * len(desks)
    with pytest.raises(TokenInvalid):
        accounts.refresh_access(clinic, refresh)


def test_two_desks_assigning_one_request_at_once(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk).id
    request = scheduling.request_appointment(
        clinic, desk, doctor_id=doc.doctor_id, patient_id=patient
    )
    slots = free_slot_ids(clinic, doc.doctor_id, 4)
    desks = [open_store() for _ in slots]
    barrier = threading.Barrier(len(slots))

    def assign(pair: tuple[Clinic, int]) -> object:
        barrier.wait(timeout=30)
        return attempt(lambda: scheduling.assign_request(pair[0], desk, request.id, pair[1]))

    with ThreadPoolExecutor(len(slots)) as pool:
        outcomes = list(pool.map(assign, zip(desks, slots, strict=True), timeout=60))
    winners = [o for o in outcomes if isinstance(o, AppointmentRecord)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, InvalidTransition) for o in outcomes if o is not winners[0])
    assert live_appointments(clinic, slots) == [(request.id, winners[0].slot_id)]
