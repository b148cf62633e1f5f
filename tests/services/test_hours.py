"""Weekly hours and the slots they make: slots kept ahead as time passes (one process or
several at once), and an hours change that never loses a booked or held slot."""

from __future__ import annotations

import multiprocessing
import queue
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

import pytest
from sqlalchemy import func, select

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import SYSTEM, WorkingHours
from hms_desktop.domain.schedule import as_utc
from hms_desktop.services import doctors, hours, scheduling
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from hms_desktop.services.slot_keeper import SlotKeeper
from hms_desktop.store.tables import Slot, WorkingHoursRow
from tests import factories
from tests.services.support import free_slot_ids, table_counts
from tests.stores import StoreSpec

MORNINGS = [WorkingHours(day, clock_time(9), clock_time(12), 30) for day in range(5)]


def _slot_count(clinic: Clinic, doctor_id: int) -> tuple[int, int]:
    """All of a doctor's slots, and how many distinct starts they have."""
    with clinic.db.read() as session:
        return (
            session.scalar(select(func.count()).where(Slot.doctor_id == doctor_id)) or 0,
            session.scalar(
                select(func.count(func.distinct(Slot.start_at))).where(Slot.doctor_id == doctor_id)
            )
            or 0,
        )


def _free_within(clinic: Clinic, doctor_id: int, days: int) -> int:
    now = clinic.now()
    return len(doctors.free_slots(clinic, SYSTEM, [doctor_id], now, now + timedelta(days=days)))


def test_free_slots_exist_again_after_the_clock_passes_the_horizon(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(booking_horizon_days=14)
    start = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)  # a Monday morning
    clinic.clock = lambda: start
    doc = factories.doctor(clinic, hours=MORNINGS)
    assert _free_within(clinic, doc.doctor_id, 14) == 10 * 6
    assert not hours.needs_top_up(clinic)
    assert hours.top_up(clinic) == 0

    later = start + timedelta(days=20)  # past every slot made so far
    clinic.clock = lambda: later
    assert _free_within(clinic, doc.doctor_id, 14) == 0
    assert hours.needs_top_up(clinic)
    made = hours.top_up(clinic)
    assert made == 10 * 6  # two working weeks of six morning slots a day
    assert _free_within(clinic, doc.doctor_id, 14) == made
    assert hours.top_up(clinic) == 0 and not hours.needs_top_up(clinic)

    # `later` is a Sunday: a day later a Sunday enters the horizon (no hours), a day after
    # that a Monday, and only its six slots are made.
    clinic.clock = lambda: later + timedelta(days=1)
    assert hours.top_up(clinic) == 0
    clinic.clock = lambda: later + timedelta(days=2)
    assert hours.top_up(clinic) == 6


def test_top_up_leaves_removed_slots_inside_the_covered_range_alone(clinic: Clinic) -> None:
    doc = factories.doctor(clinic, hours=MORNINGS)
    before, _ = _slot_count(clinic, doc.doctor_id)
    (first,) = free_slot_ids(clinic, doc.doctor_id, 1, days_ahead=7)
    with clinic.db.transaction() as session:
        session.execute(Slot.__table__.delete().where(Slot.id == first))
    assert hours.top_up(clinic) == 0
    assert _slot_count(clinic, doc.doctor_id) == (before - 1, before - 1)


@pytest.mark.parametrize("processes", [2])
def test_processes_topping_up_at_once_make_each_slot_once(
    clinic: Clinic, store: StoreSpec, processes: int
) -> None:
    doc = factories.doctor(clinic, hours=[])
    # The hours alone, without their slots: as if nothing had topped up for a month.
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
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    from tests.services import top_up_process

    workers = [
        context.Process(target=top_up_process.top_up, args=(store.settings(), barrier, results))
        for _ in range(processes)
    ]
    made: list[int] = []
    try:
        for worker in workers:
            worker.start()
        deadline = time.monotonic() + 120
        while len(made) < processes:
            assert time.monotonic() < deadline, f"workers gave only {made}"
            try:
                made.append(results.get(timeout=0.5))
            except queue.Empty:
                crashed = [w.exitcode for w in workers if w.exitcode not in (None, 0)]
                assert not crashed, f"a top-up process crashed (exit codes {crashed})"
        for worker in workers:
            worker.join(timeout=30)
            assert worker.exitcode == 0
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.kill()
                worker.join(timeout=5)
    total, distinct = _slot_count(clinic, doc.doctor_id)
    assert total == distinct > 28 * 40  # ~47 half-hour slots a day, four weeks
    # Each slot was made by exactly one of them, and each counted only what it made.
    assert sum(made) == total, made


