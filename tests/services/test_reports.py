"""Reports against a hand-built clinic with known answers, on every store.

The day is Sunday 28 March 2027 in Europe/London, when the clocks go forward: the local
day runs from 00:00 UTC to 23:00 UTC (23 hours), local 01:00 does not exist, and a slot at
00:00 on Monday (23:00 UTC on the 28th) belongs to Monday, not to the report's Sunday.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from hms_desktop.domain.enums import AppointmentStatus, BlockKind, Role
from hms_desktop.domain.errors import PermissionDenied, ValidationError
from hms_desktop.domain.models import SYSTEM, TimeBlockForm, WorkingHours
from hms_desktop.domain.reports import Report, ReportGroup, ReportRow, report_csv
from hms_desktop.domain.waitlist import WaitlistForm
from hms_desktop.services import leave, reports, scheduling, waitlist
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import Appointment, AuditEntry, Slot
from tests import factories

S = AppointmentStatus
DST_DAY = date(2027, 3, 28)


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def _slot(clinic: Clinic, doctor_id: int, start: datetime) -> int:
    with clinic.db.read() as session:
        slot_id = session.scalar(
            select(Slot.id).where(Slot.doctor_id == doctor_id, Slot.start_at == start)
        )
    assert slot_id is not None, f"no slot of doctor {doctor_id} at {start}"
    return slot_id


def _book(clinic: Clinic, desk: object, doctor_id: int, start: datetime, *steps: S) -> int:
    """Book the slot at `start` for a new patient, then take the status steps."""
    slot_id = _slot(clinic, doctor_id, start)
    patient = factories.patient(clinic)
    scheduling.hold_slot(clinic, desk, slot_id, patient.id)  # type: ignore[arg-type]
    record = scheduling.confirm_booking(clinic, desk, slot_id, patient.id)  # type: ignore[arg-type]
    for step in steps:
        if step is S.CANCELLED:
            scheduling.cancel_appointment(clinic, desk, record.id)  # type: ignore[arg-type]
        else:
            scheduling.set_status(clinic, desk, record.id, step)  # type: ignore[arg-type]
    return record.id


def _booked_at(clinic: Clinic, appointment_id: int, when: datetime) -> None:
    """The booking's own time (the table's default is the real clock)."""
    with clinic.db.transaction() as session:
        session.execute(
            update(Appointment).where(Appointment.id == appointment_id).values(created_at=when)
        )


def _status_at(clinic: Clinic, appointment_id: int, status: S, when: datetime) -> None:
    """When the status was set: the appointment's own time (stamped with the test's clock)
    and the audit trail's entry (its default is the real clock), as a desk would leave them."""
    column = {S.ARRIVED: "arrived_at", S.IN_PROGRESS: "in_progress_at"}[status]
    with clinic.db.transaction() as session:
        session.execute(
            update(Appointment).where(Appointment.id == appointment_id).values({column: when})
        )
        session.execute(
            update(AuditEntry)
            .where(
                AuditEntry.entity == "appointment",
                AuditEntry.entity_id == str(appointment_id),
                AuditEntry.action == "status",
                AuditEntry.detail.contains(f'"{status.value}"'),
            )
            .values(at=when)
        )


