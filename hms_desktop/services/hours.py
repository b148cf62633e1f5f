"""A doctor's weekly hours, and the slots that follow from them: changing the hours without
losing a booked or held slot, and keeping every doctor's slots `booking_horizon_days` ahead.

Slots are made by insert-or-ignore on the (doctor, start) unique constraint, so making them
twice, or from several processes at once (`serve`, a desktop logging in, a cron job), makes
each slot once. A doctor's row is locked while their slots are made or reshaped, so a top-up
never writes slots from hours that are being replaced at that moment.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session

from hms_desktop.domain import policy
from hms_desktop.domain.enums import FREEING_STATUSES
from hms_desktop.domain.errors import DoctorMissing, LockStoreUnavailable
from hms_desktop.domain.models import Actor, AppointmentRecord, Hold, HoursSaved, WorkingHours
from hms_desktop.domain.policy import Action, Kind, Owner
from hms_desktop.domain.schedule import as_utc, check_hours, local_day_bounds, slot_starts
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.clinic_settings import booking_horizon_days
from hms_desktop.services.scheduling.records import record_query, to_record
from hms_desktop.store.locks import expiry
from hms_desktop.store.sql import insert_new_rows
from hms_desktop.store.tables import Appointment, Doctor, Slot, WorkingHoursRow

log = logging.getLogger(__name__)

# A slot about to be removed is held this long by the hours change (it takes milliseconds;
# if the process dies meanwhile, the slot is bookable again after this).
RESHAPE_HOLD_MS = 60_000


# --- changing the hours -----------------------------------------------------------------------


@dataclass(frozen=True)
class _FutureSlot:
    id: int
    start: datetime
    duration: int
    ever_booked: bool


def change_working_hours(
    clinic: Clinic, actor: Actor, doctor_id: int, hours: Sequence[WorkingHours]
) -> HoursSaved:
    """Replace a doctor's weekly hours. Future slots that fit the new hours stay as they are;
    free ones that do not are removed, except those someone holds right now; booked ones
    always stay, and are listed so the desk can move them."""
    policy.require(actor, Kind.DOCTOR, Action.UPDATE, Owner(doctor_id=doctor_id))
    hours = list(hours)
    check_hours(hours)
    now, horizon = clinic.now(), booking_horizon_days(clinic)
    with clinic.db.read() as session:
        if session.get(Doctor, doctor_id) is None:
            raise DoctorMissing()
        future = _future_slots(session, doctor_id, now)
    # The new hours over the horizon, or as far as slots were already made (by a longer
    # `slots extend --days`), so slots beyond the horizon follow the new hours too.
    today = clinic.today()
    last_day = max([today + timedelta(days=horizon - 1)] + [_local_day(clinic, s) for s in future])
    wanted = _wanted(clinic, hours, today, (last_day - today).days + 1, after=now)
    horizon_end = local_day_bounds(today + timedelta(days=horizon - 1), clinic.settings.tz)[1]
    ahead = sum(1 for start, _ in wanted if start < horizon_end)
    misfits = [s for s in future if not s.ever_booked and (s.start, s.duration) not in wanted]
    guarded, kept_held = _guard(clinic, actor, [s.id for s in misfits])
    try:
        with clinic.work(actor) as work:
            session = work.session
            _lock_doctor(session, doctor_id)
            session.execute(delete(WorkingHoursRow).where(WorkingHoursRow.doctor_id == doctor_id))
            session.add_all(
                WorkingHoursRow(
                    doctor_id=doctor_id,
                    weekday=window.weekday,
                    start_time=window.start,
                    end_time=window.end,
                    slot_minutes=window.slot_minutes,
                )
                for window in hours
            )
            # Only slots this change holds, and never one that got an appointment meanwhile.
            for start in range(0, len(guarded), 500):
                session.execute(
                    delete(Slot).where(
                        Slot.id.in_(list(guarded)[start : start + 500]),
                        ~exists().where(Appointment.slot_id == Slot.id),
                    )
                )
            _drop_late_misfits(clinic, session, doctor_id, now, {s.id for s in future}, wanted)
            made = _insert(session, doctor_id, wanted)
            outside = _booked_outside(session, doctor_id, now, wanted)
            horizon_end = local_day_bounds(today + timedelta(days=horizon - 1), clinic.settings.tz)[
                1
            ]
            ahead = sum(1 for start, _ in wanted if start < horizon_end)
            work.record(
                "set_hours",
                "doctor",
                doctor_id,
                windows=len(hours),
                slots=ahead,
                made=made,
                removed=len(guarded),
                kept_held=kept_held,
                outside=len(outside),
            )
            work.publish("schedule", doctor_id=doctor_id)
    finally:
        _unguard(clinic, guarded)
    return HoursSaved(slots=ahead, kept_held=kept_held, outside=tuple(outside))


def _future_slots(session: Session, doctor_id: int, now: datetime) -> list[_FutureSlot]:
    rows = session.execute(
        select(
            Slot.id,
            Slot.start_at,
            Slot.duration,
            exists().where(Appointment.slot_id == Slot.id),
        ).where(Slot.doctor_id == doctor_id, Slot.start_at > now)
    )
    return [_FutureSlot(row[0], as_utc(row[1]), row[2], bool(row[3])) for row in rows]


def _drop_late_misfits(
    clinic: Clinic,
    session: Session,
    doctor_id: int,
    now: datetime,
    known: set[int],
    wanted: dict[tuple[datetime, int], None],
) -> None:
    """A top-up that ran between reading the slots and locking the doctor made slots from
    the old hours: remove those that do not fit the new ones (unless booked or held)."""
    late = [
        s
        for s in _future_slots(session, doctor_id, now)
        if s.id not in known and not s.ever_booked and (s.start, s.duration) not in wanted
    ]
    if late:
        held = clinic.locks.get_many(s.id for s in late)
        free = [s.id for s in late if s.id not in held]
        for start in range(0, len(free), 500):
            session.execute(delete(Slot).where(Slot.id.in_(free[start : start + 500])))


def _local_day(clinic: Clinic, slot: _FutureSlot) -> date:
    return slot.start.astimezone(clinic.settings.tz).date()


def _wanted(
    clinic: Clinic, hours: Sequence[WorkingHours], first_day: date, days: int, *, after: datetime
) -> dict[tuple[datetime, int], None]:
    """The slots `hours` make over `days` local days from `first_day`, after `after`, in order."""
    return {
        (start, minutes): None
        for start, minutes in slot_starts(hours, first_day, max(days, 0), clinic.settings.tz)
        if start > after
    }


def _guard(clinic: Clinic, actor: Actor, slot_ids: Sequence[int]) -> tuple[dict[int, str], int]:
    """Hold each slot about to be removed, as a desk would, so no desk or patient can hold
    (and then book) it while it goes. A slot someone else holds is kept. Returns the slots
    this change holds (id -> token) and how many were kept for their holders."""
    holds = [
        Hold(
            token=str(uuid.uuid4()),
            slot_id=slot_id,
            patient_id=0,
            holder_user_id=actor.user_id,
            holder=f"{actor.username} (changing hours)",
            expires_at=expiry(RESHAPE_HOLD_MS),
        )
        for slot_id in slot_ids
    ]
    guarded: dict[int, str] = {}
    # The embedded store holds them all in one transaction (one write per slot would take
    # seconds for a month of slots); Redis answers each in well under a millisecond.
    acquire_many = getattr(clinic.locks, "acquire_many", None)
    try:
        if acquire_many is not None:
            taken = acquire_many(holds, RESHAPE_HOLD_MS)
            guarded = {hold.slot_id: hold.token for hold in holds if hold.slot_id in taken}
        else:
            for hold in holds:
                current = clinic.locks.acquire(hold, RESHAPE_HOLD_MS)
                if current is not None and current.token == hold.token:
                    guarded[hold.slot_id] = hold.token
    except LockStoreUnavailable:
        _unguard(clinic, guarded)
        raise
    return guarded, len(holds) - len(guarded)


def _unguard(clinic: Clinic, guarded: dict[int, str]) -> None:
    release_many = getattr(clinic.locks, "release_many", None)
    if release_many is not None:
        release_many(guarded)
        return
    for slot_id, token in guarded.items():
        try:
            clinic.locks.release(slot_id, token)
        except LockStoreUnavailable:
            log.warning("could not release the hours change's hold on slot %s", slot_id)


def _lock_doctor(session: Session, doctor_id: int) -> None:
    """Serialise changes to one doctor's slots across processes (PostgreSQL's row lock; an
    embedded database's write transaction already excludes every other writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(Doctor.id).where(Doctor.id == doctor_id).with_for_update())


