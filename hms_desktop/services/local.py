"""`LocalBackend`: the Backend interface over the service layer (database + lock store)."""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from datetime import date, datetime

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.errors import BackendUnavailable, NotLoggedIn
from hms_desktop.domain.models import (
    Actor,
    AppointmentRecord,
    CalendarSlot,
    ChangeEvent,
    DoctorDetails,
    DoctorSummary,
    FreeSlot,
    Hold,
    NamedItem,
    PatientForm,
    PatientRecord,
    UserInfo,
    WorkingHours,
)
from hms_desktop.services import (
    accounts,
    catalogue,
    changes,
    doctors,
    liveness,
    patients,
    scheduling,
)
from hms_desktop.services.backend import Backend, Subscription
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic

DEMO_RECEPTIONIST = ("reception", "reception123")


class LocalBackend(Backend):
    def __init__(self, clinic: Clinic, *, owns_clinic: bool = False) -> None:
        self.clinic = clinic
        self._owns_clinic = owns_clinic
        self._user: UserInfo | None = None
        self._actor: Actor | None = None

    # --- session ---------------------------------------------------------------------------
    def login(self, username: str, password: str) -> UserInfo:
        # Failed log-ins are counted per desk: a slip at one desk locks out no other.
        client = f"desk:{platform.node()}"
        user = accounts.log_in_at_desk(self.clinic, username, password, client=client)
        self._user, self._actor = user, accounts.actor_for(user)
        return user

    def logout(self) -> None:
        self._user = self._actor = None

    @property
    def current_user(self) -> UserInfo | None:
        return self._user

    @property
    def description(self) -> str:
        store = "SQLite" if self.clinic.settings.is_embedded else "PostgreSQL"
        locks = "Redis" if self.clinic.settings.redis_url else "built-in locks"
        return f"{store} · {locks}"

    def contact(self) -> str:
        away = liveness.problem(self.clinic)
        if away is not None:
            raise BackendUnavailable(away)
        return self.description

    def demo_login_hint(self) -> tuple[str, str] | None:
        if self.clinic.settings.is_embedded and accounts.password_is(
            self.clinic, *DEMO_RECEPTIONIST
        ):
            return DEMO_RECEPTIONIST
        return None

    @property
    def actor(self) -> Actor:
        if self._actor is None:
            raise NotLoggedIn()
        return self._actor

    # --- patients --------------------------------------------------------------------------
    def search_patients(self, text: str, limit: int = 50) -> list[PatientRecord]:
        return patients.search_patients(self.clinic, self.actor, text, limit)

    def get_patient(self, patient_id: int) -> PatientRecord:
        return patients.get_patient(self.clinic, self.actor, patient_id)

    def find_likely_duplicates(self, form: PatientForm) -> list[PatientRecord]:
        return patients.find_likely_duplicates(self.clinic, self.actor, form)

    def register_patient(self, form: PatientForm) -> PatientRecord:
        return patients.register_patient(self.clinic, self.actor, form)

    def update_patient(self, patient_id: int, form: PatientForm) -> PatientRecord:
        return patients.update_patient(self.clinic, self.actor, patient_id, form)

    def patient_history(self, patient_id: int) -> list[AppointmentRecord]:
        return scheduling.patient_history(self.clinic, self.actor, patient_id)

    # --- doctors and catalogue -------------------------------------------------------------
    def specialisations(self) -> list[NamedItem]:
        return catalogue.list_named(self.clinic, self.actor, NamedList.SPECIALISATIONS)

    def designations(self) -> list[NamedItem]:
        return catalogue.list_named(self.clinic, self.actor, NamedList.DESIGNATIONS)

    def doctors(
        self, specialisation_id: int | None = None, designation_id: int | None = None
    ) -> list[DoctorSummary]:
        return doctors.list_doctors(
            self.clinic,
            self.actor,
            specialisation_id=specialisation_id,
            designation_id=designation_id,
        )

    def doctor_details(self, doctor_id: int) -> DoctorDetails:
        return doctors.doctor_details(self.clinic, self.actor, doctor_id)

    def free_slots_by_speciality(
        self, speciality: str, start: datetime, end: datetime
    ) -> list[FreeSlot]:
        return doctors.free_slots_by_speciality(self.clinic, self.actor, speciality, start, end)

    def create_specialisation(self, name: str, slug: str = "") -> NamedItem:
        return catalogue.create_named(
            self.clinic, self.actor, NamedList.SPECIALISATIONS, name, slug
        )

    def create_designation(self, name: str, slug: str = "") -> NamedItem:
        return catalogue.create_named(self.clinic, self.actor, NamedList.DESIGNATIONS, name, slug)

    def set_working_hours(self, doctor_id: int, hours: Sequence[WorkingHours]) -> int:
        return doctors.set_working_hours(self.clinic, self.actor, doctor_id, hours)

    # --- calendar and booking --------------------------------------------------------------
    def calendar(
        self, doctor_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[CalendarSlot]:
        return scheduling.calendar(self.clinic, self.actor, doctor_ids, start, end)

    def hold_slot(self, slot_id: int, patient_id: int) -> Hold:
        return scheduling.hold_slot(self.clinic, self.actor, slot_id, patient_id)

    def release_hold(self, slot_id: int, token: str) -> bool:
        return scheduling.release_hold(self.clinic, self.actor, slot_id, token)

    def take_over_hold(self, slot_id: int) -> bool:
        return scheduling.take_over_hold(self.clinic, self.actor, slot_id)

    def confirm_booking(
        self,
        slot_id: int,
        patient_id: int,
        token: str,
        appointment_type: AppointmentType = AppointmentType.OFFLINE,
        symptoms: str = "",
    ) -> AppointmentRecord:
        return scheduling.confirm_booking(
            self.clinic,
            self.actor,
            slot_id,
            patient_id,
            token=token,
            appointment_type=appointment_type,
            symptoms=symptoms,
        )

    def reschedule(self, appointment_id: int, new_slot_id: int) -> AppointmentRecord:
        return scheduling.reschedule_appointment(
            self.clinic, self.actor, appointment_id, new_slot_id
        )

    def cancel(self, appointment_id: int) -> AppointmentRecord:
        return scheduling.cancel_appointment(self.clinic, self.actor, appointment_id)

    # --- the doctor's day and the request queue --------------------------------------------
    def doctor_day(self, doctor_id: int, day: date) -> list[AppointmentRecord]:
        return scheduling.doctor_day(self.clinic, self.actor, doctor_id, day)

    def set_status(self, appointment_id: int, status: AppointmentStatus) -> AppointmentRecord:
        return scheduling.set_status(self.clinic, self.actor, appointment_id, status)

    def pending_requests(self) -> list[AppointmentRecord]:
        return scheduling.pending_requests(self.clinic, self.actor)

    def assign_request(self, appointment_id: int, slot_id: int) -> AppointmentRecord:
        return scheduling.assign_request(self.clinic, self.actor, appointment_id, slot_id)

    def decline_request(self, appointment_id: int, reason: str) -> AppointmentRecord:
        return scheduling.decline_request(self.clinic, self.actor, appointment_id, reason)

    # --- live changes ----------------------------------------------------------------------
    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Subscription:
        # The stores are also watched: an idle desk learns within seconds that one is away.
        return _Subscriptions(
            changes.follow(self.clinic, self.actor, listener),
            liveness.StoreWatch(self.clinic, listener),
        )

    def close(self) -> None:
        if self._owns_clinic:
            self.clinic.close()


class _Subscriptions:
    def __init__(self, *parts: Subscription) -> None:
        self._parts = parts

    def close(self) -> None:
        for part in self._parts:
            part.close()
