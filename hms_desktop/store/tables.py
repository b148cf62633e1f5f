"""The clinic's tables. One model serves both API documents (see DESIGN.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from hms_desktop.domain.enums import FREEING_STATUSES

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _now() -> datetime:
    return datetime.now(UTC)


class StoredImage(Base):
    __tablename__ = "images"
    id: Mapped[int] = mapped_column(primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    email: Mapped[str] = mapped_column(String(254), default="")
    first_name: Mapped[str] = mapped_column(String(150), default="")
    last_name: Mapped[str] = mapped_column(String(150), default="")
    password_hash: Mapped[str | None] = mapped_column(String(100), nullable=True)
    role: Mapped[str] = mapped_column(String(20))
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    date_joined: Mapped[datetime] = mapped_column(Timestamp, default=_now)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    # Set when an admin resets the password: its owner must choose a new one first.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    profile: Mapped[Profile | None] = relationship(back_populates="user", uselist=False)
    patient: Mapped[Patient | None] = relationship(back_populates="user", uselist=False)
    doctor: Mapped[Doctor | None] = relationship(back_populates="user", uselist=False)

    __table_args__ = (
        Index("uq_users_username_lower", func.lower(text("username")), unique=True),
        Index("ix_users_full_name_lower", func.lower(text("first_name || ' ' || last_name"))),
    )


class Profile(Base):
    __tablename__ = "profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    bio: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(Text, default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    gender: Mapped[str] = mapped_column(String(20), default="")
    picture_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)

    user: Mapped[User] = relationship(back_populates="profile")


class Patient(Base):
    __tablename__ = "patients"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True, unique=True)
    picture_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True
    )
    # The patient asked for no messages (confirmations, reminders, notices).
    messages_opt_out: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    user: Mapped[User] = relationship(back_populates="patient")


doctor_specialisations = Table(
    "doctor_specialisations",
    Base.metadata,
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "specialisation_id", ForeignKey("specialisations.id", ondelete="CASCADE"), primary_key=True
    ),
    # The booking API's single `speciality` is the doctor's first one.
    Column("position", Integer, nullable=False, server_default="0"),
    Index("ix_doctor_specialisations_spec", "specialisation_id", "doctor_id"),
)

doctor_designations = Table(
    "doctor_designations",
    Base.metadata,
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column("designation_id", ForeignKey("designations.id", ondelete="CASCADE"), primary_key=True),
)

doctor_available_times = Table(
    "doctor_available_times",
    Base.metadata,
    Column("doctor_id", ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "available_time_id", ForeignKey("available_times.id", ondelete="CASCADE"), primary_key=True
    ),
)


class NamedRow(Base):
    """A catalogue list whose entries have a unique name and slug."""

    __abstract__ = True
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)


class Specialisation(NamedRow):
    __tablename__ = "specialisations"


class Designation(NamedRow):
    __tablename__ = "designations"


class AvailableTime(Base):
    __tablename__ = "available_times"
    id: Mapped[int] = mapped_column(primary_key=True)
    time: Mapped[str] = mapped_column(String(100))


class Doctor(Base):
    __tablename__ = "doctors"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    fee: Mapped[int | None] = mapped_column(Integer, nullable=True)
    meet_link: Mapped[str] = mapped_column(String(300), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    picture_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True
    )
    # A deactivated doctor is kept (their history, reviews) but can no longer be booked.
    is_active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    user: Mapped[User] = relationship(back_populates="doctor")
    specialisations: Mapped[list[Specialisation]] = relationship(
        secondary=doctor_specialisations, order_by=doctor_specialisations.c.position
    )
    designations: Mapped[list[Designation]] = relationship(secondary=doctor_designations)
    available_times: Mapped[list[AvailableTime]] = relationship(secondary=doctor_available_times)
    working_hours: Mapped[list[WorkingHoursRow]] = relationship(
        cascade="all, delete-orphan", order_by="WorkingHoursRow.weekday"
    )


class WorkingHoursRow(Base):
    __tablename__ = "working_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(Integer, default=30)


class Slot(Base):
    __tablename__ = "slots"
    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(Timestamp)
    duration: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        UniqueConstraint("doctor_id", "start_at", name="uq_slots_doctor_start"),
        Index("ix_slots_start_doctor", "start_at", "doctor_id"),
    )


class TimeBlockRow(Base):
    """Leave, a public holiday or blocked time: no slot starting in [start_at, end_at) of
    the doctor (of every doctor when doctor_id is NULL) can be held or booked. Ranges, not
    marked slots, so slots made later inside a block are blocked too."""

    __tablename__ = "time_blocks"
    id: Mapped[int] = mapped_column(primary_key=True)
    doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), nullable=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    start_at: Mapped[datetime] = mapped_column(Timestamp)
    end_at: Mapped[datetime] = mapped_column(Timestamp)
    all_day: Mapped[bool] = mapped_column(Boolean, default=True)
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str] = mapped_column(String(150), default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)

    __table_args__ = (Index("ix_time_blocks_end_doctor", "end_at", "doctor_id"),)


class Appointment(Base):
    __tablename__ = "appointments"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"))
    slot_id: Mapped[int | None] = mapped_column(
        ForeignKey("slots.id", ondelete="RESTRICT"), nullable=True
    )
    available_time_id: Mapped[int | None] = mapped_column(
        ForeignKey("available_times.id", ondelete="SET NULL"), nullable=True
    )
    appointment_type: Mapped[str] = mapped_column(String(10), default="Offline")
    symptoms: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20))
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)
    # When the patient arrived and when the doctor started (set with the status, in its
    # transaction; see services/scheduling/changes.py): the reports' waiting time.
    arrived_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    in_progress_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)

    __table_args__ = (
        # The final guard against double booking: it holds even with Redis gone.
        Index(
            "uq_appointments_live_slot",
            "slot_id",
            unique=True,
            sqlite_where=text(f"slot_id IS NOT NULL AND status NOT IN {FREEING_STATUSES!r}"),
            postgresql_where=text(f"slot_id IS NOT NULL AND status NOT IN {FREEING_STATUSES!r}"),
        ),
        Index("ix_appointments_doctor_status", "doctor_id", "status"),
        Index("ix_appointments_requests", "status", "created_at"),
    )


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    doctor_id: Mapped[int] = mapped_column(ForeignKey("doctors.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int] = mapped_column(Integer)
    created_on: Mapped[date] = mapped_column(Date)


class ClinicService(Base):
    __tablename__ = "services"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    description: Mapped[str] = mapped_column(Text, default="")
    image_id: Mapped[int | None] = mapped_column(
        ForeignKey("images.id", ondelete="SET NULL"), nullable=True
    )


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150))
    phone: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)
    # When the desk dealt with it (None: still waiting in the inbox).
    handled_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)


class RevokedToken(Base):
    __tablename__ = "revoked_tokens"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(Timestamp, index=True)


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=_now, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(150))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(60))
    entity_id: Mapped[str] = mapped_column(String(60), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class SlotHoldRow(Base):
    """The built-in lock store's holds (embedded setup only; Redis keeps them centrally)."""

    __tablename__ = "slot_holds"
    slot_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(36))
    patient_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    payload: Mapped[str] = mapped_column(Text)
    expires_at_ms: Mapped[int] = mapped_column(BigInteger, index=True)


