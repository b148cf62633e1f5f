"""A believable demo clinic, loaded through the service layer (`hms-desktop demo-data`).

Idempotent: the demo receptionist account is the marker, created last, so a second run
adds nothing. Deterministic: every choice comes from one seeded random generator.

History (completed and no-show visits of the last two weeks, earlier today's patients) is
booked through the same hold/confirm use cases as live bookings, by a view of the clinic
whose clock stands two weeks back; everything else uses the real clock.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from hms_desktop.domain import phones
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType, Role
from hms_desktop.domain.errors import SlotAlreadyBooked
from hms_desktop.domain.models import (
    SYSTEM,
    Actor,
    AppointmentRecord,
    PatientForm,
    PatientRecord,
    SlotInfo,
    SlotState,
    TimeBlockForm,
    WorkingHours,
)
from hms_desktop.domain.schedule import local_day_bounds
from hms_desktop.services import (
    accounts,
    catalogue,
    doctors,
    leave,
    patients,
    reviews,
    scheduling,
)
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.demo_names import (
    AVAILABLE_TIMES,
    CONTACT_MESSAGES,
    DESIGNATIONS,
    FEMALE_NAMES,
    LAST_NAMES,
    MALE_NAMES,
    REVIEW_TEXTS,
    SERVICES,
    SPECIALISATIONS,
    STREETS,
    SYMPTOMS,
)
from hms_desktop.services.local import DEMO_RECEPTIONIST
from hms_desktop.store import tables
from hms_desktop.store.tables import Patient, User

log = logging.getLogger(__name__)

DEMO_ADMIN = ("admin", "admin12345")
DEMO_DOCTOR = ("doctor", "doctor12345")
DEMO_PATIENT_PASSWORD = "patient12345"
# Demo passwords are printed for everyone; a low bcrypt cost keeps loading fast.
DEMO_PATIENT_ROUNDS = 4
HISTORY_DAYS = 14
SEED = 20260101

WEEKDAYS = range(5)


def _hours(days: Sequence[int], start: str, end: str, minutes: int) -> list[WorkingHours]:
    return [
        WorkingHours(day, time.fromisoformat(start), time.fromisoformat(end), minutes)
        for day in days
    ]


# Weekly patterns the doctors take in turn: mornings, afternoons, part-time, long days.
HOUR_PATTERNS: tuple[list[WorkingHours], ...] = (
    _hours(WEEKDAYS, "09:00", "12:00", 15),
    _hours((0, 2, 4), "13:00", "17:00", 20),
    _hours((1, 3), "08:30", "12:30", 30),
    _hours((0, 1, 2, 3), "14:00", "18:00", 30),
    _hours(WEEKDAYS, "08:00", "11:00", 20) + _hours((5,), "09:00", "12:00", 20),
    _hours((1, 2, 3, 4), "10:00", "16:00", 30),
)
# The demo doctor's login sees a busy day whatever the weekday: a weekend clinic too.
DEMO_DOCTOR_HOURS = _hours(WEEKDAYS, "09:00", "17:00", 20) + _hours((5, 6), "10:00", "14:00", 20)


@dataclass
class _Loaded:
    specialisations: dict[str, int] = field(default_factory=dict)
    doctor_ids: list[int] = field(default_factory=list)
    demo_doctor_id: int = 0
    patients: list[PatientRecord] = field(default_factory=list)
    booked: list[AppointmentRecord] = field(default_factory=list)
    taken_slots: set[int] = field(default_factory=set)


def demo_loaded(clinic: Clinic) -> bool:
    with clinic.db.read() as session:
        return accounts.find_user(session, DEMO_RECEPTIONIST[0]) is not None


def load_demo_clinic(clinic: Clinic) -> str:
    """Fill an empty (or staff-only) clinic with demo data; returns a short summary."""
    if demo_loaded(clinic):
        return (
            f"The demo clinic is already loaded (user '{DEMO_RECEPTIONIST[0]}' exists); "
            "nothing was added."
        )
    rng = random.Random(SEED)
    loaded = _Loaded()
    admin = _staff_account(clinic, *DEMO_ADMIN, Role.ADMIN, "Alex", "Morgan")
    _catalogue(clinic, admin, loaded)
    _doctors(clinic, admin, rng, loaded)
    _patients(clinic, admin, rng, loaded)
    _appointments(clinic, admin, rng, loaded)
    _leave_next_week(clinic, admin, rng, loaded)
    _requests(clinic, admin, rng, loaded)
    _reviews(clinic, rng, loaded)
    for name, phone, message in CONTACT_MESSAGES:
        catalogue.save_contact(clinic, SYSTEM, name=name, phone=phone, message=message)
    # The marker goes last: an interrupted load is not mistaken for a finished one.
    _staff_account(clinic, *DEMO_RECEPTIONIST, Role.RECEPTIONIST, "Robin", "Reyes")
    return _summary(clinic, loaded)


def _staff_account(
    clinic: Clinic, username: str, password: str, role: Role, first: str, last: str
) -> Actor:
    with clinic.db.read() as session:
        existing = accounts.find_user(session, username)
        info = accounts.user_info(existing) if existing is not None else None
    if info is None:
        info = accounts.create_user(
            clinic,
            SYSTEM,
            username=username,
            role=role,
            password=password,
            first_name=first,
            last_name=last,
            email=f"{username}@clinic.example",
        )
    return accounts.actor_for(info)


def _named(clinic: Clinic, admin: Actor, kind: NamedList, names: Sequence[str]) -> dict[str, int]:
    existing = {item.name: item.id for item in catalogue.list_named(clinic, admin, kind)}
    for name in names:
        if name not in existing:
            existing[name] = catalogue.create_named(clinic, admin, kind, name).id
    return existing


def _catalogue(clinic: Clinic, admin: Actor, loaded: _Loaded) -> None:
    loaded.specialisations = _named(clinic, admin, NamedList.SPECIALISATIONS, SPECIALISATIONS)
    _named(clinic, admin, NamedList.DESIGNATIONS, DESIGNATIONS)
    known = {item.time for item in catalogue.list_available_times(clinic, admin)}
    for label in AVAILABLE_TIMES:
        if label not in known:
            catalogue.save_available_time(clinic, admin, label)
    existing_services = {item.name for item in catalogue.list_services(clinic, admin)}
    for name, description in SERVICES:
        if name not in existing_services:
            catalogue.save_service(clinic, admin, name=name, description=description)


def _history_view(clinic: Clinic) -> Clinic:
    """The clinic as seen from local midnight HISTORY_DAYS ago, generating slots from then
    up to the booking horizon from today."""
    back = clinic.today() - timedelta(days=HISTORY_DAYS)
    start, _ = local_day_bounds(back, clinic.settings.tz)
    settings = clinic.settings.with_overrides(
        booking_horizon_days=clinic.settings.booking_horizon_days + HISTORY_DAYS + 1
    )
    return dataclasses.replace(clinic, settings=settings, clock=lambda: start)


def _doctors(clinic: Clinic, admin: Actor, rng: random.Random, loaded: _Loaded) -> None:
    designations = {
        item.name: item.id for item in catalogue.list_named(clinic, admin, NamedList.DESIGNATIONS)
    }
    times = [item.id for item in catalogue.list_available_times(clinic, admin)]
    specialities = list(loaded.specialisations.values())
    history = _history_view(clinic)
    used_names: set[tuple[str, str]] = set()
    for index in range(20):
        gender = "female" if index % 2 == 0 else "male"
        first, last = _unique_name(rng, gender, used_names)
        demo = index == 0
        username, password = DEMO_DOCTOR if demo else (f"dr.{first}.{last}".lower(), None)
        user = accounts.create_user(
            clinic,
            admin,
            username=_ascii_username(username),
            role=Role.DOCTOR,
            password=password,
            first_name=first,
            last_name=last,
            email=f"{_ascii_username(first + '.' + last).lower()}@clinic.example",
        )
        assert user.doctor_id is not None
        # Every speciality gets two main doctors; some doctors practise a second one.
        main = specialities[index % len(specialities)]
        extra = [rng.choice(specialities)] if rng.random() < 0.3 else []
        doctors.update_doctor(
            clinic,
            admin,
            user.doctor_id,
            fee=rng.choice((40, 50, 60, 75, 90, 120, 150)),
            description=f"{first} {last} has practised for {rng.randint(4, 30)} years.",
            meet_link=f"https://meet.example/{_ascii_username(last).lower()}-{index + 1}",
            specialisation_ids=[main, *[item for item in extra if item != main]],
            designation_ids=[designations[rng.choice(DESIGNATIONS)]],
            available_time_ids=rng.sample(times, k=2),
        )
        hours = DEMO_DOCTOR_HOURS if demo else HOUR_PATTERNS[index % len(HOUR_PATTERNS)]
        doctors.set_working_hours(history, admin, user.doctor_id, hours)
        loaded.doctor_ids.append(user.doctor_id)
        if demo:
            loaded.demo_doctor_id = user.doctor_id


def _ascii_username(text: str) -> str:
    """Names as login names: ASCII letters, digits and dots only ("O'Brien" -> "obrien")."""
    plain = text.replace("ü", "u").replace(" ", ".")
    return "".join(ch for ch in plain if ch.isascii() and (ch.isalnum() or ch == ".")).lower()


def _unique_name(rng: random.Random, gender: str, used: set[tuple[str, str]]) -> tuple[str, str]:
    firsts = FEMALE_NAMES if gender == "female" else MALE_NAMES
    while True:
        name = (rng.choice(firsts), rng.choice(LAST_NAMES))
        if name not in used:
            used.add(name)
            return name


def _patients(clinic: Clinic, admin: Actor, rng: random.Random, loaded: _Loaded) -> None:
    used: set[tuple[str, str]] = set()
    today = clinic.today()
    for index in range(200):
        gender = rng.choice(("female", "male"))
        first, last = _unique_name(rng, gender, used)
        form = PatientForm(
            full_name=f"{first} {last}",
            gender=gender if rng.random() < 0.95 else "",
            date_of_birth=today - timedelta(days=rng.randint(365, 90 * 365)),
            # Ofcom's drama range: numbers that belong to nobody.
            phone=f"+44 7700 900{index:03d}" if rng.random() < 0.9 else "",
            email=f"{_ascii_username(first + '.' + last).lower()}@mail.example"
            if rng.random() < 0.6
            else "",
            address=f"{rng.randint(1, 180)} {rng.choice(STREETS)}",
        )
        if index % 10 == 0:
            loaded.patients.append(_patient_with_login(clinic, admin, form))
        else:
            loaded.patients.append(patients.register_patient(clinic, admin, form))


def _patient_with_login(clinic: Clinic, admin: Actor, form: PatientForm) -> PatientRecord:
    """A patient who also has a portal login: as patients.register_patient does, but with
    the demo's low bcrypt cost."""
    first, last = form.full_name.split(" ", 1)
    with clinic.work(admin) as work:
        session = work.session
        user = accounts.add_user(
            session,
            username=_ascii_username(f"{first}.{last}").lower(),
            role=Role.PATIENT,
            password=DEMO_PATIENT_PASSWORD,
            first_name=first,
            last_name=last,
            email=form.email,
            gender=form.gender,
            date_of_birth=form.date_of_birth,
            address=form.address,
            password_rounds=DEMO_PATIENT_ROUNDS,
        )
        region = clinic.settings.default_phone_region
        patient = Patient(user_id=user.id, phone=phones.to_e164(form.phone, region=region))
        session.add(patient)
        session.flush()
        work.record("register", "patient", patient.id, name=form.full_name)
        return patients.load_record(session, patient.id, region)


