"""The calendar's window cache on its own: no window, no Qt, no store."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path
from types import SimpleNamespace

from hms_desktop.domain.models import CalendarSlot
from hms_desktop.ui.calendar import cache as cache_module
from hms_desktop.ui.calendar.cache import Touch, Window, WindowCache

WEEK = Window((1, 2), date(2025, 3, 3), 7)
SLOTS: list[CalendarSlot] = []  # the cache keeps what it is given; contents do not matter


def _stored(cache: WindowCache, window: Window, slots: list[CalendarSlot] = SLOTS) -> None:
    fetch = cache.start_fetch(window)
    assert fetch is not None
    assert cache.store(fetch, slots)


def test_the_cache_module_imports_no_qt() -> None:
    tree = ast.parse(Path(cache_module.__file__).read_text())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name.startswith(("PySide6", "shiboken6"))}


def test_a_window_is_kept_once_fetched() -> None:
    cache = WindowCache()
    assert cache.get(WEEK) is None
    slots: list[CalendarSlot] = []
    fetch = cache.start_fetch(WEEK)
    assert fetch is not None and cache.get(WEEK) is None, "nothing kept before the answer"
    assert cache.store(fetch, slots)
    assert cache.get(WEEK) is slots
    assert cache.get(Window((1,), WEEK.first_day, 7)) is None, "other doctors, other window"
    assert cache.get(Window((1, 2), WEEK.first_day, 1)) is None, "a day is not a week"


def test_the_same_fetch_is_not_started_twice_while_on_its_way() -> None:
    cache = WindowCache()
    fetch = cache.start_fetch(WEEK)
    assert fetch is not None
    assert cache.start_fetch(WEEK) is None
    assert cache.start_fetch(WEEK.shifted(1)) is not None, "another window may be fetched"
    cache.store(fetch, SLOTS)
    assert cache.start_fetch(WEEK) is not None, "once answered, it may be fetched again"


def test_a_failed_fetch_can_be_tried_again() -> None:
    cache = WindowCache()
    fetch = cache.start_fetch(WEEK)
    assert fetch is not None
    cache.fetch_failed(fetch)
    assert cache.get(WEEK) is None
    assert cache.start_fetch(WEEK) is not None


def test_a_change_forgets_every_window_and_every_answer_on_its_way() -> None:
    cache = WindowCache()
    _stored(cache, WEEK)
    on_its_way = cache.start_fetch(WEEK.shifted(1))
    assert on_its_way is not None
    cache.invalidate()
    assert cache.get(WEEK) is None and len(cache) == 0
    # The answer started before the change may predate it: it is not kept.
    assert not cache.store(on_its_way, SLOTS)
    assert cache.get(WEEK.shifted(1)) is None
    # The same window may be fetched again at once, without waiting for the stale answer.
    stale = cache.start_fetch(WEEK)
    cache.invalidate()
    assert stale is not None and cache.start_fetch(WEEK) is not None


def test_the_first_stored_window_goes_first_when_full() -> None:
    cache = WindowCache(capacity=3)
    weeks = [WEEK.shifted(n) for n in range(4)]
    for week in weeks:
        _stored(cache, week)
    assert len(cache) == 3
    assert weeks[0] not in cache
    assert all(week in cache for week in weeks[1:])


def test_neighbours_are_the_windows_just_before_and_after() -> None:
    assert WEEK.shifted(1) == Window((1, 2), date(2025, 3, 10), 7)
    assert WEEK.shifted(-1) == Window((1, 2), date(2025, 2, 24), 7)
    assert WEEK.end_day == date(2025, 3, 10)
    day = Window((3,), date(2025, 3, 1), 1)
    cache = WindowCache()
    assert cache.missing_neighbours(day) == [
        Window((3,), date(2025, 3, 2), 1),
        Window((3,), date(2025, 2, 28), 1),
    ]
    _stored(cache, day.shifted(1))
    assert cache.missing_neighbours(day) == [day.shifted(-1)], "a cached neighbour is not asked"


def _slots(*ids: int) -> list[CalendarSlot]:
    """Stand-ins: a touch looks only at each slot's id."""
    return [SimpleNamespace(slot=SimpleNamespace(id=i)) for i in ids]  # type: ignore[misc]


def test_a_change_forgets_only_the_windows_it_touches() -> None:
    cache = WindowCache()
    other_doctor = Window((3,), WEEK.first_day, 7)
    _stored(cache, WEEK, _slots(10, 11))
    _stored(cache, WEEK.shifted(1), _slots(20, 21))
    _stored(cache, other_doctor, _slots(30))
    cache.touch(Touch(1, frozenset({20})))  # doctor 1's slot in the next week
    assert WEEK in cache and other_doctor in cache and WEEK.shifted(1) not in cache
    cache.touch(Touch(3, frozenset({999})))  # doctor 3's slot in no cached window
    assert len(cache) == 2
    cache.touch(Touch(2, frozenset(), WEEK.first_day))  # doctor 2, on a day of WEEK
    assert WEEK not in cache and other_doctor in cache
    cache.touch(Touch(3))  # new working hours of doctor 3: all their windows
    assert len(cache) == 0


def test_a_moved_booking_touches_its_old_slot_whoever_the_doctor() -> None:
    cache = WindowCache()
    _stored(cache, WEEK, _slots(10, 11))
    cache.touch(Touch(None, frozenset({12})))
    assert WEEK in cache
    cache.touch(Touch(None, frozenset({11})))
    assert WEEK not in cache


def test_an_answer_a_change_touched_on_its_way_is_not_kept() -> None:
    cache = WindowCache()
    touched, untouched = cache.start_fetch(WEEK), cache.start_fetch(WEEK.shifted(1))
    assert touched is not None and untouched is not None
    cache.touch(Touch(1, frozenset({11})))  # the slot is in WEEK's answer, not known yet
    assert not cache.store(touched, _slots(10, 11))
    assert cache.store(untouched, _slots(20))
    assert WEEK not in cache and WEEK.shifted(1) in cache
