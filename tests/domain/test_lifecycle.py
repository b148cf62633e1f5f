"""The one appointment lifecycle and each API's words for it."""

from __future__ import annotations

import pytest

from hms_desktop.domain.enums import STATUS_TRANSITIONS, AppointmentStatus, can_transition

S = AppointmentStatus


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.SCHEDULED, S.ARRIVED),
        (S.RESCHEDULED, S.IN_PROGRESS),
        (S.ARRIVED, S.IN_PROGRESS),
        (S.IN_PROGRESS, S.COMPLETED),
        (S.NO_SHOW, S.ARRIVED),  # late after all
        (S.COMPLETED, S.IN_PROGRESS),  # marked done too soon
    ],
)
def test_the_doctors_day_moves_on(current: AppointmentStatus, target: AppointmentStatus) -> None:
    assert can_transition(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CANCELLED, S.ARRIVED),
        (S.DECLINED, S.SCHEDULED),
        (S.REQUESTED, S.ARRIVED),
        (S.SCHEDULED, S.COMPLETED),  # not without being seen
        (S.COMPLETED, S.NO_SHOW),
    ],
)
def test_what_the_day_cannot_become(current: AppointmentStatus, target: AppointmentStatus) -> None:
    assert not can_transition(current, target)


def test_cancelled_and_declined_free_their_slot_and_are_closed() -> None:
    for status in S:
        assert status.occupies_slot is (status not in (S.CANCELLED, S.DECLINED))
    assert {status for status in S if status.is_open} == {S.REQUESTED, S.SCHEDULED, S.RESCHEDULED}
    assert not (STATUS_TRANSITIONS.keys() & {S.CANCELLED, S.DECLINED})


@pytest.mark.parametrize(
    ("status", "booking", "hospital"),
    [
        (S.SCHEDULED, "scheduled", "Pendding"),
        (S.RESCHEDULED, "rescheduled", "Pendding"),
        (S.IN_PROGRESS, "scheduled", "Runing"),
        (S.COMPLETED, "scheduled", "Complated"),
        (S.NO_SHOW, "scheduled", "Complated"),
        (S.CANCELLED, "cancelled", "Pendding"),
        (S.DECLINED, "cancelled", "Pendding"),
    ],
)
def test_each_api_has_its_own_words(status: AppointmentStatus, booking: str, hospital: str) -> None:
    assert (status.booking_word, status.hospital_word) == (booking, hospital)


def test_every_step_forward_can_be_taken_back() -> None:
    """A status set by mistake is undone by setting the one before it again."""
    for current, targets in STATUS_TRANSITIONS.items():
        for target in targets:
            assert can_transition(target, current), f"{target} cannot go back to {current}"
    assert can_transition(S.NO_SHOW, S.SCHEDULED) and can_transition(S.ARRIVED, S.RESCHEDULED)
