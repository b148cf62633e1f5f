"""Reports: per doctor or per speciality, over a range of the clinic's days (see
domain/reports.py for what each figure means).

The figures are counted by the database, not by loading appointments: one statement for
the bookings (conditional aggregates grouped by doctor or speciality, with the waits from
the audit trail's status entries joined in) and one for the minutes offered; a third
names the rows. A day range [first, last] is the clinic's local midnights in UTC, so a
day when the clocks change is 23 or 25 hours long, as it was at the desk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from hms_desktop.domain import policy
from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import Actor
from hms_desktop.domain.policy import Action, Kind, Scope
from hms_desktop.domain.reports import REPORT_MAX_DAYS, Report, ReportGroup, ReportRow
from hms_desktop.domain.schedule import local_day_bounds
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import (
    Appointment,
    AuditEntry,
    Doctor,
    Slot,
    Specialisation,
    TimeBlockRow,
    User,
    doctor_specialisations,
)

_S = AppointmentStatus
REPORT_WORK_MEM = "64MB"
_ATTENDED = (_S.ARRIVED.value, _S.IN_PROGRESS.value, _S.COMPLETED.value)
# What `set_status` writes to the audit trail (UnitOfWork.record's JSON of the detail).
_ARRIVED = json.dumps({"status": _S.ARRIVED.value})
_STARTED = json.dumps({"status": _S.IN_PROGRESS.value})


def _minutes(later: Any, earlier: Any, dialect: str) -> ColumnElement[Any]:
    """`later - earlier` in minutes, on either store (SQLite keeps timestamps as text)."""
    if dialect == "postgresql":
        # date_part answers a double; EXTRACT a numeric, several times slower to average.
        return func.date_part("epoch", later - earlier) / 60.0
    return (func.julianday(later) - func.julianday(earlier)) * 1440.0


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


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


def _waits(start: datetime, end: datetime) -> Any:
    """Per appointment, when it first became arrived and in progress (from the audit
    trail: the table has no status times of its own). A day's slack each side catches
    a visit marked around midnight."""
    arrived = func.min(case((AuditEntry.detail == _ARRIVED, AuditEntry.at)))
    started = func.min(case((AuditEntry.detail == _STARTED, AuditEntry.at)))
    # An integer key joins and groups faster than the text column; only appointments'
    # status entries get here, whose entity ids are their (integer) ids.
    appointment_id = cast(AuditEntry.entity_id, Integer)
    return (
        select(
            appointment_id.label("appointment_id"),
            arrived.label("arrived_at"),
            started.label("started_at"),
        )
        .where(
            AuditEntry.action == "status",
            AuditEntry.entity == "appointment",
            AuditEntry.detail.in_((_ARRIVED, _STARTED)),
            AuditEntry.at >= start - timedelta(days=1),
            AuditEntry.at < end + timedelta(days=1),
        )
        .group_by(appointment_id)
        .subquery("waits")
    )


def _bookings(
    session: Session, group: ReportGroup, start: datetime, end: datetime, doctor: int | None
) -> dict[int, Any]:
    dialect = session.get_bind().dialect.name
    waits = _waits(start, end)
    kept = Appointment.status != _S.CANCELLED.value
    lead = _minutes(Slot.start_at, Appointment.created_at, dialect)
    wait = case(
        (
            waits.c.started_at >= waits.c.arrived_at,
            _minutes(waits.c.started_at, waits.c.arrived_at, dialect),
        )
    )
    keys = _primary_specialities()
    key = Appointment.doctor_id if group is ReportGroup.DOCTOR else func.coalesce(keys.c.key, 0)
    query = (
        select(
            key.label("key"),
            func.count().label("booked"),
            _count(Appointment.status.in_(_ATTENDED)).label("attended"),
            _count(Appointment.status == _S.NO_SHOW.value).label("no_show"),
            _count(Appointment.status == _S.CANCELLED.value).label("cancelled"),
            func.coalesce(func.sum(case((kept, Slot.duration), else_=0)), 0).label("minutes"),
            func.avg(case((kept, lead))).label("lead"),
            func.avg(wait).label("wait"),
            func.count(wait).label("waits"),
        )
        .select_from(Appointment)
        .join(Slot, Slot.id == Appointment.slot_id)
        .outerjoin(waits, waits.c.appointment_id == Appointment.id)
        .where(
            Slot.start_at >= start,
            Slot.start_at < end,
            Appointment.status != _S.DECLINED.value,
        )
        .group_by(key)
    )
    if group is ReportGroup.SPECIALITY:
        query = query.outerjoin(keys, keys.c.doctor_id == Appointment.doctor_id)
    if doctor is not None:
        query = query.where(Appointment.doctor_id == doctor)
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
    keys = _primary_specialities()
    key = Slot.doctor_id if group is ReportGroup.DOCTOR else func.coalesce(keys.c.key, 0)
    query = (
        select(key.label("key"), func.sum(Slot.duration).label("minutes"))
        .where(Slot.start_at >= start, Slot.start_at < end, Slot.id.not_in(blocked_free))
        .group_by(key)
    )
    if group is ReportGroup.SPECIALITY:
        query = query.outerjoin(keys, keys.c.doctor_id == Slot.doctor_id)
    if doctor is not None:
        query = query.where(Slot.doctor_id == doctor)
    return {row.key: int(row.minutes or 0) for row in session.execute(query)}


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
    """On PostgreSQL, room for the waiting times' aggregate (one entry per visit: a year of
    a busy clinic spills the default 4 MB to disk) and no parallel workers (each would
    build that aggregate again for itself); the connection's settings are put back after."""
    if session.get_bind().dialect.name != "postgresql":
        yield
        return
    session.execute(text(f"SET work_mem = '{REPORT_WORK_MEM}'"))
    session.execute(text("SET max_parallel_workers_per_gather = 0"))
    try:
        yield
    finally:
        # A connection that broke mid-report is thrown away, settings and all.
        with suppress(SQLAlchemyError):
            session.execute(text("RESET work_mem"))
            session.execute(text("RESET max_parallel_workers_per_gather"))


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


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
                avg_lead_minutes=_float(row.lead) if row else None,
                avg_wait_minutes=_float(row.wait) if row else None,
                waits_measured=int(row.waits) if row else 0,
            )
        )
    rows.sort(key=lambda row: (row.name.lower(), row.key))
    return Report(first, last, group, rows)
