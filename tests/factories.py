"""Ready-made people and schedules for tests, made through the service layer itself."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import date, time

from PIL import Image

from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import (
    SYSTEM,
    Actor,
    PatientForm,
    PatientRecord,
    UserInfo,
    WorkingHours,
)
from hms_desktop.services import accounts, catalogue, doctors, patients
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic

PASSWORD = "correct-horse-1"
_counter = itertools.count(1)
ALL_WEEK = [WorkingHours(day, time(0, 0), time(23, 30), 30) for day in range(7)]


def unique(prefix: str) -> str:
    return f"{prefix}{next(_counter)}"


def staff(clinic: Clinic, role: Role = Role.RECEPTIONIST, **names: str) -> tuple[UserInfo, Actor]:
    user = accounts.create_user(
        clinic, SYSTEM, username=unique(role.value), role=role, password=PASSWORD, **names
    )
    return user, accounts.actor_for(user)


def speciality(clinic: Clinic, name: str | None = None) -> int:
    return catalogue.create_named(
        clinic, SYSTEM, NamedList.SPECIALISATIONS, name or unique("Speciality "), ""
    ).id


def designation(clinic: Clinic, name: str | None = None) -> int:
    return catalogue.create_named(
        clinic, SYSTEM, NamedList.DESIGNATIONS, name or unique("Designation "), ""
    ).id


@dataclass
class DoctorFixture:
    user: UserInfo
    actor: Actor
    doctor_id: int


def doctor(
    clinic: Clinic,
    *,
    specialisation_ids: list[int] | None = None,
    hours: list[WorkingHours] | None = None,
    first_name: str = "Grace",
    last_name: str | None = None,
    fee: int | None = 50,
) -> DoctorFixture:
    user, actor = staff(
        clinic, Role.DOCTOR, first_name=first_name, last_name=last_name or unique("Doc")
    )
    assert user.doctor_id is not None
    doctors.update_doctor(
        clinic, SYSTEM, user.doctor_id, fee=fee, specialisation_ids=specialisation_ids
    )
    doctors.set_working_hours(
        clinic, SYSTEM, user.doctor_id, hours if hours is not None else ALL_WEEK
    )
    return DoctorFixture(user, actor, user.doctor_id)


def patient(clinic: Clinic, desk: Actor | None = None, **fields: object) -> PatientRecord:
    form = PatientForm(
        full_name=str(fields.pop("full_name", f"Pat {unique('Patient')}")),
        date_of_birth=fields.pop("date_of_birth", date(1990, 5, 17)),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )
    return patients.register_patient(clinic, desk or SYSTEM, form)


def patient_actor(clinic: Clinic, record: PatientRecord) -> Actor:
    return accounts.actor_for(accounts.get_user(clinic, SYSTEM, record.user_id))


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def phone() -> str:
    """A phone number no other test patient has."""
    return f"+447700{next(_counter):06d}"
