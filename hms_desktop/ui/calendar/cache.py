"""The calendar's window cache: slots of the windows (doctors × days) already fetched, so
moving a week is instant. Plain Python, no Qt: the view asks it what to fetch and tells it
what arrived; any change on any desk empties it.

A fetch is tagged with the cache's generation when it starts. Emptying the cache starts a
new generation, so an answer that was already on its way is never stored: it may predate
the change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from hms_desktop.domain.models import CalendarSlot

CACHE_WINDOWS = 12


def range_words(first_day: date, days: int) -> str:
    """The calendar's heading for `days` days from `first_day` on."""
    last_day = first_day + timedelta(days=days - 1)
    return f"{first_day:%a %d %b %Y}" if days == 1 else f"{first_day:%d %b} – {last_day:%d %b %Y}"


@dataclass(frozen=True)
class Window:
    """What the calendar shows: these doctors, `days` days from `first_day` on."""

    doctor_ids: tuple[int, ...]
    first_day: date
    days: int

    @property
    def end_day(self) -> date:
        """The day after the last one shown."""
        return self.first_day + timedelta(days=self.days)

    def shifted(self, steps: int) -> Window:
        """The window `steps` whole windows later (earlier when negative)."""
        first_day = self.first_day + timedelta(days=self.days * steps)
        return Window(self.doctor_ids, first_day, self.days)


@dataclass(frozen=True)
class Fetch:
    """One fetch on its way: the window and the generation it was started in."""

    window: Window
    generation: int


class WindowCache:
    def __init__(self, capacity: int = CACHE_WINDOWS) -> None:
        self.capacity = capacity
        self._slots: dict[Window, list[CalendarSlot]] = {}
        self._in_flight: set[Fetch] = set()
        self._generation = 0

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, window: object) -> bool:
        return window in self._slots

    def get(self, window: Window) -> list[CalendarSlot] | None:
        return self._slots.get(window)

    def start_fetch(self, window: Window) -> Fetch | None:
        """A ticket for fetching `window`; None when the same fetch is already on its way."""
        fetch = Fetch(window, self._generation)
        if fetch in self._in_flight:
            return None
        self._in_flight.add(fetch)
        return fetch

    def fetch_failed(self, fetch: Fetch) -> None:
        self._in_flight.discard(fetch)

    def store(self, fetch: Fetch, slots: list[CalendarSlot]) -> bool:
        """Keep what a fetch brought; False (nothing kept) when the cache was emptied while
        it was on its way, so the answer may be out of date."""
        self._in_flight.discard(fetch)
        if fetch.generation != self._generation:
            return False
        self._slots[fetch.window] = slots
        while len(self._slots) > self.capacity:
            self._slots.pop(next(iter(self._slots)))  # the first stored goes first
        return True

    def missing_neighbours(self, window: Window) -> list[Window]:
        """The windows just after and just before `window` that are not cached yet."""
        return [w for w in (window.shifted(1), window.shifted(-1)) if w not in self._slots]

    def invalidate(self) -> None:
        """Something changed: forget every window, and every answer still on its way."""
        self._generation += 1
        self._slots.clear()