@pytest.fixture
def world(open_store: Callable[..., Clinic]) -> dict[str, object]:
    clinic = open_store(timezone="Europe/London", booking_horizon_days=7)
    clinic.clock = lambda: _utc(2027, 3, 26, 12, 0)  # the Friday before
    _, admin = factories.staff(clinic, Role.ADMIN)
    _, desk = factories.staff(clinic)
    cardio = factories.speciality(clinic, "Cardiology")
    derma = factories.speciality(clinic, "Dermatology")
    hourly = 60
    a = factories.doctor(
        clinic,
        specialisation_ids=[cardio],
        first_name="Ada",
        last_name="Able",
        hours=[
            WorkingHours(6, time(0), time(4), hourly),  # Sunday 00:00, (01:00 missing), 02, 03
            WorkingHours(0, time(0), time(1), hourly),  # Monday 00:00 BST = Sunday 23:00 UTC
        ],
    )
    b = factories.doctor(
        clinic,
        specialisation_ids=[derma],
        first_name="Bo",
        last_name="Bell",
        hours=[WorkingHours(6, time(9), time(12), hourly)],  # 08:00, 09:00, 10:00 UTC
    )
    c = factories.doctor(
        clinic,
        specialisation_ids=[cardio],
        first_name="Cy",
        last_name="Cole",
        hours=[WorkingHours(6, time(12), time(13), hourly)],  # 11:00 UTC, never booked
    )
    seen = _book(clinic, desk, a.doctor_id, _utc(2027, 3, 28, 0), S.ARRIVED, S.IN_PROGRESS)
    scheduling.set_status(clinic, desk, seen, S.COMPLETED)
    missed = _book(clinic, desk, a.doctor_id, _utc(2027, 3, 28, 1), S.NO_SHOW)
    cancelled = _book(clinic, desk, a.doctor_id, _utc(2027, 3, 28, 2), S.CANCELLED)
    monday = _book(clinic, desk, a.doctor_id, _utc(2027, 3, 28, 23), S.NO_SHOW)
    b_seen = _book(clinic, desk, b.doctor_id, _utc(2027, 3, 28, 8), S.ARRIVED, S.IN_PROGRESS)
    b_ahead = _book(clinic, desk, b.doctor_id, _utc(2027, 3, 28, 9))
    # B's free 10:00 UTC slot is taken out by an hour of blocked time (11:00 BST).
    leave.add_block(
        clinic,
        admin,
        TimeBlockForm(
            b.doctor_id, DST_DAY, DST_DAY, "Training", BlockKind.BLOCKED, time(11), time(12)
        ),
    )
    _booked_at(clinic, seen, _utc(2027, 3, 26, 0))  # 48 h ahead
    _booked_at(clinic, missed, _utc(2027, 3, 27, 1))  # 24 h ahead
    _booked_at(clinic, cancelled, _utc(2027, 3, 20, 0))  # not counted: cancelled
    _booked_at(clinic, monday, _utc(2027, 3, 20, 0))  # not counted: Monday
    _booked_at(clinic, b_seen, _utc(2027, 3, 28, 7))  # 1 h ahead
    _booked_at(clinic, b_ahead, _utc(2027, 3, 28, 6))  # 3 h ahead
    _status_at(clinic, seen, S.ARRIVED, _utc(2027, 3, 28, 0, 5))
    _status_at(clinic, seen, S.IN_PROGRESS, _utc(2027, 3, 28, 0, 20))  # waited 15 min
    _status_at(clinic, b_seen, S.ARRIVED, _utc(2027, 3, 28, 7, 50))
    _status_at(clinic, b_seen, S.IN_PROGRESS, _utc(2027, 3, 28, 8, 15))  # waited 25 min
    return {"clinic": clinic, "admin": admin, "desk": desk, "a": a, "b": b, "c": c}


def _rows(found: Report) -> dict[str, ReportRow]:
    return {row.name: row for row in found.rows}


def test_per_doctor_figures_on_the_day_the_clocks_change(world: dict) -> None:
    clinic, desk = world["clinic"], world["desk"]
    found = reports.report(clinic, desk, DST_DAY, DST_DAY, ReportGroup.DOCTOR)
    rows = _rows(found)
    assert list(rows) == ["Ada Able", "Bo Bell", "Cy Cole"]
    ada, bo, cy = rows["Ada Able"], rows["Bo Bell"], rows["Cy Cole"]
    # Monday's 00:00 (23:00 UTC on the 28th) is not Sunday's: three booked, not four.
    assert (ada.booked, ada.attended, ada.no_show, ada.cancelled, ada.pending) == (3, 1, 1, 1, 0)
    assert ada.no_show_rate == pytest.approx(0.5)  # the cancelled one is not a no-show
    assert ada.attended_rate == pytest.approx(0.5)
    assert ada.cancelled_rate == pytest.approx(1 / 3)
    # Local 01:00 does not exist that night: three hourly slots offered, two kept.
    assert (ada.booked_minutes, ada.offered_minutes) == (120, 180)
    assert ada.utilisation == pytest.approx(2 / 3)
    assert ada.avg_lead_minutes == pytest.approx((48 * 60 + 24 * 60) / 2)
    assert ada.avg_wait_minutes == pytest.approx(15) and ada.waits_measured == 1
    assert (bo.booked, bo.attended, bo.no_show, bo.cancelled, bo.pending) == (2, 1, 0, 0, 1)
    # The blocked hour is not offered.
    assert (bo.booked_minutes, bo.offered_minutes, bo.utilisation) == (120, 120, 1.0)
    assert bo.avg_lead_minutes == pytest.approx(120)
    assert bo.avg_wait_minutes == pytest.approx(25)
    assert (cy.booked, cy.offered_minutes, cy.utilisation, cy.no_show_rate) == (0, 60, 0.0, None)
    assert cy.avg_lead_minutes is None and cy.avg_wait_minutes is None