def test_an_hours_change_keeps_booked_and_held_slots(open_store: Callable[..., Clinic]) -> None:
    clinic, other_desk = open_store(booking_horizon_days=7), open_store(booking_horizon_days=7)
    _, admin = factories.staff(clinic, Role.ADMIN)
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)  # all week, 00:00-23:30 in half hours
    patient, other = factories.patient(clinic).id, factories.patient(clinic).id
    booked_slot, held_slot, free_slot = free_slot_ids(clinic, doc.doctor_id, 3)
    hold = scheduling.hold_slot(clinic, desk, booked_slot, patient)
    booked = scheduling.confirm_booking(clinic, desk, booked_slot, patient, token=hold.token)
    held = scheduling.hold_slot(other_desk, desk, held_slot, other)

    saved = hours.change_working_hours(clinic, admin, doc.doctor_id, [])

    assert saved.slots == 0 and saved.kept_held == 1
    assert [record.id for record in saved.outside] == [booked.id]
    with clinic.db.read() as session:
        left = set(
            session.scalars(
                select(Slot.id).where(Slot.doctor_id == doc.doctor_id, Slot.start_at > clinic.now())
            )
        )
    assert left == {booked_slot, held_slot} and free_slot not in left
    # The held slot can still be booked by the desk that held it.
    confirmed = scheduling.confirm_booking(other_desk, desk, held_slot, other, token=held.token)
    assert confirmed.slot_id == held_slot
    assert scheduling.get_appointment(clinic, admin, booked.id).slot_id == booked_slot


