"""The waitlist on every store: entries added, listed and withdrawn under the policy; a freed
slot offered to who waits for it, best first; expired entries never offered; taking an offer
holds the slot, confirming books it and marks the entry filled; desks racing for one slot (or
for one entry) end with exactly one booking."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

import pytest
from sqlalchemy import update

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.errors import (
    DomainError,
    PermissionDenied,
    SlotAlreadyBooked,
    SlotLocked,
)
from hms_desktop.domain.models import SYSTEM, Actor, AppointmentRecord
from hms_desktop.domain.waitlist import (
    TooManyWaitlistEntries,
    WaitlistEntry,
    WaitlistEntryClosed,
    WaitlistEntryMissing,
    WaitlistForm,
    WaitlistNoMatch,
    WaitlistPriority,
    WaitlistStatus,
)
from hms_desktop.services import doctors, scheduling, waitlist
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import WaitlistEntryRow
from tests import factories
from tests.services.support import live_appointments

THREADS = 12


def _slot_at(clinic: Clinic, doctor_id: int, hour: int, days: int = 1) -> int:
    """The doctor's slot `days` ahead at `hour`:00 (clinic time)."""
    day = clinic.today() + timedelta(days=days)
    start = datetime(day.year, day.month, day.day, hour, tzinfo=clinic.settings.tz)
    found = doctors.free_slots(clinic, SYSTEM, [doctor_id], start, start + timedelta(minutes=1))
    assert len(found) == 1
    return found[0].id


def _add(
    clinic: Clinic, desk: Actor, patient_id: int, doctor_id: int | None = None, **more: object
) -> WaitlistEntry:
    today = clinic.today()
    form = WaitlistForm(
        patient_id=patient_id,
        first_day=today,
        last_day=today + timedelta(days=14),
        doctor_id=doctor_id,
        **more,  # type: ignore[arg-type]
    )
    return waitlist.add_entry(clinic, desk, form)


def _freed_slot(clinic: Clinic, desk: Actor, doctor_id: int, hour: int = 10) -> int:
    """A slot booked, then cancelled: free again."""
    slot_id = _slot_at(clinic, doctor_id, hour)
    other = factories.patient(clinic)
    hold = scheduling.hold_slot(clinic, desk, slot_id, other.id)
    booked = scheduling.confirm_booking(clinic, desk, slot_id, other.id, token=hold.token)
    scheduling.cancel_appointment(clinic, desk, booked.id, reason="travelling")
    return slot_id


