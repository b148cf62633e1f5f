"""A request's preferred time read from its label: the days and hours, the next date."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from hms_desktop.domain.preferred_time import PreferredWindow, describe_next, parse_preferred

THURSDAY_10 = datetime(2026, 12, 3, 10, 0)


@pytest.mark.parametrize(
    ("label", "window"),
    [
        ("Mon 09:00-12:00", PreferredWindow(frozenset({0}), time(9), time(12))),
        ("Mondays mornings", PreferredWindow(frozenset({0}), time(8), time(12))),
        ("weekday afternoons", PreferredWindow(frozenset(range(5)), time(12), time(17))),
        ("Sat 10-14", PreferredWindow(frozenset({5}), time(10), time(14))),
        ("9-12pm fri", PreferredWindow(frozenset({4}), time(9), time(12))),
        ("Mon-Wed evenings", PreferredWindow(frozenset({0, 1, 2}), time(17), time(21))),
        ("Tuesdays", PreferredWindow(frozenset({1}))),
    ],
)
def test_a_label_names_days_and_hours(label: str, window: PreferredWindow) -> None:
    assert parse_preferred(label) == window


@pytest.mark.parametrize("label", [None, "", "whenever", "a friend, monthly"])
def test_a_label_without_a_day_or_time_means_nothing_here(label: str | None) -> None:
    assert parse_preferred(label) is None
    assert describe_next(label, THURSDAY_10) == (label or "—")


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("Mondays mornings", "Mondays mornings — next: Mon 7 Dec"),
        ("Thu 08:30-12:30", "Thu 08:30-12:30 — next: Thu 3 Dec"),  # still ahead today
        ("Thu 08:00-09:00", "Thu 08:00-09:00 — next: Thu 10 Dec"),  # over for today
        ("Sat 10-14", "Sat 10-14 — next: Sat 5 Dec"),
    ],
)
def test_the_next_date_of_a_preferred_time(label: str, shown: str) -> None:
    assert describe_next(label, THURSDAY_10) == shown


def test_a_slot_inside_the_window() -> None:
    window = parse_preferred("Mon 09:00-12:00")
    assert window is not None
    assert window.contains(datetime(2026, 12, 7, 9, 0))
    assert not window.contains(datetime(2026, 12, 7, 12, 0))
    assert not window.contains(datetime(2026, 12, 8, 10, 0))
