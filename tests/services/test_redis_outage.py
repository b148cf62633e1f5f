"""Redis dies in the middle of a storm: clear errors, never a double booking, and recovery."""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest
import redis

from hms_desktop.domain.errors import LockStoreUnavailable
from hms_desktop.services import scheduling
from hms_desktop.services.clinic import Clinic, open_clinic
from tests import factories
from tests.services.support import EventRecorder, free_slot_ids
from tests.services.test_storm import (
    EXPECTED,
    PATIENTS,
    SLOTS,
    Storm,
    assert_no_double_booking_and_nothing_lost,
    run_storm,
)
from tests.stores import StoreSpec

REDIS_SERVER = "/usr/bin/redis-server"
OPERATIONS = 900


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A throw-away redis-server of the test's own, on a fixed port so it can come back."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [
                *(REDIS_SERVER, "--save", "", "--appendonly", "no"),
                *("--port", str(self.port), "--bind", "127.0.0.1"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return
                except redis.ConnectionError:
                    assert self._process.poll() is None, "redis-server exited at start"
                    assert time.monotonic() < deadline, "redis-server did not answer in 10 s"
                    time.sleep(0.05)
        finally:
            client.close()

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None


@pytest.fixture
def own_redis(store: StoreSpec) -> Iterator[RedisServer]:
    if store.name != "postgres":
        pytest.skip("the built-in lock store has no server to kill")
    server = RedisServer(_free_port())
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture
def clinic_on_own_redis(store: StoreSpec, own_redis: RedisServer) -> Iterator[Clinic]:
    clinic = open_clinic(
        dataclasses.replace(store, redis_url=own_redis.url).settings(hold_ttl_minutes=0.01),
        migrate=False,
    )
    try:
        yield clinic
    finally:
        clinic.close()


def _wait_for(done: int, storm: Storm, deadline: float) -> None:
    while sum(storm.outcomes.values()) < done:
        assert time.monotonic() < deadline, f"the storm stalled: {storm.outcomes}"
        time.sleep(0.01)


@pytest.mark.slow
def test_redis_dies_mid_storm_and_comes_back(
    clinic_on_own_redis: Clinic, own_redis: RedisServer
) -> None:
    clinic = clinic_on_own_redis
    doc = factories.doctor(clinic)
    slots = free_slot_ids(clinic, doc.doctor_id, SLOTS)
    patients = [factories.patient(clinic).id for _ in range(PATIENTS)]
    desks = [(clinic, factories.staff(clinic)[1]) for _ in range(4)]
    storm = Storm(desks, slots, patients, seed=11, expected=(*EXPECTED, LockStoreUnavailable))
    failures: list[BaseException] = []

    def pull_the_plug() -> None:
        try:
            deadline = time.monotonic() + 120
            _wait_for(OPERATIONS // 3, storm, deadline)
            storm.phase = "killing"
            own_redis.kill()
            storm.phase = "redis down"
            _wait_for(2 * OPERATIONS // 3, storm, deadline)
            # Hold the rest of the storm back while Redis restarts, so some of it runs after.
            storm.pause()
            storm.phase = "restarting"
            storm.drain("redis down")
            own_redis.start()
            storm.phase = "redis back"
            storm.resume()
        except BaseException as error:  # noqa: BLE001 - re-raised in the test thread
            failures.append(error)
            storm.resume()

    controller = threading.Thread(target=pull_the_plug, daemon=True)
    controller.start()
    run_storm(storm, OPERATIONS)
    controller.join(timeout=30)
    assert not failures, failures
    assert not storm.unexpected, storm.unexpected[:5]

    down, back = storm.by_phase["redis down"], storm.by_phase["redis back"]
    assert down["LockStoreUnavailable"] > 0, storm.by_phase
    assert down["booked"] == 0 and down["held"] == 0, down
    assert back["LockStoreUnavailable"] == 0, back
    assert back["held"] + back["booked"] > 0, back
    assert_no_double_booking_and_nothing_lost(clinic, storm)


def test_lock_store_outage_is_a_clear_error_and_books_nothing(
    clinic_on_own_redis: Clinic, own_redis: RedisServer
) -> None:
    clinic = clinic_on_own_redis
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    first, second = free_slot_ids(clinic, doc.doctor_id, 2)
    patient = factories.patient(clinic, desk).id
    hold = scheduling.hold_slot(clinic, desk, first, patient)

    own_redis.kill()
    for call in (
        lambda: scheduling.hold_slot(clinic, desk, second, patient),
        lambda: scheduling.confirm_booking(clinic, desk, first, patient, token=hold.token),
    ):
        with pytest.raises(LockStoreUnavailable, match="Nothing was booked"):
            call()
    assert scheduling.list_appointments(clinic, desk).total == 0

    own_redis.start()  # an empty Redis: the old hold is gone with the server
    again = scheduling.hold_slot(clinic, desk, first, patient)
    booked = scheduling.confirm_booking(clinic, desk, first, patient, token=again.token)
    assert booked.slot_id == first


def test_event_subscribers_reconnect_when_redis_returns(
    clinic_on_own_redis: Clinic, own_redis: RedisServer
) -> None:
    clinic = clinic_on_own_redis
    recorder = EventRecorder()
    subscription = clinic.events.subscribe(recorder)
    try:
        clinic.publish("probe", extra={"n": 0})
        recorder.wait_for("probe")
        own_redis.kill()
        clinic.publish("probe", extra={"n": 1})  # lost, but must not raise
        own_redis.start()
        # The listener resubscribes on its own; keep publishing until it hears again.
        deadline = time.monotonic() + 15
        while True:
            clinic.publish("probe", extra={"n": 2})
            try:
                recorder.wait_for("probe", timeout=0.5, extra={"n": 2})
                break
            except AssertionError:
                assert time.monotonic() < deadline, "the subscriber never came back"
    finally:
        subscription.close()