def _insert(session: Session, doctor_id: int, wanted: dict[tuple[datetime, int], None]) -> int:
    rows = [
        {"doctor_id": doctor_id, "start_at": start, "duration": minutes}
        for start, minutes in wanted
    ]
    return insert_new_rows(session, Slot, rows, unique=("doctor_id", "start_at")) if rows else 0


def _booked_outside(
    session: Session, doctor_id: int, now: datetime, wanted: dict[tuple[datetime, int], None]
) -> list[AppointmentRecord]:
    rows = session.execute(
        record_query()
        .where(
            Appointment.doctor_id == doctor_id,
            Appointment.status.not_in(FREEING_STATUSES),
            Slot.start_at > now,
        )
        .order_by(Slot.start_at)
    )
    records = [to_record(row) for row in rows]
    return [
        record
        for record in records
        if record.start is not None and (record.start, record.duration or 0) not in wanted
    ]


# --- keeping slots ahead ----------------------------------------------------------------------


def top_up(
    clinic: Clinic,
    days: int | None = None,
    doctor_ids: Sequence[int] | None = None,
    *,
    stop: threading.Event | None = None,
) -> int:
    """Make every doctor's slots reach `days` (the booking horizon) ahead; returns how many
    slots were made. Only days after a doctor's newest slot are filled, so slots removed on
    purpose within the covered range stay removed. Idempotent and safe to run from several
    processes at once; `stop` ends it early, between two doctors."""
    horizon = days if days is not None else booking_horizon_days(clinic)
    made = 0
    for doctor_id in _short_doctors(clinic, horizon, doctor_ids):
        if stop is not None and stop.is_set():  # the server is shutting down
            break
        made += _top_up_doctor(clinic, doctor_id, horizon)
    if made:
        log.info("made %s slots to keep %s days ahead", made, horizon)
    return made


