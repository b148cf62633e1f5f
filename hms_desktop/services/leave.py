"""Leave, public holidays and blocked time, and rebooking the appointments they affect.

The admin enters a block (a doctor's, or the whole clinic's); from its commit on, the free
slots in it are neither shown nor holdable anywhere (`services/blocking.py` is the one
place that says so). Appointments already booked in it are "affected": the desk moves
them, one by one or all at once, to the next free slots (each move guarded by a hold like
any booking, so two moves never land in one slot), or cancels them with the reason.
Nothing is deleted silently and every step is in the audit log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, or_, select
from sqlalchemy.orm import Session

from hms_desktop.domain import policy
from hms_desktop.domain.enums import AppointmentStatus, BlockKind
from hms_desktop.domain.errors import (
    AppointmentMissing,
    DoctorMissing,
    DomainError,
    InvalidTransition,
    NotFound,
    SlotAlreadyBooked,
    SlotBlocked,
    SlotInPast,
    SlotLocked,
    ValidationError,
)
from hms_desktop.domain.models import (
    Actor,
    AffectedBooking,
    AppointmentRecord,
    MoveReport,
    NotMoved,
    TimeBlock,
    TimeBlockForm,
)
from hms_desktop.domain.policy import Action, Kind, Scope
from hms_desktop.domain.schedule import as_utc, block_bounds
from hms_desktop.domain.validation import MAX_WINDOW
from hms_desktop.services import access, doctors
from hms_desktop.services.blocking import covers, slot_is_blocked
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.scheduling.changes import cancel_appointment, move_into_slot
from hms_desktop.services.scheduling.records import record_query, to_record
from hms_desktop.store.sql import AnyRow
from hms_desktop.store.tables import (
    Appointment,
    Doctor,
    Slot,
    TimeBlockRow,
    User,
    doctor_specialisations,
)

log = logging.getLogger(__name__)

_blocks = cast(Table, TimeBlockRow.__table__)
# Booked and still ahead: what a block affects (a request has no slot yet).
AFFECTED_STATUSES = (AppointmentStatus.SCHEDULED, AppointmentStatus.RESCHEDULED)
# Free slots tried per appointment before looking again (other desks may take them).
CANDIDATES = 8
ROUNDS = 3
# A slot another desk took first: try the next one.
_TAKEN = (SlotLocked, SlotAlreadyBooked, SlotBlocked, SlotInPast, NotFound)


# --- the blocks themselves --------------------------------------------------------------------


def _block_query() -> Any:
    return (
        select(TimeBlockRow, User.first_name, User.last_name)
        .outerjoin(Doctor, Doctor.id == TimeBlockRow.doctor_id)
        .outerjoin(User, User.id == Doctor.user_id)
    )


def _to_block(row: Any) -> TimeBlock:
    block, first, last = row
    return TimeBlock(
        id=block.id,
        doctor_id=block.doctor_id,
        doctor_name=f"{first or ''} {last or ''}".strip(),
        kind=BlockKind(block.kind),
        start=as_utc(block.start_at),
        end=as_utc(block.end_at),
        all_day=block.all_day,
        reason=block.reason,
        created_by=block.created_by,
        created_at=as_utc(block.created_at),
    )


def _visible_blocks(actor: Actor) -> Any:
    """A doctor sees their own leave and the clinic's holidays; the desk sees all."""
    if policy.require(actor, Kind.LEAVE, Action.READ) is Scope.ALL:
        return True
    return or_(TimeBlockRow.doctor_id == actor.doctor_id, TimeBlockRow.doctor_id.is_(None))


def list_blocks(clinic: Clinic, actor: Actor, *, include_past: bool = False) -> list[TimeBlock]:
    """Blocks in time order: those not over yet, or every one with `include_past`."""
    query = _block_query().where(_visible_blocks(actor))
    if not include_past:
        query = query.where(TimeBlockRow.end_at > clinic.now())
    with clinic.db.read() as session:
        rows = session.execute(query.order_by(TimeBlockRow.start_at, TimeBlockRow.id))
        return [_to_block(row) for row in rows]


