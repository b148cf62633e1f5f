"""The booking hot path's statements, built once (`hms-desktop bench booking` runs them with
a bare driver too, as its floor).

On PostgreSQL a confirm is one statement: a data-modifying CTE books the slot, writes the
audit entry and returns the booked record with the patient's addresses for the outbox, so
the transaction is BEGIN, this statement, COMMIT (and the outbox's INSERT when the patient
has an address). SQLite runs the same steps one statement at a time.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast

from hms_desktop.domain.enums import FREEING_STATUSES, AppointmentStatus
from hms_desktop.services.blocking import slot_is_blocked
from hms_desktop.services.outbox import CLINIC_NAME
from hms_desktop.store.sql import DriverStatement
from hms_desktop.store.tables import Appointment, AuditEntry, Doctor, Patient, Slot, User

# Core tables, not ORM entities, on the hot path (declarative types them as any FromClause).
_slots, _appointments, _patients, _doctors, _users, _audit_entries = (
    cast(Table, model.__table__) for model in (Slot, Appointment, Patient, Doctor, User, AuditEntry)
)

# The freeing statuses written into the SQL (they are constants): SQLAlchemy renders an
# expanding IN list's parameters into the statement again on every execution (it was 40% of
# the hold check's CPU).
_FREEING: list[ColumnElement[str]] = [literal_column(f"'{status}'") for status in FREEING_STATUSES]

# A patient's upcoming appointments and requests (`records.check_online_quota`): built once
# and run as Core (built per call and run through the ORM Session it was a tenth of a
# booking over HTTP). The open statuses are written into the SQL, as `_FREEING` is.
_OPEN: list[ColumnElement[str]] = [
    literal_column(f"'{status.value}'") for status in AppointmentStatus if status.is_open
]
_their = _appointments.alias("their")
_their_slot = _slots.alias("their_slot")  # aliases: never correlated with a hold check's slot
UPCOMING = (
    select(func.count())
    .select_from(_their.outerjoin(_their_slot, _their_slot.c.id == _their.c.slot_id))
    .where(
        _their.c.patient_id == bindparam("patient_id"),
        _their.c.status.in_(_OPEN),
        or_(_their.c.slot_id.is_(None), _their_slot.c.start_at > bindparam("now")),
    )
)


# Everything a hold checks in one round trip: the slot and its time, the patient, a live
# booking, leave or a holiday over it; and the holder's name, which the hold records so
# other desks see who holds it (read here, not on every calendar read).
HOLD_CHECK = select(
    _slots.c.doctor_id,
    _slots.c.start_at,
    select(_patients.c.id)
    .where(_patients.c.id == bindparam("patient_id"))
    .scalar_subquery()
    .label("patient_id"),
    exists()
    .where(_appointments.c.slot_id == _slots.c.id, _appointments.c.status.not_in(_FREEING))
    .label("booked"),
    slot_is_blocked(_slots.c.doctor_id, _slots.c.start_at).label("blocked"),
    select(_doctors.c.is_active)
    .where(_doctors.c.id == _slots.c.doctor_id)
    .scalar_subquery()
    .label("bookable"),
    select(_users.c.first_name)
    .where(_users.c.id == bindparam("user_id"))
    .scalar_subquery()
    .label("holder_first"),
    select(_users.c.last_name)
    .where(_users.c.id == bindparam("user_id"))
    .scalar_subquery()
    .label("holder_last"),
).where(_slots.c.id == bindparam("slot_id"))

# A patient holding for themselves: the same check with their upcoming appointments and
# requests counted (`records.check_online_quota`'s count) in the same round trip.
HOLD_CHECK_COUNTING = HOLD_CHECK.add_columns(UPCOMING.scalar_subquery().label("upcoming"))

# The appointment takes its doctor from the slot in the same statement (one round trip);
# no row is inserted when the slot does not exist or is blocked.
_INSERT_APPOINTMENT = insert(_appointments).from_select(
    [
        "patient_id",
        "doctor_id",
        "slot_id",
        "appointment_type",
        "symptoms",
        "status",
        "decline_reason",
        "created_at",
        "updated_at",
    ],
    select(
        bindparam("patient_id", type_=Integer),
        _slots.c.doctor_id,
        _slots.c.id,
        bindparam("appointment_type", type_=String),
        bindparam("symptoms", type_=String),
        literal(AppointmentStatus.SCHEDULED.value),
        literal(""),
        bindparam("now", type_=_appointments.c.created_at.type),
        bindparam("now", type_=_appointments.c.created_at.type),
    ).where(
        _slots.c.id == bindparam("slot_id"),
        # Leave entered while the slot was held: the hold does not outlive it.
        ~slot_is_blocked(_slots.c.doctor_id, _slots.c.start_at),
        # A patient confirming for themselves books while under the online quota (`quota`;
        # NULL for a desk's booking, which counts none): counted here, not in a round trip
        # of its own before the booking.
        or_(
            bindparam("quota", type_=Integer).is_(None),
            UPCOMING.scalar_subquery() < bindparam("quota", type_=Integer),
        ),
    ),
)

# SQLite: the booking's id; the audit entry, the record and the addresses follow.
BOOK = _INSERT_APPOINTMENT.returning(_appointments.c.id)

# PostgreSQL: book, audit and read back in one statement. The final SELECT reads the new
# row from the CTE's RETURNING (the statement's snapshot does not see it in the table).
# The audit entry's values are bound as `UnitOfWork.audit_values` makes them for any
# other entry; only its entity id comes from the insert.
_booked = _INSERT_APPOINTMENT.returning(
    _appointments.c.id,
    _appointments.c.patient_id,
    _appointments.c.doctor_id,
    _appointments.c.slot_id,
    _appointments.c.status,
    _appointments.c.appointment_type,
    _appointments.c.symptoms,
    _appointments.c.available_time_id,
    _appointments.c.decline_reason,
    _appointments.c.created_at,
    _appointments.c.updated_at,
).cte("booked")
_audit = (
    insert(_audit_entries)
    .from_select(
        ["at", "actor_user_id", "actor", "action", "entity", "entity_id", "detail"],
        select(
            bindparam("audit_at", type_=_audit_entries.c.at.type),
            bindparam("audit_actor_user_id", type_=Integer),
            bindparam("audit_actor", type_=String),
            bindparam("audit_action", type_=String),
            bindparam("audit_entity", type_=String),
            sql_cast(_booked.c.id, String),
            bindparam("audit_detail", type_=String),
        ).select_from(_booked),
    )
    .cte("audit")
)
_patient_user = _users.alias("patient_user")
_doctor_user = _users.alias("doctor_user")
# The columns of records.record_query (a booking by slot has no available time), then the
# outbox's addresses (outbox.Contact).
BOOK_AND_READ = (
    select(
        _booked.c.id,
        _booked.c.patient_id,
        _booked.c.doctor_id,
        _booked.c.slot_id,
        _booked.c.status,
        _booked.c.appointment_type,
        _booked.c.symptoms,
        _booked.c.available_time_id,
        _booked.c.decline_reason,
        _booked.c.created_at,
        _booked.c.updated_at,
        _slots.c.start_at,
        _slots.c.duration,
        _patient_user.c.first_name,
        _patient_user.c.last_name,
        _doctor_user.c.first_name,
        _doctor_user.c.last_name,
        null().label("time"),
        _patient_user.c.email,
        _patients.c.phone,
        _patients.c.messages_opt_out,
        CLINIC_NAME,
    )
    .select_from(_booked)
    .join(_slots, _slots.c.id == _booked.c.slot_id)
    .join(_patients, _patients.c.id == _booked.c.patient_id)
    .join(_patient_user, _patient_user.c.id == _patients.c.user_id)
    .join(_doctors, _doctors.c.id == _booked.c.doctor_id)
    .join(_doctor_user, _doctor_user.c.id == _doctors.c.user_id)
    .add_cte(_audit)
)
RECORD_COLUMNS = 18  # the record's columns in a BOOK_AND_READ row; the contact follows

# The three as the hot path runs them: on the driver's connection, in the transaction.
HOLD_CHECK_ON_DRIVER = DriverStatement(HOLD_CHECK)
HOLD_CHECK_COUNTING_ON_DRIVER = DriverStatement(HOLD_CHECK_COUNTING)
BOOK_AND_READ_ON_DRIVER = DriverStatement(BOOK_AND_READ)
