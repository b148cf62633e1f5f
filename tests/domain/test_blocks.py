"""A block's bounds: whole local days (across a clock change), or from a time on the
first day to a time on the last, always in UTC; bad entries name their field."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from hms_desktop.domain.enums import BlockKind
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import TimeBlockForm
from hms_desktop.domain.schedule import MAX_BLOCK_DAYS, block_bounds

LONDON = ZoneInfo("Europe/London")


def test_whole_days_run_local_midnight_to_midnight_across_a_clock_change() -> None:
    # The clocks go back on Sunday 25 October 2026: that day has 25 hours.
    form = TimeBlockForm(1, date(2026, 10, 24), date(2026, 10, 25), "  Annual leave ")
    start, end, reason = block_bounds(form, LONDON)
    assert start == datetime(2026, 10, 23, 23, 0, tzinfo=UTC)  # midnight BST
    assert end == datetime(2026, 10, 26, 0, 0, tzinfo=UTC)  # midnight GMT
    assert (end - start).total_seconds() == 49 * 3600
    assert reason == "Annual leave"


def test_times_run_from_the_first_day_to_the_last() -> None:
    form = TimeBlockForm(
        None,
        date(2026, 7, 1),
        date(2026, 7, 2),
        "Fire drill",
        BlockKind.BLOCKED,
        time(14, 0),
        time(10, 0),
    )
    start, end, _ = block_bounds(form, LONDON)
    assert (start, end) == (
        datetime(2026, 7, 1, 13, 0, tzinfo=UTC),
        datetime(2026, 7, 2, 9, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"last_day": date(2026, 6, 30)}, "last_day"),
        ({"last_day": date(2027, 7, 2)}, "last_day"),  # 367 days
        ({"reason": ""}, "reason"),
        ({"start_time": time(9, 0)}, "start_time"),
        ({"start_time": time(9, 0), "end_time": time(9, 0)}, "end_time"),
        ({"kind": BlockKind.HOLIDAY}, "doctor_id"),
    ],
)
def test_bad_blocks_name_their_field(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "doctor_id": 1,
        "first_day": date(2026, 7, 1),
        "last_day": date(2026, 7, 1),
        "reason": "Leave",
        **changes,
    }
    with pytest.raises(ValidationError) as refused:
        block_bounds(TimeBlockForm(**values), LONDON)  # type: ignore[arg-type]
    assert refused.value.field == field
    assert MAX_BLOCK_DAYS == 366
