"""Turning a doctor's weekly working hours into concrete slots, with time-zone care."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hms_desktop.domain.enums import BlockKind
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import TimeBlockForm, WorkingHours
from hms_desktop.domain.validation import SHORT_TEXT_MAX, check_date, clean_text, positive_minutes

# The longest block one entry makes (a sabbatical); longer ones are entered in parts.
MAX_BLOCK_DAYS = 366

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A window's slots are at least this long and at most a working day.
MAX_SLOT_MINUTES = 24 * 60
# More windows than any real week has (a bound on what one request may send).
MAX_WINDOWS = 100


@dataclass(frozen=True)
class HoursProblem:
    """What is wrong with one window of a week's hours: `index` into the list, the field
    ("weekday", "start", "end", "slot_minutes") and the message shown next to it."""

    index: int
    field: str
    message: str

    @property
    def field_path(self) -> str:
        """How the error names the field over the API, e.g. `hours.2.end`."""
        return f"hours.{self.index}.{self.field}"


def hours_problems(hours: Sequence[WorkingHours]) -> list[HoursProblem]:
    """Every window's problems: the editor shows each next to its row, the service refuses
    the first (so a desk and the API refuse exactly the same weeks)."""
    problems: list[HoursProblem] = []
    for index, window in enumerate(hours):
        if not 0 <= window.weekday <= 6:
            problems.append(
                HoursProblem(index, "weekday", "Weekday must be 0 (Monday) to 6 (Sunday).")
            )
        if window.start.tzinfo is not None or window.end.tzinfo is not None:
            problems.append(
                HoursProblem(index, "start", "Working hours are the clinic's wall-clock times.")
            )
        elif window.start >= window.end:
            problems.append(HoursProblem(index, "end", "Working hours must end after they start."))
        if window.slot_minutes <= 0:
            problems.append(
                HoursProblem(index, "slot_minutes", "Duration must be more than 0 minutes.")
            )
        elif window.slot_minutes > MAX_SLOT_MINUTES:
            problems.append(
                HoursProblem(index, "slot_minutes", "A slot cannot be longer than a day.")
            )
    bad = {problem.index for problem in problems}
    # Overlaps only between windows that are right in themselves: two windows of one day
    # that share any minute would make a doctor's slots overlap.
    by_day: dict[int, list[tuple[int, WorkingHours]]] = {}
    for index, window in enumerate(hours):
        if index not in bad:
            by_day.setdefault(window.weekday, []).append((index, window))
    for windows in by_day.values():
        windows.sort(key=lambda item: (item[1].start, item[0]))
        reaching = windows[0][1]  # of the windows so far, the one that ends last
        for index, later in windows[1:]:
            if later.start < reaching.end:
                problems.append(
                    HoursProblem(
                        index,
                        "start",
                        f"Overlaps {WEEKDAY_NAMES[later.weekday]} "
                        f"{reaching.start:%H:%M}-{reaching.end:%H:%M}.",
                    )
                )
            if later.end > reaching.end:
                reaching = later
    return sorted(problems, key=lambda problem: problem.index)


def check_hours(hours: Sequence[WorkingHours]) -> None:
    """Refuse a week with any problem, naming the first window's field."""
    if len(hours) > MAX_WINDOWS:
        raise ValidationError(f"At most {MAX_WINDOWS} windows a week.", field="hours")
    problems = hours_problems(hours)
    if problems:
        first = problems[0]
        raise ValidationError(first.message, field=first.field_path)


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


def block_bounds(form: TimeBlockForm, tz: ZoneInfo) -> tuple[datetime, datetime, str]:
    """A block's [start, end) in UTC and its cleaned reason; whole days run from local
    midnight to local midnight, so a block follows the clinic's clock across DST changes."""
    reason = clean_text(form.reason, field="reason", max_length=SHORT_TEXT_MAX, required=True)
    check_date(form.first_day, field="first_day")
    check_date(form.last_day, field="last_day")
    if form.last_day < form.first_day:
        raise ValidationError("The last day cannot be before the first day.", field="last_day")
    if (form.last_day - form.first_day).days >= MAX_BLOCK_DAYS:
        raise ValidationError(
            f"A block spans at most {MAX_BLOCK_DAYS} days; enter a longer one in parts.",
            field="last_day",
        )
    if form.kind is BlockKind.HOLIDAY and form.doctor_id is not None:
        raise ValidationError("A public holiday is for the whole clinic.", field="doctor_id")
    if (form.start_time is None) != (form.end_time is None):
        raise ValidationError("Give both times, or neither for whole days.", field="start_time")
    if form.start_time is None or form.end_time is None:
        start, _ = local_day_bounds(form.first_day, tz)
        _, end = local_day_bounds(form.last_day, tz)
        return start, end, reason
    if form.start_time.tzinfo is not None or form.end_time.tzinfo is not None:
        raise ValidationError("Times are the clinic's wall-clock times.", field="start_time")
    start = datetime.combine(form.first_day, form.start_time, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(form.last_day, form.end_time, tzinfo=tz).astimezone(UTC)
    if end <= start:
        raise ValidationError("The block must end after it starts.", field="end_time")
    return start, end, reason
