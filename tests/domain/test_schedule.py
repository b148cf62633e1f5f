"""Weekly hours into slots across the clock changes, without a database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import WorkingHours
from hms_desktop.domain.schedule import (
    iso_millis,
    local_day_bounds,
    local_midnight_utc,
    slot_starts,
)

BERLIN = ZoneInfo("Europe/Berlin")
SPRING_FORWARD = date(2027, 3, 28)  # last Sunday of March: 02:00 -> 03:00
FALL_BACK = date(2027, 10, 31)  # last Sunday of October: 03:00 -> 02:00


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_slot_starts_skip_the_spring_gap_and_take_the_first_autumn_hour() -> None:
    night = [WorkingHours(6, time(1, 0), time(4, 0), 30)]  # Sundays 01:00-04:00 local

    spring = list(slot_starts(night, SPRING_FORWARD, 1, BERLIN))
    # 02:00 and 02:30 do not exist that night; 01:xx is CET (+1), 03:xx is CEST (+2).
    assert [start for start, _ in spring] == [
        _utc(2027, 3, 28, 0, 0),
        _utc(2027, 3, 28, 0, 30),
        _utc(2027, 3, 28, 1, 0),
        _utc(2027, 3, 28, 1, 30),
    ]
    autumn = [start for start, _ in slot_starts(night, FALL_BACK, 1, BERLIN)]
    # 02:00 and 02:30 happen twice; the first (CEST) occurrence is taken, once each.
    assert autumn == [
        _utc(2027, 10, 30, 23, 0),
        _utc(2027, 10, 30, 23, 30),
        _utc(2027, 10, 31, 0, 0),
        _utc(2027, 10, 31, 0, 30),
        _utc(2027, 10, 31, 2, 0),
        _utc(2027, 10, 31, 2, 30),
    ]
    assert len(set(autumn)) == len(autumn)
    # Daytime hours keep their wall-clock time across the change.
    morning = [WorkingHours(day, time(9, 0), time(9, 30), 30) for day in range(7)]
    week = [start for start, _ in slot_starts(morning, date(2027, 3, 26), 4, BERLIN)]
    assert [start.astimezone(BERLIN).time() for start in week] == [time(9, 0)] * 4
    assert [start.hour for start in week] == [8, 8, 7, 7]
    with pytest.raises(ValidationError):
        list(slot_starts([WorkingHours(0, time(9), time(10), 0)], date(2027, 1, 4), 7, BERLIN))


def test_local_days_and_the_booking_apis_dates() -> None:
    kolkata = ZoneInfo("Asia/Kolkata")
    start, end = local_day_bounds(date(2024, 12, 29), kolkata)
    assert (start, end) == (_utc(2024, 12, 28, 18, 30), _utc(2024, 12, 29, 18, 30))
    # The seed's own example: local midnight of 29 Dec in a UTC+05:30 clinic.
    assert iso_millis(local_midnight_utc(_utc(2024, 12, 29, 8, 0), kolkata)) == (
        "2024-12-28T18:30:00.000Z"
    )
    # A day with a clock change is 23 or 25 hours long.
    spring = local_day_bounds(SPRING_FORWARD, BERLIN)
    assert (spring[1] - spring[0]).total_seconds() == 23 * 3600