def test_a_cancelled_slot_is_offered_best_first_and_filled(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    cardiology = factories.speciality(clinic)
    heart = factories.doctor(clinic, specialisation_ids=[cardiology])
    skin = factories.doctor(clinic)
    normal = _add(clinic, desk, factories.patient(clinic).id, heart.doctor_id)
    urgent = _add(
        clinic,
        desk,
        factories.patient(clinic).id,
        specialisation_id=cardiology,
        priority=WaitlistPriority.URGENT,
    )
    afternoons = _add(
        clinic, desk, factories.patient(clinic).id, heart.doctor_id, preferred_times="afternoons"
    )
    _add(clinic, desk, factories.patient(clinic).id, skin.doctor_id)  # another doctor
    later_normal = _add(clinic, desk, factories.patient(clinic).id, heart.doctor_id)

    slot_id = _freed_slot(clinic, desk, heart.doctor_id, hour=10)

    offered = waitlist.offer_for_slot(clinic, desk, slot_id)
    assert [e.id for e in offered] == [urgent.id, normal.id, later_normal.id]
    assert afternoons.id not in {e.id for e in offered}
    day = clinic.today() + timedelta(days=1)
    start = datetime(day.year, day.month, day.day, tzinfo=clinic.settings.tz)
    by_slot = {
        offer.slot_id: offer
        for offer in waitlist.offers(
            clinic, desk, [heart.doctor_id], start, start + timedelta(days=1)
        )
    }
    assert [e.id for e in by_slot[slot_id].entries] == [urgent.id, normal.id, later_normal.id]
    afternoon_slot = _slot_at(clinic, heart.doctor_id, 14)
    assert [e.id for e in by_slot[afternoon_slot].entries][:2] == [urgent.id, normal.id]
    assert afternoons.id in {e.id for e in by_slot[afternoon_slot].entries}

    hold = waitlist.take_offer(clinic, desk, urgent.id, slot_id)
    assert hold.patient_id == urgent.patient_id
    assert waitlist.offer_for_slot(clinic, desk, slot_id) == [], "held: not offered again"
    record = waitlist.fill(clinic, desk, urgent.id, slot_id, hold.token, symptoms="chest pain")

    assert (record.slot_id, record.patient_id) == (slot_id, urgent.patient_id)
    (filled,) = waitlist.list_entries(clinic, desk, WaitlistStatus.FILLED)
    assert (filled.id, filled.appointment_id) == (urgent.id, record.id)
    assert filled.filled_at is not None
    assert urgent.id not in {e.id for e in waitlist.list_entries(clinic, desk)}
    assert live_appointments(clinic, [slot_id]) == [(record.id, slot_id)]


def test_expired_and_withdrawn_entries_are_not_offered(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    heart = factories.doctor(clinic)
    expired = _add(clinic, desk, factories.patient(clinic).id, heart.doctor_id)
    withdrawn = _add(clinic, desk, factories.patient(clinic).id, heart.doctor_id)
    waiting = _add(clinic, desk, factories.patient(clinic).id, heart.doctor_id)
    # The range of one ended yesterday (the clinic's clock moved on since it was entered).
    yesterday = clinic.today() - timedelta(days=1)
    with clinic.db.transaction() as session:
        session.execute(
            update(WaitlistEntryRow)
            .where(WaitlistEntryRow.id == expired.id)
            .values(first_day=yesterday, last_day=yesterday)
        )
    assert waitlist.withdraw_entry(clinic, desk, withdrawn.id).status is WaitlistStatus.WITHDRAWN
    with pytest.raises(WaitlistEntryClosed):
        waitlist.withdraw_entry(clinic, desk, withdrawn.id)

    slot_id = _freed_slot(clinic, desk, heart.doctor_id)

    assert [e.id for e in waitlist.offer_for_slot(clinic, desk, slot_id)] == [waiting.id]
    (shown,) = waitlist.list_entries(clinic, desk, WaitlistStatus.EXPIRED)
    assert (shown.id, shown.status) == (expired.id, WaitlistStatus.EXPIRED)
    every = {e.id: e.status for e in waitlist.list_entries(clinic, desk, None)}
    assert every[expired.id] is WaitlistStatus.EXPIRED
    with pytest.raises(WaitlistEntryClosed):
        waitlist.take_offer(clinic, desk, expired.id, slot_id)
    with pytest.raises(WaitlistEntryClosed):
        waitlist.take_offer(clinic, desk, withdrawn.id, slot_id)


def test_an_offer_is_taken_only_for_a_slot_the_entry_fits(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    heart, skin = factories.doctor(clinic), factories.doctor(clinic)
    mornings = _add(
        clinic, desk, factories.patient(clinic).id, heart.doctor_id, preferred_times="mornings"
    )
    with pytest.raises(WaitlistNoMatch):
        waitlist.take_offer(clinic, desk, mornings.id, _slot_at(clinic, heart.doctor_id, 15))
    with pytest.raises(WaitlistNoMatch):
        waitlist.take_offer(clinic, desk, mornings.id, _slot_at(clinic, skin.doctor_id, 9))
    assert waitlist.take_offer(clinic, desk, mornings.id, _slot_at(clinic, heart.doctor_id, 9))


def test_a_patient_keeps_their_own_entries_and_no_one_elses(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    heart = factories.doctor(clinic)
    me, other = factories.patient(clinic), factories.patient(clinic)
    patient = factories.patient_actor(clinic, me)
    mine = _add(clinic, patient, None, heart.doctor_id)  # for themselves
    theirs = _add(clinic, desk, other.id, heart.doctor_id)
    assert mine.patient_id == me.id and mine.created_by == patient.username

    assert [e.id for e in waitlist.list_entries(clinic, patient, None)] == [mine.id]
    with pytest.raises(PermissionDenied):
        _add(clinic, patient, other.id, heart.doctor_id)
    with pytest.raises(WaitlistEntryMissing):  # refused, and not shown to exist
        waitlist.withdraw_entry(clinic, patient, theirs.id)
    for desk_only in (
        lambda: waitlist.offer_for_slot(clinic, patient, _slot_at(clinic, heart.doctor_id, 9)),
        lambda: waitlist.take_offer(clinic, patient, mine.id, _slot_at(clinic, heart.doctor_id, 9)),
    ):
        with pytest.raises(PermissionDenied):
            desk_only()
    assert waitlist.withdraw_entry(clinic, patient, mine.id).status is WaitlistStatus.WITHDRAWN
    for _ in range(waitlist.MAX_OWN_ENTRIES):
        _add(clinic, patient, None, heart.doctor_id)
    with pytest.raises(TooManyWaitlistEntries):
        _add(clinic, patient, None, heart.doctor_id)
    _add(clinic, desk, me.id, heart.doctor_id)  # the desk adds any number


def _take_and_fill(
    clinic: Clinic, entry_id: int, slot_id: int, barrier: threading.Barrier
) -> AppointmentRecord | DomainError:
    _, desk = factories.staff(clinic)
    barrier.wait(timeout=60)
    try:
        hold = waitlist.take_offer(clinic, desk, entry_id, slot_id)
        return waitlist.fill(clinic, desk, entry_id, slot_id, hold.token)
    except DomainError as error:
        return error


def _race(jobs: list[Callable[[threading.Barrier], AppointmentRecord | DomainError]]) -> list:
    barrier = threading.Barrier(len(jobs))
    outcomes: list[AppointmentRecord | DomainError] = [None] * len(jobs)  # type: ignore[list-item]

    def run(index: int) -> None:
        outcomes[index] = jobs[index](barrier)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


@pytest.mark.slow
def test_desks_taking_offers_for_one_slot_at_once_book_it_once(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    _, desk = factories.staff(clinic)
    heart = factories.doctor(clinic)
    entries = [_add(clinic, desk, factories.patient(clinic).id, heart.doctor_id) for _ in range(4)]
    slot_id = _freed_slot(clinic, desk, heart.doctor_id)
    # Each desk takes the offer it sees first, or another entry: desks with clinics (pools,
    # lock-store clients) of their own, and desks sharing this process's.
    clinics = [clinic if i % 2 else open_store() for i in range(THREADS)]
    jobs = [
        partial(_take_and_fill, c, entries[i % len(entries)].id, slot_id)
        for i, c in enumerate(clinics)
    ]
    outcomes = _race(jobs)

    winners = [o for o in outcomes if isinstance(o, AppointmentRecord)]
    losers = [o for o in outcomes if not isinstance(o, AppointmentRecord)]
    assert len(winners) == 1, outcomes
    assert all(
        isinstance(error, SlotLocked | SlotAlreadyBooked | WaitlistEntryClosed) for error in losers
    ), losers
    assert live_appointments(clinic, [slot_id]) == [(winners[0].id, slot_id)]
    filled = waitlist.list_entries(clinic, desk, WaitlistStatus.FILLED)
    assert [(e.patient_id, e.appointment_id) for e in filled] == [
        (winners[0].patient_id, winners[0].id)
    ]


@pytest.mark.slow
def test_one_entry_taken_for_two_slots_at_once_is_filled_once(
    clinic: Clinic, open_store: Callable[..., Clinic]
) -> None:
    _, desk = factories.staff(clinic)
    heart = factories.doctor(clinic)
    entry = _add(clinic, desk, factories.patient(clinic).id, heart.doctor_id)
    slots = [_slot_at(clinic, heart.doctor_id, hour) for hour in (9, 10, 11)]
    jobs = [
        (lambda barrier, s=s: _take_and_fill(open_store(), entry.id, s, barrier)) for s in slots
    ]
    outcomes = _race(jobs)

    winners = [o for o in outcomes if isinstance(o, AppointmentRecord)]
    assert len(winners) == 1, outcomes
    assert all(isinstance(o, WaitlistEntryClosed) for o in outcomes if o not in winners)
    assert [a for a, _ in live_appointments(clinic, slots)] == [winners[0].id]
    booked = scheduling.patient_history(clinic, desk, entry.patient_id)
    assert [(a.id, a.status) for a in booked] == [(winners[0].id, AppointmentStatus.SCHEDULED)]
    # The losers let their holds go: the slots are free for anyone again.
    left = [s for s in slots if s != winners[0].slot_id]
    free = doctors.free_slots(
        clinic, SYSTEM, [heart.doctor_id], clinic.now(), clinic.now() + timedelta(days=2)
    )
    assert set(left) <= {slot.id for slot in free}