def _slots(clinic: Clinic, doctor_id: int, start: datetime, end: datetime) -> list[SlotInfo]:
    return doctors.free_slots(_history_view(clinic), SYSTEM, [doctor_id], start, end)


def _book(
    clinic: Clinic,
    desk: Actor,
    loaded: _Loaded,
    slot: SlotInfo,
    patient: PatientRecord,
    rng: random.Random,
) -> AppointmentRecord | None:
    if slot.id in loaded.taken_slots:
        return None
    try:
        scheduling.hold_slot(clinic, desk, slot.id, patient.id)
    except SlotAlreadyBooked:
        return None
    record = scheduling.confirm_booking(
        clinic,
        desk,
        slot.id,
        patient.id,
        appointment_type=AppointmentType.ONLINE if rng.random() < 0.2 else AppointmentType.OFFLINE,
        symptoms=rng.choice(SYMPTOMS),
    )
    loaded.taken_slots.add(slot.id)
    loaded.booked.append(record)
    return record


def _appointments(clinic: Clinic, admin: Actor, rng: random.Random, loaded: _Loaded) -> None:
    history = _history_view(clinic)
    now = clinic.now()
    today_start, today_end = local_day_bounds(clinic.today(), clinic.settings.tz)
    past_start, _ = local_day_bounds(
        clinic.today() - timedelta(days=HISTORY_DAYS), clinic.settings.tz
    )
    future_end = today_start + timedelta(days=clinic.settings.booking_horizon_days)
    for doctor_id in loaded.doctor_ids:
        demo = doctor_id == loaded.demo_doctor_id
        past = _slots(clinic, doctor_id, past_start, today_start)
        today = _slots(clinic, doctor_id, today_start, today_end)
        ahead = _slots(clinic, doctor_id, today_end, future_end)
        for slot in rng.sample(past, k=min(len(past), 12 if demo else 4)):
            record = _book(history, admin, loaded, slot, rng.choice(loaded.patients), rng)
            if record is not None:
                _finish(history, admin, record, rng.random(), now)
        for slot in rng.sample(today, k=min(len(today), 9 if demo else 1)):
            record = _book(history, admin, loaded, slot, rng.choice(loaded.patients), rng)
            if record is not None and slot.start < now:
                _finish(history, admin, record, rng.random(), now)
        for slot in rng.sample(ahead, k=min(len(ahead), 4)):
            record = _book(clinic, admin, loaded, slot, rng.choice(loaded.patients), rng)
            if record is None:
                continue
            chance = rng.random()
            if chance < 0.15:
                scheduling.cancel_appointment(clinic, admin, record.id)
            elif chance < 0.25:
                spare = [item for item in ahead if item.id not in loaded.taken_slots]
                if spare:
                    moved = scheduling.reschedule_appointment(
                        clinic, admin, record.id, rng.choice(spare).id
                    )
                    loaded.taken_slots.add(moved.slot_id or 0)


