"""Turning a doctor's weekly working hours into concrete slots, with time-zone care."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hms_desktop.domain.models import WorkingHours
from hms_desktop.domain.validation import positive_minutes


def slot_starts(
    hours: Iterable[WorkingHours], first_day: date, days: int, tz: ZoneInfo
) -> Iterator[tuple[datetime, int]]:
    """Yield (start in UTC, minutes) for each slot in [first_day, first_day + days).

    Wall-clock times are local; a slot whose local time does not exist (spring-forward gap)
    is skipped, and an ambiguous one (fall-back) takes its first occurrence.
    """
    by_weekday: dict[int, list[WorkingHours]] = {}
    for window in hours:
        positive_minutes(window.slot_minutes, field="slot_minutes")
        by_weekday.setdefault(window.weekday, []).append(window)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for window in by_weekday.get(day.weekday(), ()):
            step = timedelta(minutes=window.slot_minutes)
            cursor = datetime.combine(day, window.start)
            end = datetime.combine(day, window.end)
            while cursor + step <= end:
                local = cursor.replace(tzinfo=tz, fold=0)
                if _exists(local, tz):
                    yield local.astimezone(UTC), window.slot_minutes
                cursor += step


def _exists(local: datetime, tz: ZoneInfo) -> bool:
    round_trip = local.astimezone(UTC).astimezone(tz)
    return round_trip.replace(tzinfo=None) == local.replace(tzinfo=None)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """UTC instants of local midnight at the start and end of `day`."""
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return start, end


def as_utc(value: datetime) -> datetime:
    """Naive datetimes coming back from SQLite are UTC by our convention."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_millis(value: datetime) -> str:
    """ISO 8601 with milliseconds and Z, as the booking API writes timestamps."""
    utc = as_utc(value)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def local_midnight_utc(value: datetime, tz: ZoneInfo) -> datetime:
    local_date = as_utc(value).astimezone(tz).date()
    return datetime.combine(local_date, datetime.min.time(), tzinfo=tz).astimezone(UTC)
