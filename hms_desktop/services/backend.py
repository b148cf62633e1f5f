"""The `Backend` interface: everything the desktop needs, and nothing about how.

Two implementations: `LocalBackend` (services over the database and lock store) and the
remote one in `hms_desktop.client` (the desk API over HTTP). One contract test suite runs
against both. Calls block; the UI makes them off the GUI thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date, datetime

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.models import (
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
from hms_desktop.store.events import Subscription


class Backend(ABC):
    # --- session ---------------------------------------------------------------------------
    @abstractmethod
    def login(self, username: str, password: str) -> UserInfo: ...

    @abstractmethod
    def logout(self) -> None: ...

    @property
    @abstractmethod
    def current_user(self) -> UserInfo | None: ...

    @property
    @abstractmethod
    def description(self) -> str:
        """Where this backend points (shown in the status bar)."""

    def contact(self) -> str:
        """Talk to the clinic once (its server, or its database and Redis) and return
        `description`; raises `BackendUnavailable` (or why the clinic cannot be used)."""
        return self.description

    @abstractmethod
    def demo_login_hint(self) -> tuple[str, str] | None:
        """The demo receptionist's credentials on a fresh embedded clinic, else None."""

    # --- patients --------------------------------------------------------------------------
    @abstractmethod
    def search_patients(self, text: str, limit: int = 50) -> list[PatientRecord]: ...

    @abstractmethod
    def get_patient(self, patient_id: int) -> PatientRecord: ...

    @abstractmethod
    def find_likely_duplicates(self, form: PatientForm) -> list[PatientRecord]: ...

    @abstractmethod
    def register_patient(self, form: PatientForm) -> PatientRecord: ...

    @abstractmethod
    def update_patient(self, patient_id: int, form: PatientForm) -> PatientRecord: ...

    @abstractmethod
    def patient_history(self, patient_id: int) -> list[AppointmentRecord]: ...

    # --- doctors and catalogue -------------------------------------------------------------
    @abstractmethod
    def specialisations(self) -> list[NamedItem]: ...

    @abstractmethod
    def designations(self) -> list[NamedItem]: ...

    @abstractmethod
    def doctors(
        self, specialisation_id: int | None = None, designation_id: int | None = None
    ) -> list[DoctorSummary]: ...

    @abstractmethod
    def doctor_details(self, doctor_id: int) -> DoctorDetails: ...

    @abstractmethod
    def free_slots_by_speciality(
        self, speciality: str, start: datetime, end: datetime
    ) -> list[FreeSlot]: ...

    @abstractmethod
    def create_specialisation(self, name: str, slug: str = "") -> NamedItem: ...

    @abstractmethod
    def create_designation(self, name: str, slug: str = "") -> NamedItem: ...

    @abstractmethod
    def set_working_hours(self, doctor_id: int, hours: Sequence[WorkingHours]) -> int: ...

    # --- calendar and booking --------------------------------------------------------------
    @abstractmethod
    def calendar(
        self, doctor_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[CalendarSlot]: ...

    @abstractmethod
    def hold_slot(self, slot_id: int, patient_id: int) -> Hold: ...

    @abstractmethod
    def release_hold(self, slot_id: int, token: str) -> bool: ...

    @abstractmethod
    def take_over_hold(self, slot_id: int) -> bool:
        """Release another desk's hold on this slot (audited); False if none was held."""

    @abstractmethod
    def confirm_booking(
        self,
        slot_id: int,
        patient_id: int,
        token: str,
        appointment_type: AppointmentType = AppointmentType.OFFLINE,
        symptoms: str = "",
    ) -> AppointmentRecord: ...

    @abstractmethod
    def reschedule(self, appointment_id: int, new_slot_id: int) -> AppointmentRecord: ...

    @abstractmethod
    def cancel(self, appointment_id: int) -> AppointmentRecord: ...

    # --- the doctor's day and the request queue --------------------------------------------
    @abstractmethod
    def doctor_day(self, doctor_id: int, day: date) -> list[AppointmentRecord]: ...

    @abstractmethod
    def set_status(self, appointment_id: int, status: AppointmentStatus) -> AppointmentRecord: ...

    @abstractmethod
    def pending_requests(self) -> list[AppointmentRecord]: ...

    @abstractmethod
    def assign_request(self, appointment_id: int, slot_id: int) -> AppointmentRecord: ...

    @abstractmethod
    def decline_request(self, appointment_id: int, reason: str) -> AppointmentRecord: ...

    # --- live changes ----------------------------------------------------------------------
    @abstractmethod
    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Subscription:
        """Call `listener` (from another thread) for every change on any desk."""

    @abstractmethod
    def close(self) -> None: ...
