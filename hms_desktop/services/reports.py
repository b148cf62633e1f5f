"""Reports: per doctor or per speciality, over a range of the clinic's days (see
domain/reports.py for what each figure means).

The figures are counted by the database, not by loading appointments: one statement for
the bookings (conditional aggregates grouped by doctor or speciality; the waits from the
appointments' own arrived / in-progress times) and one for the minutes offered; a third
names the rows. A day range [first, last] is the clinic's local midnights in UTC, so a
day when the clocks change is 23 or 25 hours long, as it was at the desk.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select, Subquery

from hms_desktop.domain import policy
from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import Actor
from hms_desktop.domain.policy import Action, Kind, Scope
from hms_desktop.domain.reports import REPORT_MAX_DAYS, Report, ReportGroup, ReportRow
from hms_desktop.domain.schedule import local_day_bounds
from hms_desktop.domain.waitlist import WaitlistStatus
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import (
    Appointment,
    Doctor,
    Slot,
    Specialisation,
    TimeBlockRow,
    User,
    WaitlistEntryRow,
    doctor_specialisations,
)

_S = AppointmentStatus
REPORT_WORK_MEM = "64MB"
_ATTENDED = (_S.ARRIVED.value, _S.IN_PROGRESS.value, _S.COMPLETED.value)


def _total_minutes(
    later: Any, earlier: Any, where: ColumnElement[bool], dialect: str
) -> ColumnElement[Any]:
    """The sum of `later - earlier` in minutes over the rows `where` holds, on either store
    (NULL over none)."""
    if dialect == "postgresql":
        # Adding up intervals and converting the one total is cheaper than converting each.
        return func.date_part("epoch", func.sum(later - earlier).filter(where)) / 60.0
    # SQLite keeps timestamps as text.
    return func.sum((func.julianday(later) - func.julianday(earlier)) * 1440.0).filter(where)


def _count(where: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.count().filter(where)


def _primary_specialities() -> Any:
    """Each doctor's first speciality (the booking API's `speciality`): a doctor counts
    once, so the specialities add up to the clinic (doctors without one are key 0)."""
    link = doctor_specialisations.c
    order = func.row_number().over(
        partition_by=link.doctor_id, order_by=(link.position, link.specialisation_id)
    )
    ranked = select(link.doctor_id, link.specialisation_id, order.label("n")).subquery()
    return (
        select(ranked.c.doctor_id, ranked.c.specialisation_id.label("key"))
        .where(ranked.c.n == 1)
        .subquery("primary_speciality")
    )


def _rolled_up(per_doctor: Subquery, group: ReportGroup) -> Select[Any]:
    """Figures counted per doctor, as rows per `group`'s key. The database groups the
    appointments (or slots) by doctor, then adds up the few doctors' rows per speciality:
    cheaper than looking up every appointment's speciality, and the same sums."""
    figures = [column for column in per_doctor.c if column.name != "doctor_id"]
    if group is ReportGroup.DOCTOR:
        return select(per_doctor.c.doctor_id.label("key"), *figures)
    keys = _primary_specialities()
    key = func.coalesce(keys.c.key, 0)
    return (
        select(key.label("key"), *(func.sum(column).label(column.name) for column in figures))
        .select_from(per_doctor)
        .outerjoin(keys, keys.c.doctor_id == per_doctor.c.doctor_id)
        .group_by(key)
    )


