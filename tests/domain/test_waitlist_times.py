"""A waitlist entry's preferred times are kept to match slots by: a time the reader would
silently drop ("Mon-Wed 25-26" read as all of Monday to Wednesday, "9.5-12" as 5 to 12) is
refused, naming the field, instead of stored and matched as something else."""

from __future__ import annotations

from datetime import date

import pytest

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.waitlist import WaitlistForm, check_form

MONDAY = date(2026, 12, 7)


def _form(preferred: str) -> WaitlistForm:
    return WaitlistForm(5, MONDAY, MONDAY, doctor_id=1, preferred_times=preferred)


@pytest.mark.parametrize(
    "preferred",
    ["Mon-Wed 25-26", "Mon-Wed 12-9", "9.5-12", "mornings 25-26", "Mon 9-12 14-16", "Mon 0-0"],
)
def test_a_time_that_would_be_dropped_or_misread_is_refused(preferred: str) -> None:
    with pytest.raises(ValidationError) as raised:
        check_form(_form(preferred), MONDAY)
    assert raised.value.field == "preferred_times"


@pytest.mark.parametrize(
    "preferred", ["mornings", "Mon-Wed 9-12", "Sat 10-14", "2-5pm", "9:30-12", "weekdays"]
)
def test_the_times_the_desk_writes_are_taken(preferred: str) -> None:
    assert check_form(_form(preferred), MONDAY).preferred_times == preferred