def test_the_next_day_has_mondays_booking(world: dict) -> None:
    clinic, desk = world["clinic"], world["desk"]
    monday = date(2027, 3, 29)
    (row,) = reports.report(clinic, desk, monday, monday, ReportGroup.DOCTOR).rows
    assert (row.name, row.booked, row.no_show, row.offered_minutes) == ("Ada Able", 1, 1, 60)
    both = _rows(reports.report(clinic, desk, DST_DAY, monday, ReportGroup.DOCTOR))
    assert (both["Ada Able"].booked, both["Ada Able"].no_show) == (4, 2)


def test_per_speciality_figures_add_up_the_doctors(world: dict) -> None:
    clinic, admin = world["clinic"], world["admin"]
    rows = _rows(reports.report(clinic, admin, DST_DAY, DST_DAY, ReportGroup.SPECIALITY))
    assert list(rows) == ["Cardiology", "Dermatology"]
    cardio, derma = rows["Cardiology"], rows["Dermatology"]
    assert (cardio.booked, cardio.attended, cardio.no_show, cardio.cancelled) == (3, 1, 1, 1)
    assert (cardio.booked_minutes, cardio.offered_minutes) == (120, 240)
    assert cardio.utilisation == pytest.approx(0.5)
    assert cardio.avg_wait_minutes == pytest.approx(15)
    assert (derma.booked, derma.attended, derma.pending, derma.offered_minutes) == (2, 1, 1, 120)
    assert derma.avg_lead_minutes == pytest.approx(120)


def test_waitlist_fills_count_per_doctor_and_speciality(world: dict) -> None:
    """Cy Cole's free hour is booked from the waitlist: one fill for him and Cardiology; an
    ordinary booking (everyone else's) is not a fill, nor is an entry still waiting."""
    clinic, desk, c = world["clinic"], world["desk"], world["c"]
    slot_id = _slot(clinic, c.doctor_id, _utc(2027, 3, 28, 11))
    entries = [
        waitlist.add_entry(
            clinic,
            desk,
            WaitlistForm(factories.patient(clinic).id, clinic.today(), DST_DAY, c.doctor_id),
        )
        for _ in range(2)
    ]
    hold = waitlist.take_offer(clinic, desk, entries[0].id, slot_id)
    waitlist.fill(clinic, desk, entries[0].id, slot_id, hold.token)
    by_doctor = _rows(reports.report(clinic, desk, DST_DAY, DST_DAY, ReportGroup.DOCTOR))
    assert {name: row.waitlist_fills for name, row in by_doctor.items()} == {
        "Ada Able": 0,
        "Bo Bell": 0,
        "Cy Cole": 1,
    }
    assert by_doctor["Cy Cole"].booked == 1
    by_speciality = _rows(reports.report(clinic, desk, DST_DAY, DST_DAY, ReportGroup.SPECIALITY))
    assert by_speciality["Cardiology"].waitlist_fills == 1
    assert by_speciality["Dermatology"].waitlist_fills == 0
    monday = date(2027, 3, 29)
    assert all(
        row.waitlist_fills == 0
        for row in reports.report(clinic, desk, monday, monday, ReportGroup.DOCTOR).rows
    )
    assert (
        report_csv(reports.report(clinic, desk, DST_DAY, DST_DAY, ReportGroup.DOCTOR))
        .split("\n")[3]
        .endswith(",1")
    )