def _bookings(
    session: Session, group: ReportGroup, start: datetime, end: datetime, doctor: int | None
) -> dict[int, Any]:
    """Counts, minutes, and the lead and waiting times as totals with their counts (so a
    speciality's average is over its visits, not an average of its doctors' averages)."""
    dialect = session.get_bind().dialect.name
    kept = Appointment.status != _S.CANCELLED.value
    arrived, started = Appointment.arrived_at, Appointment.in_progress_at
    # A visit started before the patient was marked arrived (marked late) is not a wait.
    waited = started >= arrived
    per_doctor = (
        select(
            Appointment.doctor_id.label("doctor_id"),
            func.count().label("booked"),
            _count(Appointment.status.in_(_ATTENDED)).label("attended"),
            _count(Appointment.status == _S.NO_SHOW.value).label("no_show"),
            _count(Appointment.status == _S.CANCELLED.value).label("cancelled"),
            func.coalesce(func.sum(Slot.duration).filter(kept), 0).label("minutes"),
            _total_minutes(Slot.start_at, Appointment.created_at, kept, dialect).label(
                "lead_total"
            ),
            _count(kept).label("leads"),
            _total_minutes(started, arrived, waited, dialect).label("wait_total"),
            _count(waited).label("waits"),
        )
        .select_from(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(
            Slot.start_at >= start,
            Slot.start_at < end,
            Appointment.status != _S.DECLINED.value,
        )
        .group_by(Appointment.doctor_id)
    )
    if doctor is not None:
        per_doctor = per_doctor.where(Appointment.doctor_id == doctor)
    query = _rolled_up(per_doctor.subquery("per_doctor"), group)
    return {row.key: row for row in session.execute(query)}


def _offered(
    session: Session, group: ReportGroup, start: datetime, end: datetime, doctor: int | None
) -> dict[int, int]:
    """Minutes of the doctors' slots in the range, less the free ones inside a block (leave,
    a holiday, blocked time). The blocked slots are found from the few blocks' side (an
    index range of slots per block), not by checking every slot against every block."""
    taken = exists().where(
        Appointment.slot_id == Slot.id,
        Appointment.status.not_in((_S.CANCELLED.value, _S.DECLINED.value)),
    )
    blocked_free = (
        select(Slot.id)
        .select_from(TimeBlockRow)
        .join(
            Slot,
            and_(
                Slot.start_at >= TimeBlockRow.start_at,
                Slot.start_at < TimeBlockRow.end_at,
                or_(TimeBlockRow.doctor_id.is_(None), TimeBlockRow.doctor_id == Slot.doctor_id),
            ),
        )
        .where(TimeBlockRow.end_at > start, TimeBlockRow.start_at < end, ~taken)
    )
    if doctor is not None:
        # The planner does not push the doctor into this lookup by itself: it would find
        # every doctor's blocked slots for one doctor's report.
        blocked_free = blocked_free.where(Slot.doctor_id == doctor)
    per_doctor = (
        select(Slot.doctor_id.label("doctor_id"), func.sum(Slot.duration).label("minutes"))
        .where(Slot.start_at >= start, Slot.start_at < end, Slot.id.not_in(blocked_free))
        .group_by(Slot.doctor_id)
    )
    if doctor is not None:
        per_doctor = per_doctor.where(Slot.doctor_id == doctor)
    query = _rolled_up(per_doctor.subquery("per_doctor"), group)
    return {row.key: int(row.minutes or 0) for row in session.execute(query)}


def _fills(
    session: Session, group: ReportGroup, start: datetime, end: datetime, doctor: int | None
) -> dict[int, int]:
    """Bookings made from the waitlist whose slot is in the range (the entries marked
    filled, each with its appointment): the few entries drive the join, so the year's
    appointments are not scanned again."""
    per_doctor = (
        select(Appointment.doctor_id.label("doctor_id"), func.count().label("fills"))
        .select_from(WaitlistEntryRow)
        .join(Appointment, Appointment.id == WaitlistEntryRow.appointment_id)
        .join(Slot, Slot.id == Appointment.slot_id)
        .where(
            WaitlistEntryRow.status == WaitlistStatus.FILLED.value,
            Slot.start_at >= start,
            Slot.start_at < end,
        )
        .group_by(Appointment.doctor_id)
    )
    if doctor is not None:
        per_doctor = per_doctor.where(Appointment.doctor_id == doctor)
    query = _rolled_up(per_doctor.subquery("per_doctor"), group)
    return {row.key: int(row.fills or 0) for row in session.execute(query)}


def _names(session: Session, group: ReportGroup, keys: set[int]) -> dict[int, str]:
    if group is ReportGroup.DOCTOR:
        full = User.first_name + literal(" ") + User.last_name
        rows = session.execute(
            select(Doctor.id, full).join(User, User.id == Doctor.user_id).where(Doctor.id.in_(keys))
        )
        return {key: name.strip() for key, name in rows}
    rows = session.execute(
        select(Specialisation.id, Specialisation.name).where(Specialisation.id.in_(keys))
    )
    return {0: "(no speciality)", **{key: name for key, name in rows}}


@contextmanager
def _report_memory(session: Session) -> Iterator[None]:
    """On PostgreSQL, room for the hash of the range's slots that the appointments are
    joined to (a year of a 50-doctor clinic is ~13 MB: in the default 4 MB the join spills
    to disk and costs a quarter more); the connection's setting is put back after."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(text(f"SET work_mem = '{REPORT_WORK_MEM}'"))
    try:
        yield
    finally:
        # A connection that broke mid-report is thrown away, settings and all.
        with suppress(SQLAlchemyError):
            session.execute(text("RESET work_mem"))


def _average(total: Any, count: Any) -> float | None:
    return float(total) / int(count) if count else None


def report(clinic: Clinic, actor: Actor, first: date, last: date, group: ReportGroup) -> Report:
    """The figures for the clinic's days `first` to `last` (both included), a row per doctor
    or per speciality; a doctor sees only their own row."""
    granted = policy.require(actor, Kind.REPORTS, Action.READ)
    if last < first:
        raise ValidationError("The last day must not be before the first.", field="last")
    if (last - first).days >= REPORT_MAX_DAYS:
        raise ValidationError(f"A report covers at most {REPORT_MAX_DAYS} days.", field="last")
    doctor: int | None = None
    if granted is not Scope.ALL:
        if actor.doctor_id is None:
            return Report(first, last, group, [])
        doctor = actor.doctor_id
        group = ReportGroup.DOCTOR
    start = local_day_bounds(first, clinic.settings.tz)[0]
    end = local_day_bounds(last, clinic.settings.tz)[1]
    with clinic.db.read() as session, _report_memory(session):
        booked = _bookings(session, group, start, end, doctor)
        offered = _offered(session, group, start, end, doctor)
        fills = _fills(session, group, start, end, doctor)
        names = _names(session, group, set(booked) | set(offered))
    rows = []
    for key in set(booked) | set(offered):
        row = booked.get(key)
        rows.append(
            ReportRow(
                key=key,
                name=names.get(key, str(key)),
                booked=int(row.booked) if row else 0,
                attended=int(row.attended) if row else 0,
                no_show=int(row.no_show) if row else 0,
                cancelled=int(row.cancelled) if row else 0,
                booked_minutes=int(row.minutes) if row else 0,
                offered_minutes=offered.get(key, 0),
                avg_lead_minutes=_average(row.lead_total, row.leads) if row else None,
                avg_wait_minutes=_average(row.wait_total, row.waits) if row else None,
                waits_measured=int(row.waits) if row else 0,
                waitlist_fills=fills.get(key, 0),
            )
        )
    rows.sort(key=lambda row: (row.name.lower(), row.key))
    return Report(first, last, group, rows)