def needs_top_up(clinic: Clinic, days: int | None = None) -> bool:
    """Whether any doctor's newest slot is short of the horizon (two reads, no writes)."""
    horizon = days if days is not None else booking_horizon_days(clinic)
    return bool(_short_doctors(clinic, horizon, None))


def _short_doctors(clinic: Clinic, days: int, doctor_ids: Sequence[int] | None) -> list[int]:
    """Doctors (in id order, so concurrent top-ups lock them in one order) whose hours would
    make a slot after their newest one within `days`."""
    with clinic.db.read() as session:
        query = select(WorkingHoursRow)
        if doctor_ids is not None:
            query = query.where(WorkingHoursRow.doctor_id.in_(list(doctor_ids)))
        by_doctor: dict[int, list[WorkingHours]] = {}
        for row in session.scalars(query):
            by_doctor.setdefault(row.doctor_id, []).append(_window(row))
        newest = dict(
            session.execute(
                select(Slot.doctor_id, func.max(Slot.start_at))
                .where(Slot.doctor_id.in_(list(by_doctor)))
                .group_by(Slot.doctor_id)
            ).all()
        )
    return [
        doctor_id
        for doctor_id in sorted(by_doctor)
        if _missing(clinic, by_doctor[doctor_id], newest.get(doctor_id), days)
    ]


def _missing(
    clinic: Clinic, hours: Sequence[WorkingHours], newest: datetime | None, days: int
) -> dict[tuple[datetime, int], None]:
    """The slots `hours` make after `newest` (and after now) within `days` from today."""
    now, today = clinic.now(), clinic.today()
    after = max(now, as_utc(newest)) if newest is not None else now
    first_day = max(today, after.astimezone(clinic.settings.tz).date())
    return _wanted(
        clinic, hours, first_day, (today + timedelta(days=days) - first_day).days, after=after
    )


def _top_up_doctor(clinic: Clinic, doctor_id: int, days: int) -> int:
    with clinic.db.transaction() as session:
        _lock_doctor(session, doctor_id)
        # Read again under the lock: another process may have just made these slots, or the
        # hours may have just changed.
        hours = [
            _window(row)
            for row in session.scalars(
                select(WorkingHoursRow).where(WorkingHoursRow.doctor_id == doctor_id)
            )
        ]
        newest = session.scalar(select(func.max(Slot.start_at)).where(Slot.doctor_id == doctor_id))
        return _insert(session, doctor_id, _missing(clinic, hours, newest, days))


def _window(row: WorkingHoursRow) -> WorkingHours:
    return WorkingHours(row.weekday, row.start_time, row.end_time, row.slot_minutes)
