"""A request's preferred time, read from its free-text label ("Mon 09:00-12:00", "Mondays
mornings", "weekday afternoons", "Sat 10-14"): which weekdays and hours it means, the next
date it falls on, and whether a slot is inside it. A label that names neither a day nor a
time of day means nothing here (None): the desk reads it as written."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A day's name: "mon", "monday", "mondays", "tues", "thurs"… ("month", "friend": no).
_DAY = r"(mon|tue|wed|thu|fri|sat|sun)(?:day|sday|s|nesday|rsday|rs|r|urday)?s?"
# Parts of the day, as a clinic means them.
_PARTS = {
    "morning": (time(8), time(12)),
    "afternoon": (time(12), time(17)),
    "evening": (time(17), time(21)),
}
_CLOCK = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm)?"
_RANGE = re.compile(rf"{_CLOCK}\s*(?:-|–|to)\s*{_CLOCK}")


@dataclass(frozen=True)
class PreferredWindow:
    weekdays: frozenset[int]  # Monday 0 … Sunday 6; every day when empty
    start: time | None = None  # the whole day when None
    end: time | None = None

    def on_day(self, day: date) -> bool:
        return not self.weekdays or day.weekday() in self.weekdays

    def contains(self, moment: datetime) -> bool:
        """Whether a (local) start time is inside the window."""
        if not self.on_day(moment.date()):
            return False
        if self.start is None or self.end is None:
            return True
        return self.start <= moment.time() < self.end

    def next_date(self, now: datetime) -> date:
        """The next day (today while the window is still ahead today) the window is on."""
        day = now.date()
        if self.end is not None and now.time() >= self.end:
            day += timedelta(days=1)
        while not self.on_day(day):
            day += timedelta(days=1)
        return day


def _clock(hour: str, minute: str | None, meridiem: str | None) -> time | None:
    h, m = int(hour), int(minute or 0)
    if meridiem == "pm" and h < 12:
        h += 12
    elif meridiem == "am" and h == 12:
        h = 0
    return time(h, m) if 0 <= h <= 23 and 0 <= m <= 59 else None


def _weekdays(text: str) -> set[int]:
    days: set[int] = set()
    for first, last in re.findall(rf"\b{_DAY}\s*(?:-|–|to)\s*{_DAY}\b", text):
        a, b = _DAYS.index(first), _DAYS.index(last)
        days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    days.update(_DAYS.index(name) for name in re.findall(rf"\b{_DAY}\b", text))
    if re.search(r"\bweekdays?\b", text):
        days.update(range(5))
    if re.search(r"\bweekends?\b", text):
        days.update((5, 6))
    return days


def parse_preferred(label: str | None) -> PreferredWindow | None:
    text = (label or "").casefold()
    days = _weekdays(text)
    start: time | None = None
    end: time | None = None
    found = _RANGE.search(text)
    if found:
        h1, m1, ap1, h2, m2, ap2 = found.groups()
        end = _clock(h2, m2, ap2)
        # "9-12pm" is 9am to noon, "2-5pm" 2pm to 5pm: the first clock takes the second's
        # am/pm when it has none and that keeps it before the end.
        start = _clock(h1, m1, ap1 or ap2)
        if ap1 is None and (start is None or end is None or start >= end):
            start = _clock(h1, m1, None)
        if start is None or end is None or start >= end:
            start = end = None
    if start is None:
        parts = [span for word, span in _PARTS.items() if word in text]
        if parts:
            start, end = min(s for s, _ in parts), max(e for _, e in parts)
    if not days and start is None:
        return None
    return PreferredWindow(frozenset(days), start, end)


def times_understood(label: str) -> bool:
    """Whether every number in the label is part of one valid time range ("Mon-Wed 9-12"):
    not "9.5-12" (read as 5 to 12), "25-26" or "12-9" (read as no time at all). For a
    label kept to match slots by, where a time silently dropped would offer the wrong ones."""
    text = label.casefold()
    found = _RANGE.search(text)
    rest = text[: found.start()] + text[found.end() :] if found else text
    if re.search(r"\d", rest):
        return False
    if found is None:
        return True
    window = parse_preferred(found.group(0))
    return window is not None and window.start is not None


def describe_next(label: str | None, now: datetime) -> str:
    """ "Mondays mornings — next: Mon 7 Dec"; the label as it is when it names no time."""
    shown = label or "—"
    window = parse_preferred(label)
    if window is None:
        return shown
    day = window.next_date(now)
    return f"{shown} — next: {day:%a} {day.day} {day:%b}"