def add_block(clinic: Clinic, actor: Actor, form: TimeBlockForm) -> TimeBlock:
    """Enter leave, a holiday or blocked time; its free slots stop being bookable at once."""
    policy.require(actor, Kind.LEAVE, Action.CREATE)
    start, end, reason = block_bounds(form, clinic.settings.tz)
    with clinic.work(actor) as work:
        session = work.session
        if form.doctor_id is not None and session.get(Doctor, form.doctor_id) is None:
            raise DoctorMissing()
        row = TimeBlockRow(
            doctor_id=form.doctor_id,
            kind=form.kind.value,
            start_at=start,
            end_at=end,
            all_day=form.start_time is None,
            reason=reason,
            created_by=actor.username,
            created_at=clinic.now(),
        )
        session.add(row)
        session.flush()
        affected = _affected_count(session, clinic, row.id)
        work.record(
            "add",
            "time_block",
            row.id,
            doctor_id=form.doctor_id,
            kind=form.kind.value,
            start=start.isoformat(),
            end=end.isoformat(),
            reason=reason,
            affected=affected,
        )
        # Every desk's calendar and the API's cached free slots drop the blocked ones.
        work.publish("schedule", doctor_id=form.doctor_id, extra={"block_id": row.id})
        block = _to_block(session.execute(_block_query().where(TimeBlockRow.id == row.id)).one())
    log.info("%s blocked %s to %s (%s): %d affected", actor.username, start, end, reason, affected)
    return block


def remove_block(clinic: Clinic, actor: Actor, block_id: int) -> None:
    """Take a block away: its slots are bookable again (booked ones were never touched)."""
    policy.require(actor, Kind.LEAVE, Action.DELETE)
    with clinic.work(actor) as work:
        row = work.session.get(TimeBlockRow, block_id)
        if row is None:
            raise NotFound("No such leave or blocked time.")
        work.record(
            "remove",
            "time_block",
            block_id,
            doctor_id=row.doctor_id,
            start=as_utc(row.start_at).isoformat(),
            end=as_utc(row.end_at).isoformat(),
            reason=row.reason,
        )
        work.publish("schedule", doctor_id=row.doctor_id, extra={"block_id": block_id})
        work.session.delete(row)


# --- affected bookings ------------------------------------------------------------------------


def _affected_query(clinic: Clinic) -> Any:
    return (
        record_query()
        .add_columns(_blocks.c.id, _blocks.c.reason)
        .join(_blocks, covers(Slot.doctor_id, Slot.start_at))
        .where(
            Appointment.status.in_([status.value for status in AFFECTED_STATUSES]),
            Slot.start_at > clinic.now(),
        )
    )


def _affected_count(session: Session, clinic: Clinic, block_id: int) -> int:
    rows = session.execute(_affected_query(clinic).where(_blocks.c.id == block_id)).all()
    return len({row[0] for row in rows})  # the appointment id


def affected_bookings(
    clinic: Clinic, actor: Actor, block_id: int | None = None
) -> list[AffectedBooking]:
    """Booked appointments still ahead inside a block (this one, or any), in time order;
    one inside two blocks is listed once, under the earlier block."""
    policy.require(actor, Kind.LEAVE, Action.READ)
    query = _affected_query(clinic).where(
        access.visible(
            actor,
            Kind.APPOINTMENT,
            Action.READ,
            patient=Appointment.patient_id,
            doctor=Appointment.doctor_id,
        )
    )
    if block_id is not None:
        query = query.where(_blocks.c.id == block_id)
    query = query.order_by(Slot.start_at, Appointment.id, _blocks.c.start_at, _blocks.c.id)
    found: dict[int, AffectedBooking] = {}
    with clinic.db.read() as session:
        for row in session.execute(query):
            # The record's columns, then the block's two (to_record only unpacks them).
            record = to_record(cast(AnyRow, tuple(row)[:-2]))
            found.setdefault(record.id, AffectedBooking(record, row[-2], row[-1]))
    return list(found.values())


