"""The demo clinic has a doctor on leave all next week with two affected bookings, so the
leave page has something to show and the desk can try moving and cancelling them."""

from __future__ import annotations

from datetime import timedelta

from hms_desktop.domain.enums import BlockKind
from hms_desktop.domain.models import SYSTEM, SlotState
from hms_desktop.services import demo, leave, scheduling
from hms_desktop.services.clinic import Clinic


def test_the_demo_clinic_has_a_doctor_on_leave_next_week_with_two_affected(
    clinic: Clinic,
) -> None:
    demo.load_demo_clinic(clinic)
    (block,) = leave.list_blocks(clinic, SYSTEM)
    monday = clinic.today() + timedelta(days=7 - clinic.today().weekday())
    tz = clinic.settings.tz
    assert block.kind is BlockKind.LEAVE and block.doctor_id is not None
    assert block.start.astimezone(tz).date() == monday
    assert block.end.astimezone(tz).date() == monday + timedelta(days=5)
    affected = leave.affected_bookings(clinic, SYSTEM)
    assert len(affected) == 2
    assert {item.appointment.doctor_id for item in affected} == {block.doctor_id}
    week = scheduling.calendar(clinic, SYSTEM, [block.doctor_id], block.start, block.end)
    assert SlotState.BLOCKED in {item.state for item in week}
    assert SlotState.FREE not in {item.state for item in week}