def test_slots_that_fit_the_new_hours_keep_their_ids(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(booking_horizon_days=7)
    monday = datetime(2027, 1, 4, 6, 0, tzinfo=UTC)
    clinic.clock = lambda: monday
    doc = factories.doctor(clinic, hours=MORNINGS)
    with clinic.db.read() as session:
        nine = session.scalar(
            select(Slot.id).where(
                Slot.doctor_id == doc.doctor_id,
                Slot.start_at == datetime(2027, 1, 4, 9, 0, tzinfo=UTC),
            )
        )
    # Mornings shortened to 09:00-10:00, afternoons added: 9:00 stays the same slot.
    new = [WorkingHours(d, clock_time(9), clock_time(10), 30) for d in range(5)] + [
        WorkingHours(0, clock_time(14), clock_time(16), 60)
    ]
    saved = hours.change_working_hours(clinic, SYSTEM, doc.doctor_id, new)
    assert saved.slots == 5 * 2 + 2 and saved.outside == ()
    with clinic.db.read() as session:
        starts = {
            as_utc(row.start_at): row.id
            for row in session.execute(
                select(Slot.start_at, Slot.id).where(Slot.doctor_id == doc.doctor_id)
            )
        }
    assert starts[datetime(2027, 1, 4, 9, 0, tzinfo=UTC)] == nine
    assert datetime(2027, 1, 4, 11, 0, tzinfo=UTC) not in starts
    assert datetime(2027, 1, 4, 15, 0, tzinfo=UTC) in starts


def test_overlapping_windows_are_refused_naming_the_window(clinic: Clinic) -> None:
    doc = factories.doctor(clinic, hours=MORNINGS)
    before = table_counts(clinic)
    overlapping = [
        WorkingHours(0, clock_time(9), clock_time(17), 30),
        WorkingHours(1, clock_time(9), clock_time(12), 30),
        WorkingHours(0, clock_time(10), clock_time(11), 15),
        WorkingHours(0, clock_time(12), clock_time(13), 15),
    ]
    with pytest.raises(ValidationError) as refused:
        hours.change_working_hours(clinic, SYSTEM, doc.doctor_id, overlapping)
    assert refused.value.field == "hours.2.start"
    assert "Overlaps Monday 09:00-17:00" in refused.value.message
    assert table_counts(clinic) == before
    # Touching windows (one ends as the next starts) do not overlap.
    touching = [
        WorkingHours(0, clock_time(9), clock_time(12), 30),
        WorkingHours(0, clock_time(12), clock_time(13), 20),
    ]
    assert hours.change_working_hours(clinic, SYSTEM, doc.doctor_id, touching).slots > 0


@pytest.mark.latency  # a wall-clock bound: run alone in CI
def test_the_slot_keeper_tops_up_at_start_and_stops_promptly(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(booking_horizon_days=7)
    doc = factories.doctor(clinic, hours=MORNINGS)
    real = clinic.clock
    clinic.clock = lambda: real() + timedelta(days=30)
    assert _free_within(clinic, doc.doctor_id, 7) == 0
    keeper = SlotKeeper(clinic, interval=3600).start()
    try:
        deadline = time.monotonic() + 30
        while keeper.runs == 0:
            assert time.monotonic() < deadline, "the keeper never topped up"
            time.sleep(0.02)
        assert keeper.made > 0 and _free_within(clinic, doc.doctor_id, 7) == keeper.made
    finally:
        stopping = time.monotonic()
        keeper.stop()
    # It was waiting an hour for its next run; stopping does not wait for that.
    assert not keeper.running and time.monotonic() - stopping < 2


def test_a_desktop_on_the_database_tops_up_at_log_in(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(booking_horizon_days=7)
    user, _ = factories.staff(clinic)
    doc = factories.doctor(clinic, hours=MORNINGS)
    real = clinic.clock
    clinic.clock = lambda: real() + timedelta(days=30)
    assert _free_within(clinic, doc.doctor_id, 7) == 0
    backend = LocalBackend(clinic)
    try:
        backend.login(user.username, factories.PASSWORD)
        deadline = time.monotonic() + 30
        while _free_within(clinic, doc.doctor_id, 7) == 0:
            assert time.monotonic() < deadline, "logging in did not top up the slots"
            time.sleep(0.02)
    finally:
        backend.close()
    assert not hours.needs_top_up(clinic)  # the whole horizon, not just a first slot


def test_slots_a_top_up_makes_during_an_hours_change_follow_the_new_hours(
    open_store: Callable[..., Clinic], monkeypatch: pytest.MonkeyPatch
) -> None:
    clinic = open_store(booking_horizon_days=7)
    doc = factories.doctor(clinic, hours=MORNINGS)
    real = clinic.clock
    guard = hours._guard

    def top_up_meanwhile(*args: object) -> tuple[dict[int, str], int]:
        # Another process tops up from the old hours while this change is under way.
        clinic.clock = lambda: real() + timedelta(days=7)
        assert hours.top_up(clinic) > 0
        clinic.clock = real
        return guard(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(hours, "_guard", top_up_meanwhile)
    afternoons = [WorkingHours(day, clock_time(14), clock_time(15), 30) for day in range(5)]
    hours.change_working_hours(clinic, SYSTEM, doc.doctor_id, afternoons)
    with clinic.db.read() as session:
        starts = [
            as_utc(value).astimezone(clinic.settings.tz).time()
            for value in session.scalars(
                select(Slot.start_at).where(
                    Slot.doctor_id == doc.doctor_id, Slot.start_at > clinic.now()
                )
            )
        ]
    assert starts and set(starts) <= {clock_time(14), clock_time(14, 30)}


def test_the_slot_keeper_tops_up_again_at_every_interval(
    open_store: Callable[..., Clinic],
) -> None:
    clinic = open_store(booking_horizon_days=7)
    doc = factories.doctor(clinic, hours=factories.ALL_WEEK)
    initial, _ = _slot_count(clinic, doc.doctor_id)
    start = clinic.now()
    moved = [start]
    clinic.clock = lambda: moved[0]
    keeper = SlotKeeper(clinic, interval=0.05).start()
    try:
        deadline = time.monotonic() + 30
        for days in (3, 6):  # time passes between two runs: each run catches up
            moved[0] = start + timedelta(days=days)
            runs = keeper.runs
            while keeper.runs < runs + 2:
                assert time.monotonic() < deadline, "the keeper stopped topping up"
                time.sleep(0.01)
            assert not hours.needs_top_up(clinic)
    finally:
        keeper.stop()
    # Six new days of 47 half-hour slots, each made once.
    assert keeper.made == 6 * 47
    assert _slot_count(clinic, doc.doctor_id) == (initial + keeper.made,) * 2
