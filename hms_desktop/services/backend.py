"""The `Backend` interface: everything the desktop needs, and nothing about how.

Two implementations: `LocalBackend` (services over the database and lock store) and the
remote one in `hms_desktop.client` (the desk API over HTTP). One contract test suite runs
against both. Calls block; the UI makes them off the GUI thread.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from datetime import date, datetime

from hms_desktop.domain.admin import (
    AuditFilter,
    AuditPage,
    ClinicSettings,
    StaffForm,
    StaffMember,
    TemporaryPassword,
)
from hms_desktop.domain.doctor_records import (
    CatalogueEntry,
    CatalogueKind,
    DoctorDeactivation,
    DoctorForm,
    DoctorRecord,
)
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.messages import MessageRecord
from hms_desktop.domain.models import (
    AffectedBooking,
    AppointmentRecord,
    CalendarSlot,
    ChangeEvent,
    ContactItem,
    DoctorDetails,
    DoctorSummary,
    FreeSlot,
    Hold,
    HoursSaved,
    MoveReport,
    NamedItem,
    PatientForm,
    PatientRecord,
    TimeBlock,
    TimeBlockForm,
    UserInfo,
    WorkingHours,
)
from hms_desktop.domain.reports import Report, ReportGroup
from hms_desktop.domain.waitlist import SlotOffer, WaitlistEntry, WaitlistForm, WaitlistStatus
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

    # --- reminders: a patient's messages ----------------------------------------------------
    @abstractmethod
    def patient_messages(self, patient_id: int) -> list[MessageRecord]:
        """Confirmations, reminders and notices written for the patient, newest first, each
        with its state (pending, sent, failed, withdrawn)."""

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
    def set_working_hours(self, doctor_id: int, hours: Sequence[WorkingHours]) -> HoursSaved:
        """Replace a doctor's weekly hours: booked and held slots stay; booked appointments
        now outside the hours are listed in the answer."""

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
    def cancel(self, appointment_id: int, reason: str = "") -> AppointmentRecord:
        """Cancel; a `reason` (at most 300 characters) is kept on it and in the audit log."""

    # --- the doctor's day and the request queue --------------------------------------------
    @abstractmethod
    def doctor_day(self, doctor_id: int, day: date) -> list[AppointmentRecord]: ...

    @abstractmethod
    def clinic_day(self, day: date) -> list[AppointmentRecord]:
        """Every doctor's appointments on one day in time order (the desk's arrivals list)."""

    @abstractmethod
    def set_status(self, appointment_id: int, status: AppointmentStatus) -> AppointmentRecord: ...

    @abstractmethod
    def pending_requests(self) -> list[AppointmentRecord]: ...

    @abstractmethod
    def assign_request(self, appointment_id: int, slot_id: int) -> AppointmentRecord: ...

    @abstractmethod
    def decline_request(self, appointment_id: int, reason: str) -> AppointmentRecord: ...

    # --- own password, staff accounts, audit log, clinic settings (admin area) ----------------
    @abstractmethod
    def change_own_password(self, current: str, new: str) -> UserInfo:
        """The logged-in user's password; clears a reset's "must change" mark."""

    @abstractmethod
    def staff_members(self) -> list[StaffMember]: ...

    @abstractmethod
    def create_staff(self, form: StaffForm) -> TemporaryPassword: ...

    @abstractmethod
    def set_staff_active(self, user_id: int, active: bool) -> StaffMember: ...

    @abstractmethod
    def unlock_staff(self, user_id: int) -> StaffMember: ...

    @abstractmethod
    def reset_staff_password(self, user_id: int) -> TemporaryPassword: ...

    @abstractmethod
    def audit_page(
        self, where: AuditFilter, before_id: int | None = None, limit: int = 100
    ) -> AuditPage: ...

    @abstractmethod
    def report(self, first: date, last: date, group: ReportGroup) -> Report:
        """Bookings, attendance, no-shows and use of time for the clinic's days `first` to
        `last`, a row per doctor or speciality (a doctor gets only their own row)."""

    @abstractmethod
    def clinic_settings(self) -> ClinicSettings: ...

    @abstractmethod
    def update_clinic_settings(self, changes: ClinicSettings) -> ClinicSettings: ...
    # --- leave, holidays and blocked time ----------------------------------------------------
    @abstractmethod
    def time_blocks(self, include_past: bool = False) -> list[TimeBlock]: ...

    @abstractmethod
    def add_time_block(self, form: TimeBlockForm) -> TimeBlock: ...

    @abstractmethod
    def remove_time_block(self, block_id: int) -> None: ...

    @abstractmethod
    def affected_bookings(self, block_id: int | None = None) -> list[AffectedBooking]:
        """Booked appointments still ahead inside a block (this one, or any)."""

    @abstractmethod
    def move_affected(
        self, appointment_ids: Sequence[int], other_doctors: bool = False
    ) -> MoveReport:
        """Each to the next free slot of its doctor (or of a doctor of the same speciality);
        reports those that could not be moved."""

    @abstractmethod
    def cancel_affected(self, appointment_id: int, reason: str) -> AppointmentRecord: ...
    # --- administration: doctors, the catalogue, the contact inbox ---------------------------
    @abstractmethod
    def doctor_roster(self) -> list[DoctorRecord]:
        """Every doctor, deactivated ones too (admin)."""

    @abstractmethod
    def doctor_record(self, doctor_id: int) -> DoctorRecord: ...

    @abstractmethod
    def create_doctor(self, form: DoctorForm) -> DoctorRecord: ...

    @abstractmethod
    def update_doctor(self, doctor_id: int, form: DoctorForm) -> DoctorRecord: ...

    @abstractmethod
    def set_doctor_picture(self, doctor_id: int, data: bytes) -> DoctorRecord: ...

    @abstractmethod
    def deactivate_doctor(self, doctor_id: int) -> DoctorDeactivation:
        """No longer bookable; answers the booked future appointments to move."""

    @abstractmethod
    def reactivate_doctor(self, doctor_id: int) -> DoctorRecord: ...

    @abstractmethod
    def bookings_to_rebook(self, doctor_id: int) -> list[AppointmentRecord]: ...

    @abstractmethod
    def catalogue_entries(self, kind: CatalogueKind) -> list[CatalogueEntry]: ...

    @abstractmethod
    def add_catalogue_entry(
        self, kind: CatalogueKind, name: str, description: str | None = None
    ) -> CatalogueEntry: ...

    @abstractmethod
    def rename_catalogue_entry(
        self, kind: CatalogueKind, item_id: int, name: str, description: str | None = None
    ) -> CatalogueEntry:
        """A new name (a service also a description)."""

    @abstractmethod
    def set_service_image(self, service_id: int, data: bytes) -> CatalogueEntry: ...

    @abstractmethod
    def delete_catalogue_entry(self, kind: CatalogueKind, item_id: int) -> None:
        """Refused (`InUse`) while doctors or requests still use the entry."""

    @abstractmethod
    def contact_messages(self, handled: bool | None = None) -> list[ContactItem]: ...

    @abstractmethod
    def mark_contact_handled(self, contact_id: int, handled: bool = True) -> ContactItem: ...

    # --- waitlist ---------------------------------------------------------------------------
    @abstractmethod
    def waitlist(
        self,
        status: WaitlistStatus | None = WaitlistStatus.ACTIVE,
        doctor_id: int | None = None,
        patient_id: int | None = None,
    ) -> list[WaitlistEntry]:
        """Entries (active ones best first; `status` None: all); a patient sees their own."""

    @abstractmethod
    def add_to_waitlist(self, form: WaitlistForm) -> WaitlistEntry: ...

    @abstractmethod
    def withdraw_from_waitlist(self, entry_id: int) -> WaitlistEntry: ...

    @abstractmethod
    def waitlist_offers(
        self, doctor_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[SlotOffer]:
        """Free slots of these doctors in [start, end) that waiting entries fit."""

    @abstractmethod
    def waitlist_for_slot(self, slot_id: int) -> list[WaitlistEntry]:
        """Who waits for this free slot, best first (none when it is not free)."""

    @abstractmethod
    def take_waitlist_offer(self, entry_id: int, slot_id: int) -> Hold:
        """Hold the slot for the entry's patient (the normal hold)."""

    @abstractmethod
    def fill_from_waitlist(
        self,
        entry_id: int,
        slot_id: int,
        token: str,
        appointment_type: AppointmentType = AppointmentType.OFFLINE,
        symptoms: str = "",
    ) -> AppointmentRecord:
        """Book the held slot and mark the entry filled (one transaction)."""

    # --- end waitlist ---
    # --- live changes ----------------------------------------------------------------------
    @abstractmethod
    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Subscription:
        """Call `listener` (from another thread) for every change on any desk."""

    @abstractmethod
    def close(self) -> None: ...
