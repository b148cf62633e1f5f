"""The waitlist's rules: which free slot an entry waits for, who is offered it first, when an
entry has expired, and what a form may say."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.waitlist import (
    MAX_RANGE,
    SlotFacts,
    WaitlistEntry,
    WaitlistForm,
    WaitlistPriority,
    WaitlistStatus,
    best_first,
    check_form,
    fits,
    offer_words,
    offers_for,
    status_on,
)

MONDAY = date(2026, 12, 7)
CARDIOLOGY, DERMATOLOGY = 11, 12
HEART, SKIN = 1, 2


def entry(entry_id: int = 1, **changes: object) -> WaitlistEntry:
    base = WaitlistEntry(
        id=entry_id,
        patient_id=100 + entry_id,
        patient_name=f"Patient {entry_id}",
        patient_phone="",
        doctor_id=HEART,
        doctor_name="Grace Heart",
        specialisation_id=None,
        specialisation_name="",
        first_day=MONDAY,
        last_day=MONDAY + timedelta(days=13),
        preferred_times="",
        priority=WaitlistPriority.NORMAL,
        note="",
        status=WaitlistStatus.ACTIVE,
        created_at=datetime(2026, 12, 1, 9, tzinfo=UTC) + timedelta(minutes=entry_id),
        created_by="desk",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def slot(day: date = MONDAY, hour: int = 10, doctor: int = HEART) -> SlotFacts:
    specialities = {HEART: {CARDIOLOGY}, SKIN: {DERMATOLOGY}}[doctor]
    return SlotFacts(doctor, frozenset(specialities), datetime(day.year, day.month, day.day, hour))


# --- matching ------------------------------------------------------------------------------------


def test_an_entry_for_a_doctor_fits_only_that_doctors_slots() -> None:
    assert fits(entry(), slot(doctor=HEART))
    assert not fits(entry(), slot(doctor=SKIN))


def test_an_entry_for_a_speciality_fits_any_doctor_of_it() -> None:
    waiting = entry(doctor_id=None, specialisation_id=DERMATOLOGY, specialisation_name="Skin")
    assert fits(waiting, slot(doctor=SKIN))
    assert not fits(waiting, slot(doctor=HEART))
    assert waiting.wanted == "any Skin doctor"


def test_only_days_inside_the_range_fit() -> None:
    waiting = entry(first_day=MONDAY + timedelta(days=1), last_day=MONDAY + timedelta(days=2))
    assert not fits(waiting, slot(MONDAY))
    assert fits(waiting, slot(MONDAY + timedelta(days=1)))
    assert fits(waiting, slot(MONDAY + timedelta(days=2), hour=23))
    assert not fits(waiting, slot(MONDAY + timedelta(days=3), hour=0))


@pytest.mark.parametrize(
    ("preferred", "day_offset", "hour", "expected"),
    [
        ("mornings", 0, 9, True),
        ("mornings", 0, 12, False),
        ("afternoons", 0, 14, True),
        ("afternoons", 0, 9, False),
        ("evenings", 0, 18, True),
        ("weekday mornings", 5, 9, False),  # Saturday
        ("weekday mornings", 4, 9, True),  # Friday
        ("Mon-Wed 9-12", 2, 11, True),
        ("Mon-Wed 9-12", 3, 11, False),  # Thursday
        ("Mon-Wed 9-12", 0, 12, False),  # the end is not inside
        ("", 0, 22, True),  # any time
    ],
)
def test_preferred_times_of_day(preferred: str, day_offset: int, hour: int, expected: bool) -> None:
    waiting = entry(preferred_times=preferred)
    assert fits(waiting, slot(MONDAY + timedelta(days=day_offset), hour)) is expected


@pytest.mark.parametrize(
    "status", [WaitlistStatus.FILLED, WaitlistStatus.WITHDRAWN, WaitlistStatus.EXPIRED]
)
def test_only_waiting_entries_fit(status: WaitlistStatus) -> None:
    assert not fits(entry(status=status), slot())


# --- order ---------------------------------------------------------------------------------------


def test_the_highest_priority_first_then_the_longest_waiting() -> None:
    early_normal = entry(1, priority=WaitlistPriority.NORMAL)
    late_urgent = entry(2, priority=WaitlistPriority.URGENT)
    late_normal = entry(3, priority=WaitlistPriority.NORMAL)
    early_low = entry(4, priority=WaitlistPriority.LOW, created_at=datetime(2026, 1, 1, tzinfo=UTC))
    ordered = best_first([late_normal, early_low, early_normal, late_urgent])
    assert [e.id for e in ordered] == [2, 1, 3, 4]


def test_offers_leave_out_what_does_not_fit_and_put_the_best_first() -> None:
    waiting = [
        entry(1),
        entry(2, priority=WaitlistPriority.HIGH),
        entry(3, doctor_id=SKIN),
        entry(4, preferred_times="afternoons"),
        entry(5, status=WaitlistStatus.WITHDRAWN, priority=WaitlistPriority.URGENT),
    ]
    assert [e.id for e in offers_for(waiting, slot(hour=10))] == [2, 1]
    assert offer_words(2) == "2 waiting — F to fill"
    assert offer_words(0) == ""


# --- expiry --------------------------------------------------------------------------------------


def test_an_active_entry_expires_after_its_last_day() -> None:
    waiting = entry(last_day=MONDAY)
    assert status_on(waiting, MONDAY) is WaitlistStatus.ACTIVE
    assert status_on(waiting, MONDAY + timedelta(days=1)) is WaitlistStatus.EXPIRED
    filled = entry(last_day=MONDAY, status=WaitlistStatus.FILLED)
    assert status_on(filled, MONDAY + timedelta(days=9)) is WaitlistStatus.FILLED


# --- the form ------------------------------------------------------------------------------------


def form(**changes: object) -> WaitlistForm:
    base = WaitlistForm(patient_id=5, first_day=MONDAY, last_day=MONDAY, doctor_id=HEART)
    return replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"doctor_id": None}, "doctor_id"),
        ({"specialisation_id": CARDIOLOGY}, "doctor_id"),
        ({"last_day": MONDAY - timedelta(days=1)}, "last_day"),
        (
            {"first_day": MONDAY - timedelta(days=9), "last_day": MONDAY - timedelta(days=1)},
            "last_day",
        ),
        ({"last_day": MONDAY + MAX_RANGE + timedelta(days=1)}, "last_day"),
        ({"preferred_times": "whenever suits"}, "preferred_times"),
        ({"note": "x" * 301}, "note"),
        ({"note": "bad\x00"}, "note"),
    ],
)
def test_a_wrong_form_names_its_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        check_form(form(**changes), MONDAY)
    assert raised.value.field == field


def test_a_good_form_is_cleaned() -> None:
    clean = check_form(form(preferred_times="  mornings ", note=" call first ", priority=3), MONDAY)
    assert (clean.preferred_times, clean.note) == ("mornings", "call first")
    assert clean.priority is WaitlistPriority.URGENT