def _leave_next_week(clinic: Clinic, admin: Actor, rng: random.Random, loaded: _Loaded) -> None:
    """A doctor on leave all next week with exactly two bookings in it, so the desk can try
    moving and cancelling affected appointments."""
    monday = clinic.today() + timedelta(days=7 - clinic.today().weekday())
    start, _ = local_day_bounds(monday, clinic.settings.tz)
    _, end = local_day_bounds(monday + timedelta(days=4), clinic.settings.tz)
    for doctor_id in loaded.doctor_ids[1:]:
        week = scheduling.calendar(clinic, admin, [doctor_id], start, end)
        booked = [
            item
            for item in week
            if item.appointment is not None and item.appointment.status in leave.AFFECTED_STATUSES
        ]
        free = [item.slot for item in week if item.state is SlotState.FREE]
        if len(booked) > 2 or len(booked) + len(free) < 2:
            continue
        for slot in rng.sample(free, k=2 - len(booked)):
            _book(clinic, admin, loaded, slot, rng.choice(loaded.patients), rng)
        leave.add_block(
            clinic,
            admin,
            TimeBlockForm(doctor_id, monday, monday + timedelta(days=4), "Annual leave"),
        )
        return


def _finish(
    clinic: Clinic, desk: Actor, record: AppointmentRecord, chance: float, now: datetime
) -> None:
    """Walk a visit that has started (or should have) through the doctor's day."""
    if chance < 0.08:
        scheduling.cancel_appointment(clinic, desk, record.id)
        return
    if chance < 0.18:
        scheduling.set_status(clinic, desk, record.id, AppointmentStatus.NO_SHOW)
        return
    scheduling.set_status(clinic, desk, record.id, AppointmentStatus.ARRIVED)
    scheduling.set_status(clinic, desk, record.id, AppointmentStatus.IN_PROGRESS)
    if record.start and record.start + timedelta(minutes=record.duration or 0) <= now:
        scheduling.set_status(clinic, desk, record.id, AppointmentStatus.COMPLETED)


