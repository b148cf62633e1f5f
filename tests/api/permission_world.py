"""The people and records the permission matrix calls the API about.

Patient A (Alma) is booked with doctor A, has a request, holds and a review; patient B
(Bruno) likewise with doctor B, and holds a slot of doctor A. Each patient's name,
username, symptoms and hold tokens are their secrets: no answer to the other patient, or
to a doctor they are not booked with, may contain them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import time, timedelta

from sqlalchemy import select

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import (
    ANONYMOUS,
    SYSTEM,
    Actor,
    Hold,
    PatientRecord,
    UserInfo,
    WorkingHours,
)
from hms_desktop.services import accounts, catalogue, doctors, reviews, scheduling
from hms_desktop.services.catalogue import NamedList
from hms_desktop.store.tables import Profile
from tests import factories
from tests.api.conftest import LiveServer
from tests.factories import png_bytes

ROLES = ("anonymous", "patient", "other_patient", "doctor", "other_doctor", "receptionist", "admin")
PASSWORD = "matrix-password-1"
# An hour-long slot every hour of the day: enough free slots for every call, quick to make.
HOURS = [WorkingHours(day, time(0), time(23), 60) for day in range(7)]
_numbers = itertools.count(1)


@dataclass
class Persona:
    role: str
    actor: Actor
    user: UserInfo | None = None
    token: str | None = None


@dataclass
class World:
    api: LiveServer
    people: dict[str, Persona]
    patient_a: PatientRecord
    patient_b: PatientRecord
    doctor_a: int
    doctor_b: int
    speciality: str
    review_a: int
    service_id: int
    contact_id: int
    secrets: dict[str, set[str]] = field(default_factory=dict)  # patient role -> secrets
    _free: dict[int, list[int]] = field(default_factory=dict)

    @property
    def clinic(self):  # type: ignore[no-untyped-def]
        return self.api.clinic

    def actor(self, role: str) -> Actor:
        return self.people[role].actor

    def free_slot(self, doctor_id: int) -> int:
        """A free slot of this doctor no earlier call has used."""
        if doctor_id not in self._free:
            start = self.clinic.now() + timedelta(hours=2)
            found = doctors.free_slots(
                self.clinic, SYSTEM, [doctor_id], start, start + timedelta(days=27)
            )
            self._free[doctor_id] = [slot.id for slot in reversed(found)]
        assert self._free[doctor_id], "the world ran out of free slots"
        return self._free[doctor_id].pop()

    def remember(self, patient_role: str, hold: Hold) -> Hold:
        self.secrets[patient_role].add(hold.token)
        return hold

    def hold_as(self, role: str, doctor_id: int, patient: PatientRecord | None = None) -> Hold:
        """A hold of a fresh slot by `role` (for `patient`, or themselves)."""
        actor = self.actor(role)
        patient_id = patient.id if patient else None
        hold = scheduling.hold_slot(self.clinic, actor, self.free_slot(doctor_id), patient_id)
        owner = "patient" if hold.patient_id == self.patient_a.id else "other_patient"
        return self.remember(owner, hold) if hold.patient_id in self.patient_ids() else hold

    def patient_ids(self) -> set[int]:
        return {self.patient_a.id, self.patient_b.id}

    def booking_for_a(self) -> int:
        hold = scheduling.hold_slot(
            self.clinic, SYSTEM, self.free_slot(self.doctor_a), self.patient_a.id
        )
        return scheduling.confirm_booking(
            self.clinic,
            SYSTEM,
            hold.slot_id,
            self.patient_a.id,
            token=hold.token,
            symptoms="alma-secret-symptom",
        ).id

    def request_for_a(self) -> int:
        return scheduling.request_appointment(
            self.clinic,
            SYSTEM,
            doctor_id=self.doctor_a,
            patient_id=self.patient_a.id,
            symptoms="alma-secret-request",
        ).id

    def review_by_a(self) -> int:
        return reviews.write_review(self.clinic, self.actor("patient"), self.doctor_a, "Fine", 4).id

    def fresh_patient(self) -> PatientRecord:
        return factories.patient(self.clinic)

    def new_service(self) -> int:
        return catalogue.save_service(self.clinic, SYSTEM, name=unique("Service")).id

    def new_contact(self) -> int:
        message = "Please call"
        return catalogue.save_contact(
            self.clinic, SYSTEM, name="Visitor", phone="0700 000 111", message=message
        ).id

    def profile_id(self, role: str) -> int:
        user = self.people[role].user
        assert user is not None
        with self.clinic.db.read() as session:
            found = session.scalar(select(Profile.id).where(Profile.user_id == user.id))
        assert found is not None
        return found


def unique(prefix: str) -> str:
    return f"{prefix} {next(_numbers)}-{factories.unique('x')}"


def _persona(api: LiveServer, role: str, user: UserInfo) -> Persona:
    return Persona(role, accounts.actor_for(user), user, api.token_for(user))


def _staff(api: LiveServer, role: str, kind: Role, first: str, last: str) -> Persona:
    user = accounts.create_user(
        api.clinic,
        SYSTEM,
        username=factories.unique(role),
        role=kind,
        password=PASSWORD,
        first_name=first,
        last_name=last,
    )
    return _persona(api, role, user)


def _patient(api: LiveServer, role: str, name: str) -> tuple[Persona, PatientRecord]:
    record = factories.patient(
        api.clinic, full_name=name, username=factories.unique(role), password=PASSWORD
    )
    user = accounts.get_user(api.clinic, SYSTEM, record.user_id)
    return _persona(api, role, user), record


def build_world(api: LiveServer) -> World:
    clinic = api.clinic
    speciality = unique("Cardiology")
    speciality_id = catalogue.create_named(clinic, SYSTEM, NamedList.SPECIALISATIONS, speciality).id
    people: dict[str, Persona] = {"anonymous": Persona("anonymous", ANONYMOUS)}
    people["patient"], alma = _patient(api, "patient", "Alma Zephyrine")
    people["other_patient"], bruno = _patient(api, "other_patient", "Bruno Quillfeather")
    for role, first, last in (("doctor", "Dora", "Docson"), ("other_doctor", "Dmitri", "Medic")):
        people[role] = _staff(api, role, Role.DOCTOR, first, last)
        doctor_id = people[role].actor.doctor_id
        assert doctor_id is not None
        doctors.update_doctor(clinic, SYSTEM, doctor_id, fee=50, specialisation_ids=[speciality_id])
        doctors.set_working_hours(clinic, SYSTEM, doctor_id, HOURS)
    people["receptionist"] = _staff(api, "receptionist", Role.RECEPTIONIST, "Rita", "Desk")
    people["admin"] = _staff(api, "admin", Role.ADMIN, "Adam", "Boss")
    doctor_a, doctor_b = people["doctor"].actor.doctor_id, people["other_doctor"].actor.doctor_id
    assert doctor_a is not None and doctor_b is not None
    image = png_bytes()
    world = World(
        api=api,
        people=people,
        patient_a=alma,
        patient_b=bruno,
        doctor_a=doctor_a,
        doctor_b=doctor_b,
        speciality=speciality,
        review_a=0,
        service_id=catalogue.save_service(clinic, SYSTEM, name=unique("X-ray"), image=image).id,
        contact_id=0,
    )
    world.contact_id = world.new_contact()
    world.secrets = {
        "patient": {"Alma Zephyrine", "Zephyrine", alma.username, "alma-secret"},
        "other_patient": {"Bruno Quillfeather", "Quillfeather", bruno.username, "bruno-secret"},
    }
    world.booking_for_a()
    world.request_for_a()
    hold = scheduling.hold_slot(clinic, SYSTEM, world.free_slot(doctor_b), bruno.id)
    scheduling.confirm_booking(
        clinic, SYSTEM, hold.slot_id, bruno.id, token=hold.token, symptoms="bruno-secret-symptom"
    )
    # Each patient holds a slot of the other's doctor, too.
    world.hold_as("other_patient", doctor_a)
    world.hold_as("patient", doctor_b)
    world.review_a = world.review_by_a()
    reviews.write_review(clinic, world.actor("other_patient"), doctor_b, "Good", 5)
    return world
