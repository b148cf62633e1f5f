"""Reminders' texts and timing: the clinic's local date and time (with the zone's name) on
either side of a change of the clocks, the reminder a fixed span ahead, and the backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hms_desktop.domain.messages import (
    Appointment,
    MessageKind,
    local_words,
    reminder_due,
    render,
    retry_delay,
)

LONDON = ZoneInfo("Europe/London")


def test_local_words_across_the_spring_and_autumn_changes() -> None:
    assert local_words(datetime(2027, 3, 27, 9, 30, tzinfo=UTC), LONDON) == (
        "Saturday 27 March 2027",
        "09:30 GMT",
    )
    assert local_words(datetime(2027, 3, 28, 8, 30, tzinfo=UTC), LONDON) == (
        "Sunday 28 March 2027",
        "09:30 BST",
    )
    # 31 October 2027: 01:30 local happens twice; the zone's name tells which.
    assert local_words(datetime(2027, 10, 31, 0, 30, tzinfo=UTC), LONDON)[1] == "01:30 BST"
    assert local_words(datetime(2027, 10, 31, 1, 30, tzinfo=UTC), LONDON)[1] == "01:30 GMT"


def test_render_names_the_clinic_doctor_patient_and_the_old_time_of_a_move() -> None:
    about = Appointment(
        "Riverside Clinic",
        "Ann Lee",
        "Ada Lovelace",
        datetime(2027, 3, 28, 8, 30, tzinfo=UTC),
        LONDON,
    )
    subject, body = render(
        MessageKind.MOVED, about, previous_start=datetime(2027, 3, 27, 9, 30, tzinfo=UTC)
    )
    assert (
        subject == "Riverside Clinic: your appointment moved to Sunday 28 March 2027 at 09:30 BST"
    )
    assert body.startswith("Dear Ann Lee,")
    assert "Ada Lovelace" in body and "(it was on Saturday 27 March 2027 at 09:30 GMT)" in body
    for kind in MessageKind:
        assert "$" not in "".join(render(kind, about))
    _, cancelled = render(MessageKind.CANCELLED, about, reason="Dr Lovelace is on leave")
    assert "has been cancelled (Dr Lovelace is on leave).\n" in cancelled


def test_reminder_due_and_backoff() -> None:
    start = datetime(2027, 3, 28, 8, 30, tzinfo=UTC)
    assert reminder_due(start, 24) == datetime(2027, 3, 27, 8, 30, tzinfo=UTC)
    assert [retry_delay(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(30, 60) == timedelta(hours=6)