def _requests(clinic: Clinic, admin: Actor, rng: random.Random, loaded: _Loaded) -> None:
    times = [item.id for item in catalogue.list_available_times(clinic, admin)]
    for _ in range(6):
        scheduling.request_appointment(
            clinic,
            admin,
            doctor_id=rng.choice(loaded.doctor_ids),
            patient_id=rng.choice(loaded.patients).id,
            available_time_id=rng.choice(times),
            appointment_type=rng.choice(list(AppointmentType)),
            symptoms=rng.choice(SYMPTOMS),
        )


def _reviews(clinic: Clinic, rng: random.Random, loaded: _Loaded) -> None:
    by_id = {patient.id: patient for patient in loaded.patients}
    seen = [record for record in loaded.booked if record.start and record.start < clinic.now()]
    for record in rng.sample(seen, k=min(len(seen), 30)):
        patient = by_id[record.patient_id]
        actor = Actor(patient.user_id, patient.username, Role.PATIENT, patient_id=patient.id)
        reviews.write_review(
            clinic, actor, record.doctor_id, rng.choice(REVIEW_TEXTS), rng.choice((3, 4, 4, 5, 5))
        )


def _summary(clinic: Clinic, loaded: _Loaded) -> str:
    with clinic.db.read() as session:
        logins = session.scalar(
            select(func.count())
            .select_from(Patient)
            .join(User, User.id == Patient.user_id)
            .where(User.password_hash.is_not(None))
        )
    counts = counts_of(clinic)
    today = scheduling.doctor_day(clinic, SYSTEM, loaded.demo_doctor_id, clinic.today())
    return (
        f"Demo clinic loaded: {counts['specialisations']} specialisations, "
        f"{counts['doctors']} doctors, {counts['slots']} slots, {counts['patients']} patients "
        f"({logins} with a portal login, password '{DEMO_PATIENT_PASSWORD}'), "
        f"{counts['appointments']} appointments ({counts['pending_requests']} pending requests, "
        f"{len(today)} today for '{DEMO_DOCTOR[0]}'), {counts['reviews']} reviews.\n"
        f"Log in as {DEMO_RECEPTIONIST[0]} / {DEMO_RECEPTIONIST[1]} (reception), "
        f"{DEMO_ADMIN[0]} / {DEMO_ADMIN[1]} (admin) or {DEMO_DOCTOR[0]} / {DEMO_DOCTOR[1]} "
        "(doctor)."
    )


def counts_of(clinic: Clinic) -> dict[str, int]:
    """How many rows of each kind the clinic holds (the summary, and idempotency checks)."""
    kinds = {
        "users": tables.User,
        "specialisations": tables.Specialisation,
        "designations": tables.Designation,
        "available_times": tables.AvailableTime,
        "doctors": tables.Doctor,
        "slots": tables.Slot,
        "patients": tables.Patient,
        "appointments": tables.Appointment,
        "reviews": tables.Review,
        "services": tables.ClinicService,
        "contacts": tables.Contact,
    }
    with clinic.db.read() as session:
        counts = {
            name: session.scalar(select(func.count()).select_from(table)) or 0
            for name, table in kinds.items()
        }
        counts["pending_requests"] = (
            session.scalar(
                select(func.count())
                .select_from(tables.Appointment)
                .where(tables.Appointment.status == AppointmentStatus.REQUESTED.value)
            )
            or 0
        )
    return counts
