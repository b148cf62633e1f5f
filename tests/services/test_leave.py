"""Leave, holidays and blocked time: the free slots inside a block disappear from every
place that shows free slots, a hold or booking on one is refused, and the bookings already
inside are listed as affected, then moved or cancelled (audited, announced)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pytest

from hms_desktop.domain.enums import AppointmentStatus, BlockKind, Role
from hms_desktop.domain.errors import PermissionDenied, SlotBlocked, ValidationError
from hms_desktop.domain.models import (
    SYSTEM,
    Actor,
    AppointmentRecord,
    PatientRecord,
    SlotState,
    TimeBlockForm,
)
from hms_desktop.domain.schedule import local_day_bounds
from hms_desktop.services import doctors, hours, leave, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import EventRecorder, last_audit, live_appointments, table_counts


@dataclass
class Leave:
    clinic: Clinic
    admin: Actor
    desk: Actor
    speciality: str
    doc: factories.DoctorFixture
    colleague: factories.DoctorFixture
    alice: PatientRecord
    bob: PatientRecord
    day: date  # the day of leave: the day after tomorrow (clear of "now")

    def window(self) -> tuple[datetime, datetime]:
        return local_day_bounds(self.day, self.clinic.settings.tz)

    def slots_on_day(self, doctor_id: int) -> list[int]:
        start, end = self.window()
        calendar = scheduling.calendar(self.clinic, SYSTEM, [doctor_id], start, end)
        return [item.slot.id for item in calendar]

    def book(self, slot_id: int, patient: PatientRecord) -> AppointmentRecord:
        hold = scheduling.hold_slot(self.clinic, self.desk, slot_id, patient.id)
        return scheduling.confirm_booking(
            self.clinic, self.desk, slot_id, patient.id, token=hold.token
        )

    def block_day(self, doctor_id: int | str | None = "own", **changes: object) -> int:
        """Block `day` for the doctor (None: the whole clinic), with `changes` to the form."""
        form = TimeBlockForm(
            doctor_id=self.doc.doctor_id if doctor_id == "own" else doctor_id,  # type: ignore[arg-type]
            first_day=self.day,
            last_day=self.day,
            reason="Annual leave",
        )
        form = dataclasses.replace(form, **changes)  # type: ignore[arg-type]
        return leave.add_block(self.clinic, self.admin, form).id


@pytest.fixture
def world(clinic: Clinic) -> Leave:
    _, admin = factories.staff(clinic, Role.ADMIN)
    _, desk = factories.staff(clinic)
    name = factories.unique("Cardiology ")
    speciality = factories.speciality(clinic, name)
    doc = factories.doctor(clinic, specialisation_ids=[speciality])
    colleague = factories.doctor(clinic, specialisation_ids=[speciality])
    return Leave(
        clinic,
        admin,
        desk,
        name,
        doc,
        colleague,
        factories.patient(clinic, desk),
        factories.patient(clinic, desk),
        clinic.today() + timedelta(days=2),
    )


def test_leave_hides_free_slots_everywhere_and_refuses_holds(world: Leave) -> None:
    clinic = world.clinic
    slots = world.slots_on_day(world.doc.doctor_id)
    booked = world.book(slots[20], world.alice)
    start, end = world.window()
    before = doctors.free_slots(clinic, SYSTEM, [world.doc.doctor_id], start, end)
    assert len(before) == len(slots) - 1

    block_id = world.block_day()

    assert doctors.free_slots(clinic, SYSTEM, [world.doc.doctor_id], start, end) == []
    by_speciality = doctors.free_slots_by_speciality(clinic, SYSTEM, world.speciality, start, end)
    assert {s.doctor_id for s in by_speciality} == {world.colleague.doctor_id}
    calendar = scheduling.calendar(clinic, world.desk, [world.doc.doctor_id], start, end)
    states = {item.slot.id: item for item in calendar}
    assert states[slots[20]].state is SlotState.BOOKED
    blocked = [item for item in calendar if item.slot.id != slots[20]]
    assert {item.state for item in blocked} == {SlotState.BLOCKED}
    assert {item.note for item in blocked} == {"Annual leave"}
    with pytest.raises(SlotBlocked):
        scheduling.hold_slot(clinic, world.desk, slots[3], world.bob.id)
    assert clinic.locks.get(slots[3]) is None
    # Moving someone else into the blocked day is refused the same way.
    other = world.book(world.slots_on_day(world.colleague.doctor_id)[5], world.bob)
    with pytest.raises(SlotBlocked):
        scheduling.reschedule_appointment(clinic, world.desk, other.id, slots[4])

    affected = leave.affected_bookings(clinic, world.desk)
    assert [(a.appointment.id, a.block_id, a.reason) for a in affected] == [
        (booked.id, block_id, "Annual leave")
    ]

    leave.remove_block(clinic, world.admin, block_id)
    assert (
        len(doctors.free_slots(clinic, SYSTEM, [world.doc.doctor_id], start, end)) == len(slots) - 1
    )
    assert leave.affected_bookings(clinic, world.desk) == []


def test_a_hold_taken_before_the_leave_cannot_be_confirmed(world: Leave) -> None:
    slot = world.slots_on_day(world.doc.doctor_id)[10]
    hold = scheduling.hold_slot(world.clinic, world.desk, slot, world.alice.id)
    world.block_day()
    with pytest.raises(SlotBlocked):
        scheduling.confirm_booking(world.clinic, world.desk, slot, world.alice.id, token=hold.token)
    assert live_appointments(world.clinic, [slot]) == []
    assert world.clinic.locks.get(slot) is None


def test_slots_made_later_inside_a_block_are_blocked_too(world: Leave) -> None:
    clinic = world.clinic
    horizon = clinic.settings.booking_horizon_days
    far_day = clinic.today() + timedelta(days=horizon + 3)
    start, end = local_day_bounds(far_day, clinic.settings.tz)
    assert doctors.free_slots(clinic, SYSTEM, [world.doc.doctor_id], start, end) == []
    world.block_day(first_day=far_day, last_day=far_day)

    assert hours.top_up(clinic, days=horizon + 5) > 0

    calendar = scheduling.calendar(clinic, world.desk, [world.doc.doctor_id], start, end)
    assert calendar and {item.state for item in calendar} == {SlotState.BLOCKED}
    assert doctors.free_slots(clinic, SYSTEM, [world.doc.doctor_id], start, end) == []
    assert len(doctors.free_slots(clinic, SYSTEM, [world.colleague.doctor_id], start, end)) > 0


def test_a_public_holiday_blocks_every_doctor_and_part_days_block_only_their_hours(
    world: Leave,
) -> None:
    clinic = world.clinic
    start, end = world.window()
    world.block_day(doctor_id=None, kind=BlockKind.HOLIDAY, reason="Republic Day")
    ids = [world.doc.doctor_id, world.colleague.doctor_id]
    assert doctors.free_slots(clinic, SYSTEM, ids, start, end) == []
    holiday = leave.list_blocks(clinic, world.desk)[0]
    assert (holiday.doctor_id, holiday.kind, holiday.all_day) == (None, BlockKind.HOLIDAY, True)

    next_day = world.day + timedelta(days=1)
    world.block_day(
        first_day=next_day, last_day=next_day, start_time=time(9, 0), end_time=time(12, 0)
    )
    day_start, day_end = local_day_bounds(next_day, clinic.settings.tz)
    free = doctors.free_slots(clinic, SYSTEM, [world.doc.doctor_id], day_start, day_end)
    tz = clinic.settings.tz
    hours = {slot.start.astimezone(tz).time() for slot in free}
    assert time(8, 30) in hours and time(12, 0) in hours
    assert not {h for h in hours if time(9, 0) <= h < time(12, 0)}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"last_day": "before"}, "last_day"),
        ({"reason": "   "}, "reason"),
        ({"start_time": time(12, 0), "end_time": time(9, 0)}, "end_time"),
        ({"start_time": time(12, 0)}, "start_time"),
        ({"kind": BlockKind.HOLIDAY}, "doctor_id"),
    ],
)
def test_bad_blocks_are_refused_naming_the_field_and_nothing_is_saved(
    world: Leave, changes: dict[str, object], field: str
) -> None:
    if changes.get("last_day") == "before":
        changes = {"last_day": world.day - timedelta(days=1)}
    before = table_counts(world.clinic)
    with pytest.raises(ValidationError) as refused:
        world.block_day(**changes)
    assert refused.value.field == field
    assert table_counts(world.clinic) == before


def test_only_the_admin_enters_leave_and_a_doctor_sees_only_their_own(world: Leave) -> None:
    with pytest.raises(PermissionDenied):
        leave.add_block(
            world.clinic,
            world.desk,
            TimeBlockForm(world.doc.doctor_id, world.day, world.day, "Leave"),
        )
    mine = world.block_day()
    world.block_day(doctor_id=world.colleague.doctor_id)
    holiday = world.block_day(doctor_id=None, kind=BlockKind.HOLIDAY)
    assert {b.id for b in leave.list_blocks(world.clinic, world.doc.actor)} == {mine, holiday}
    assert len(leave.list_blocks(world.clinic, world.desk)) == 3
    with pytest.raises(PermissionDenied):
        leave.remove_block(world.clinic, world.desk, mine)


def test_move_puts_affected_bookings_in_the_next_free_slots_audited_and_announced(
    world: Leave,
) -> None:
    clinic = world.clinic
    slots = world.slots_on_day(world.doc.doctor_id)
    first = world.book(slots[18], world.alice)
    second = world.book(slots[19], world.bob)
    block_id = world.block_day()
    _, block_end = world.window()
    events = EventRecorder()
    subscription = clinic.events.subscribe(events)
    try:
        report = leave.move_affected(clinic, world.desk, [first.id])
        (moved,) = report.moved
        assert report.not_moved == ()
        assert moved.doctor_id == world.doc.doctor_id and moved.start is not None
        assert moved.start >= block_end  # the next free slot after the leave
        assert moved.status is AppointmentStatus.RESCHEDULED
        events.wait_for("reschedule", appointment_id=first.id, old_slot_id=slots[18])
        entry = last_audit(clinic)
        assert (entry.action, entry.entity_id) == ("reschedule", str(first.id))

        # Another doctor of the same speciality is free at the very same time.
        report = leave.move_affected(clinic, world.desk, [second.id], other_doctors=True)
        (moved_too,) = report.moved
        assert moved_too.doctor_id == world.colleague.doctor_id
        assert moved_too.start == second.start
    finally:
        subscription.close()
    assert leave.affected_bookings(clinic, world.desk, block_id) == []
    # Asked again, nothing is moved twice.
    again = leave.move_affected(clinic, world.desk, [first.id])
    assert again.moved == () and [n.appointment_id for n in again.not_moved] == [first.id]


def test_cancel_with_reason_keeps_the_reason_and_audits_it(world: Leave) -> None:
    slot = world.slots_on_day(world.doc.doctor_id)[12]
    booked = world.book(slot, world.alice)
    world.block_day()
    with pytest.raises(ValidationError):
        leave.cancel_affected(world.clinic, world.desk, booked.id, " ")
    cancelled = leave.cancel_affected(world.clinic, world.desk, booked.id, "Doctor on leave")
    assert cancelled.status is AppointmentStatus.CANCELLED
    assert cancelled.decline_reason == "Doctor on leave"
    entry = last_audit(world.clinic)
    assert entry.action == "cancel" and json.loads(entry.detail) == {"reason": "Doctor on leave"}
    assert leave.affected_bookings(world.clinic, world.desk) == []


def test_adding_and_removing_a_block_is_audited_and_announced(world: Leave) -> None:
    events = EventRecorder()
    subscription = world.clinic.events.subscribe(events)
    try:
        block_id = world.block_day()
        events.wait_for("schedule", doctor_id=world.doc.doctor_id)
        entry = last_audit(world.clinic)
        assert (entry.action, entry.entity, entry.entity_id) == ("add", "time_block", str(block_id))
        leave.remove_block(world.clinic, world.admin, block_id)
        events.wait_for("schedule", doctor_id=world.doc.doctor_id)
        assert last_audit(world.clinic).action == "remove"
    finally:
        subscription.close()