def _still_blocked(clinic: Clinic, record: AppointmentRecord) -> bool:
    if record.slot_id is None or record.status not in AFFECTED_STATUSES:
        return False
    with clinic.db.read() as session:
        return bool(
            session.scalar(
                select(slot_is_blocked(Slot.doctor_id, Slot.start_at)).where(
                    Slot.id == record.slot_id
                )
            )
        )


def _colleagues(clinic: Clinic, doctor_id: int) -> list[int]:
    """The doctor and every doctor sharing their (first) speciality."""
    with clinic.db.read() as session:
        speciality = session.scalar(
            select(doctor_specialisations.c.specialisation_id)
            .where(doctor_specialisations.c.doctor_id == doctor_id)
            .order_by(doctor_specialisations.c.position)
            .limit(1)
        )
        if speciality is None:
            return [doctor_id]
        others = session.scalars(
            select(doctor_specialisations.c.doctor_id).where(
                doctor_specialisations.c.specialisation_id == speciality
            )
        )
        return sorted({doctor_id, *others})


def _move_one(
    clinic: Clinic, actor: Actor, record: AppointmentRecord, doctor_ids: Sequence[int]
) -> AppointmentRecord | str:
    """Into the earliest free slot from the appointment's own time on (never earlier than
    the patient planned), trying the next when another desk took one first; else why not."""
    start: datetime = max(clinic.now(), record.start or clinic.now())
    tried: set[int] = set()
    for _ in range(ROUNDS):
        candidates = [
            slot
            for slot in doctors.free_slots(
                clinic, actor, doctor_ids, start, start + MAX_WINDOW, limit=CANDIDATES
            )
            if slot.id not in tried
        ]
        if not candidates:
            break
        for slot in candidates:
            tried.add(slot.id)
            try:
                return move_into_slot(
                    clinic,
                    actor,
                    record.id,
                    slot.id,
                    new_status=AppointmentStatus.RESCHEDULED,
                    allowed=AFFECTED_STATUSES,
                    action="reschedule",
                    permission=Action.MOVE,
                    from_slot_id=record.slot_id,
                )
            except _TAKEN:
                continue
    return f"No free slot in the {MAX_WINDOW.days} days after it."


def move_affected(
    clinic: Clinic, actor: Actor, appointment_ids: Sequence[int], *, other_doctors: bool = False
) -> MoveReport:
    """Move each appointment (still inside a block) to the next free slot of its doctor, or
    with `other_doctors` of any doctor of the same speciality. Each move is a reschedule
    guarded by a hold, so racing desks never put two patients in one slot; what could not
    be moved is reported with the reason and left where it was."""
    policy.require(actor, Kind.APPOINTMENT, Action.MOVE)
    moved: list[AppointmentRecord] = []
    not_moved: list[NotMoved] = []
    for appointment_id in dict.fromkeys(appointment_ids):
        try:
            with clinic.db.read() as session:
                row = session.execute(record_query().where(Appointment.id == appointment_id))
                found = row.first()
            if found is None:
                raise AppointmentMissing()
            record = to_record(found)
            if not _still_blocked(clinic, record):
                not_moved.append(NotMoved(appointment_id, "It is no longer in blocked time."))
                continue
            doctor_ids = _colleagues(clinic, record.doctor_id) if other_doctors else []
            outcome = _move_one(clinic, actor, record, doctor_ids or [record.doctor_id])
        except InvalidTransition:
            outcome = "Another desk has moved or changed it meanwhile."
        except DomainError as error:
            outcome = error.message
        if isinstance(outcome, str):
            not_moved.append(NotMoved(appointment_id, outcome))
        else:
            moved.append(outcome)
    return MoveReport(tuple(moved), tuple(not_moved))


def cancel_affected(
    clinic: Clinic, actor: Actor, appointment_id: int, reason: str
) -> AppointmentRecord:
    """Cancel an appointment with the reason (the doctor's leave), kept and audited."""
    if not reason.strip():
        raise ValidationError("Give the reason the patient will be told.", field="reason")
    return cancel_appointment(clinic, actor, appointment_id, reason=reason)