class ChangeEventRow(Base):
    """Change events of the embedded setup, so every process on the file hears them (each
    follows the table; Redis pub/sub carries them centrally). Rows live a few minutes."""

    __tablename__ = "change_events"
    # AUTOINCREMENT: an id is never reused, even after pruning empties the table, so a
    # follower's "after id N" never skips a new event.
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    origin: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(BigInteger)


class MetaEntry(Base):
    """Facts about the database itself that IT's commands keep: the oldest desktop version
    allowed (`db require-version`), where new builds are, when the last backup was made."""

    __tablename__ = "hms_meta"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)


class ClinicSetting(Base):
    """The clinic's settings an admin changes from a desk (its name, the booking horizon):
    one row per setting, so every desk and server reads the same value."""

    __tablename__ = "clinic_settings"
    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)


# --- waitlist ---
class WaitlistEntryRow(Base):
    """A patient waiting for a freed slot: with a doctor, or (doctor_id NULL) any doctor of a
    speciality, on local days first_day..last_day at `preferred_times` ("" any time).
    Filled entries keep the appointment and when, so reports count fills."""

    __tablename__ = "waitlist_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    doctor_id: Mapped[int | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), nullable=True
    )
    specialisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("specialisations.id", ondelete="CASCADE"), nullable=True
    )
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    preferred_times: Mapped[str] = mapped_column(String(100), default="")
    priority: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)
    created_by: Mapped[str] = mapped_column(String(150), default="")
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), nullable=True
    )
    filled_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=_now, onupdate=_now)

    __table_args__ = (
        # Offers read the active entries still ahead; lists a patient's.
        Index("ix_waitlist_entries_status_last_day", "status", "last_day"),
        Index("ix_waitlist_entries_patient", "patient_id"),
    )


# --- end waitlist ---


# --- reminders: the outbox of messages to patients ----------------------------------------


class MessageRow(Base):
    """A message to a patient, written in the same transaction as the booking, move or
    cancel it is about; a sender in `serve` claims it when due and marks it sent or failed
    (domain/messages.py has its kinds and states)."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    # Kept when the appointment is deleted: what was sent stays on the patient's record.
    appointment_id: Mapped[int | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime] = mapped_column(Timestamp)
    # When it may be tried (again): due_at at first, later than it after a failed try.
    next_try_at: Mapped[datetime] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    claimed_by: Mapped[str] = mapped_column(String(64), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(Timestamp, nullable=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=_now)

    # The sender's question, "which are pending and due?", read from one index.
    __table_args__ = (Index("ix_messages_state_next_try", "state", "next_try_at"),)
