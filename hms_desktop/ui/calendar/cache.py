"""The calendar's window cache: slots of the windows (doctors × days) already fetched, so
moving a week is instant. Plain Python, no Qt: the view asks it what to fetch and tells it
what arrived.

A change on another desk (`touch`) drops only the windows it touches: its doctor's, and
of those the one that shows its slot (or its day); a change that names neither drops all
of that doctor's windows. An answer on its way when a change touched it is not stored (it
may predate the change). `invalidate` (a resync) empties the cache: it starts a new
generation, so no answer already on its way is stored."""

from __future__ import annotations

from dataclasses import dataclass, field
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
class Touch:
    """What a change touched: a doctor's slots (ids), on a day, when the change says."""

    doctor_id: int | None  # None: whoever's slots these are (a move's old slot)
    slot_ids: frozenset[int] = field(default_factory=frozenset)
    day: date | None = None

    def may_hit(self, window: Window) -> bool:
        return self.doctor_id is None or self.doctor_id in window.doctor_ids

    def hits(self, window: Window, slots: list[CalendarSlot]) -> bool:
        """Whether `window`, holding `slots`, may show something this change altered."""
        if not self.may_hit(window):
            return False
        if self.doctor_id is not None:
            if not self.slot_ids and self.day is None:
                return True  # e.g. new working hours: every day of theirs may differ
            if self.day is not None and window.first_day <= self.day < window.end_day:
                return True
        return any(item.slot.id in self.slot_ids for item in slots)


@dataclass(frozen=True)
class Fetch:
    """One fetch on its way: the window and the generation it was started in."""

    window: Window
    generation: int


class WindowCache:
    def __init__(self, capacity: int = CACHE_WINDOWS) -> None:
        self.capacity = capacity
        self._slots: dict[Window, list[CalendarSlot]] = {}
        # Each fetch on its way, with the changes that came while it was.
        self._in_flight: dict[Fetch, list[Touch]] = {}
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
        self._in_flight[fetch] = []
        return fetch

    def fetch_failed(self, fetch: Fetch) -> None:
        self._in_flight.pop(fetch, None)

    def store(self, fetch: Fetch, slots: list[CalendarSlot]) -> bool:
        """Keep what a fetch brought; False (nothing kept) when the cache was emptied while
        it was on its way, so the answer may be out of date."""
        touches = self._in_flight.pop(fetch, [])
        if fetch.generation != self._generation:
            return False
        if any(touch.hits(fetch.window, slots) for touch in touches):
            return False
        self._slots[fetch.window] = slots
        while len(self._slots) > self.capacity:
            self._slots.pop(next(iter(self._slots)))  # the first stored goes first
        return True

    def missing_neighbours(self, window: Window) -> list[Window]:
        """The windows just after and just before `window` that are not cached yet."""
        return [w for w in (window.shifted(1), window.shifted(-1)) if w not in self._slots]

    def touch(self, change: Touch) -> None:
        """A change on some desk: forget the windows it touched, and mark the answers on
        their way so that one it touched is not kept."""
        for window in [w for w, slots in self._slots.items() if change.hits(w, slots)]:
            del self._slots[window]
        for fetch, touches in self._in_flight.items():
            if change.may_hit(fetch.window):
                touches.append(change)

    def invalidate(self) -> None:
        """Something changed: forget every window, and every answer still on its way."""
        self._generation += 1
        self._slots.clear()
