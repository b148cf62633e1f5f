"""A week's windows checked without a database: each problem names its window and field."""

from __future__ import annotations

from datetime import UTC, time

import pytest

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import WorkingHours
from hms_desktop.domain.schedule import MAX_WINDOWS, check_hours, hours_problems


def test_each_window_problem_names_its_row_and_field() -> None:
    week = [
        WorkingHours(0, time(9), time(17), 30),
        WorkingHours(0, time(10), time(11), 30),  # inside the first
        WorkingHours(0, time(12), time(13), 30),  # also inside the first, not the second
        WorkingHours(1, time(12), time(9), 30),  # ends before it starts
        WorkingHours(2, time(9), time(10), 0),  # no slot length
        WorkingHours(7, time(9), time(10), 30),  # no such day
        WorkingHours(3, time(9, tzinfo=UTC), time(10), 30),  # not wall-clock time
        WorkingHours(0, time(17), time(18), 30),  # touches the first: fine
    ]
    found = [(p.index, p.field) for p in hours_problems(week)]
    assert found == [
        (1, "start"),
        (2, "start"),
        (3, "end"),
        (4, "slot_minutes"),
        (5, "weekday"),
        (6, "start"),
    ]
    assert hours_problems(week)[1].message == "Overlaps Monday 09:00-17:00."
    with pytest.raises(ValidationError) as refused:
        check_hours(week)
    assert refused.value.field == "hours.1.start"


def test_a_right_week_passes_and_an_endless_one_does_not() -> None:
    week = [WorkingHours(day, time(9), time(12), 15) for day in range(7)]
    week += [WorkingHours(day, time(13), time(17), 20) for day in range(7)]
    assert hours_problems(week) == []
    check_hours(week)
    with pytest.raises(ValidationError, match="At most"):
        check_hours([WorkingHours(0, time(0), time(0, 1), 1)] * (MAX_WINDOWS + 1))