def test_who_sees_what(world: dict) -> None:
    clinic, a = world["clinic"], world["a"]
    for group in ReportGroup:
        mine = reports.report(clinic, a.actor, DST_DAY, DST_DAY, group)
        assert [row.name for row in mine.rows] == ["Ada Able"]
    # A doctor's own row has the same figures as in the clinic's (Bo's blocked hour too).
    (bo,) = reports.report(clinic, world["b"].actor, DST_DAY, DST_DAY, ReportGroup.DOCTOR).rows
    assert (
        bo == _rows(reports.report(clinic, SYSTEM, DST_DAY, DST_DAY, ReportGroup.DOCTOR))["Bo Bell"]
    )
    assert (bo.booked, bo.offered_minutes, bo.avg_wait_minutes) == (2, 120, pytest.approx(25))
    patient = factories.patient_actor(clinic, factories.patient(clinic))
    with pytest.raises(PermissionDenied):
        reports.report(clinic, patient, DST_DAY, DST_DAY, ReportGroup.DOCTOR)
    assert reports.report(clinic, SYSTEM, DST_DAY, DST_DAY, ReportGroup.DOCTOR).rows


def test_ranges_are_checked(clinic: Clinic) -> None:
    with pytest.raises(ValidationError):
        reports.report(clinic, SYSTEM, DST_DAY, DST_DAY - timedelta(days=1), ReportGroup.DOCTOR)
    with pytest.raises(ValidationError):
        reports.report(clinic, SYSTEM, date(2020, 1, 1), date(2027, 1, 1), ReportGroup.DOCTOR)
    assert reports.report(clinic, SYSTEM, DST_DAY, DST_DAY, ReportGroup.DOCTOR).rows == []


def test_csv_has_a_line_per_row(world: dict) -> None:
    found = reports.report(world["clinic"], world["desk"], DST_DAY, DST_DAY, ReportGroup.DOCTOR)
    lines = report_csv(found).splitlines()
    assert lines[0].startswith("name,booked,attended,no_show,cancelled,pending,")
    assert lines[1] == "Ada Able,3,1,1,1,0,0.500,0.500,0.333,120,180,0.667,36.0,15.0,0"
    assert len(lines) == 4


def test_the_status_use_case_stamps_arrival_and_start(world: dict) -> None:
    """The waiting time's two ends are stamped by `set_status` with the clinic's clock; a
    step taken back by mistake clears its time, so the real one is stamped later."""
    clinic, desk, c = world["clinic"], world["desk"], world["c"]
    visit = _book(clinic, desk, c.doctor_id, _utc(2027, 3, 28, 11))

    def step(status: S, hour: int, minute: int) -> tuple[datetime | None, datetime | None]:
        clinic.clock = lambda: _utc(2027, 3, 28, hour, minute)
        scheduling.set_status(clinic, desk, visit, status)
        with clinic.db.read() as session:
            row = session.get(Appointment, visit)
            assert row is not None
            times = (row.arrived_at, row.in_progress_at)
        return tuple(None if t is None else t.replace(tzinfo=UTC) for t in times)  # type: ignore[return-value]

    assert step(S.ARRIVED, 10, 40) == (_utc(2027, 3, 28, 10, 40), None)  # the wrong patient
    assert step(S.SCHEDULED, 10, 41) == (None, None)
    assert step(S.ARRIVED, 10, 50) == (_utc(2027, 3, 28, 10, 50), None)
    assert step(S.IN_PROGRESS, 10, 55) == (_utc(2027, 3, 28, 10, 50), _utc(2027, 3, 28, 10, 55))
    assert step(S.ARRIVED, 10, 56) == (_utc(2027, 3, 28, 10, 50), None)  # started too soon
    assert step(S.IN_PROGRESS, 11, 5) == (_utc(2027, 3, 28, 10, 50), _utc(2027, 3, 28, 11, 5))
    step(S.COMPLETED, 11, 30)
    step(S.IN_PROGRESS, 11, 31)  # completed too soon: the start stands
    assert step(S.COMPLETED, 11, 40) == (_utc(2027, 3, 28, 10, 50), _utc(2027, 3, 28, 11, 5))
    rows = _rows(reports.report(clinic, desk, DST_DAY, DST_DAY, ReportGroup.DOCTOR))
    assert rows["Cy Cole"].avg_wait_minutes == pytest.approx(15)
    assert rows["Cy Cole"].waits_measured == 1
