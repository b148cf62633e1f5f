"""`LocalBackend`: the Backend interface over the service layer (database + lock store)."""

from __future__ import annotations

import platform
import uuid
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
from hms_desktop.domain.errors import BackendUnavailable, NotLoggedIn
from hms_desktop.domain.messages import MessageRecord
from hms_desktop.domain.models import (
    Actor,
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
from hms_desktop.services import (
    accounts,
    audit,
    catalogue,
    catalogue_admin,
    changes,
    clinic_settings,
    doctor_admin,
    doctors,
    leave,
    liveness,
    outbox,
    patients,
    reports,
    scheduling,
    staff,
    waitlist,
)
from hms_desktop.services import (
    hours as hours_service,
)
from hms_desktop.services.backend import Backend, Subscription
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.slot_keeper import SlotKeeper, top_up_in_background

DEMO_RECEPTIONIST = ("reception", "reception123")


class LocalBackend(Backend):
    def __init__(self, clinic: Clinic, *, owns_clinic: bool = False) -> None:
        self.clinic = clinic
        self._owns_clinic = owns_clinic
        self._user: UserInfo | None = None
        self._actor: Actor | None = None
        self._keeper: SlotKeeper | None = None

    # --- session ---------------------------------------------------------------------------
    def login(self, username: str, password: str) -> UserInfo:
        # Failed log-ins are counted per desk: a slip at one desk locks out no other.
        client = f"desk:{platform.node()}"
        user = accounts.log_in_at_desk(self.clinic, username, password, client=client)
        # Each log-in is a desk session of its own: "held by you" means this window's holds.
        actor = accounts.actor_for(user)
        self._actor = accounts.at_desk(actor, uuid.uuid4().hex, self.clinic.settings.desk_label)
        self._user = user
        # Slots never run out even where no server or cron job tops them up (a single desk).
        if self._keeper is None or not self._keeper.running:
            self._keeper = top_up_in_background(self.clinic)
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

    # --- reminders: a patient's messages ----------------------------------------------------
    def patient_messages(self, patient_id: int) -> list[MessageRecord]:
        return outbox.patient_messages(self.clinic, self.actor, patient_id)

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

    def set_working_hours(self, doctor_id: int, hours: Sequence[WorkingHours]) -> HoursSaved:
        return hours_service.change_working_hours(self.clinic, self.actor, doctor_id, hours)

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

    def cancel(self, appointment_id: int, reason: str = "") -> AppointmentRecord:
        return scheduling.cancel_appointment(self.clinic, self.actor, appointment_id, reason=reason)

    # --- the doctor's day and the request queue --------------------------------------------
    def doctor_day(self, doctor_id: int, day: date) -> list[AppointmentRecord]:
        return scheduling.doctor_day(self.clinic, self.actor, doctor_id, day)

    def clinic_day(self, day: date) -> list[AppointmentRecord]:
        return scheduling.clinic_day(self.clinic, self.actor, day)

    def set_status(self, appointment_id: int, status: AppointmentStatus) -> AppointmentRecord:
        return scheduling.set_status(self.clinic, self.actor, appointment_id, status)

    def pending_requests(self) -> list[AppointmentRecord]:
        return scheduling.pending_requests(self.clinic, self.actor)

    def assign_request(self, appointment_id: int, slot_id: int) -> AppointmentRecord:
        return scheduling.assign_request(self.clinic, self.actor, appointment_id, slot_id)

    def decline_request(self, appointment_id: int, reason: str) -> AppointmentRecord:
        return scheduling.decline_request(self.clinic, self.actor, appointment_id, reason)

    # --- own password, staff accounts, audit log, clinic settings (admin area) ----------------
    def change_own_password(self, current: str, new: str) -> UserInfo:
        user = staff.change_own_password(self.clinic, self.actor, current, new)
        self._user, self._actor = user, accounts.actor_for(user)
        return user

    def staff_members(self) -> list[StaffMember]:
        return staff.list_staff(self.clinic, self.actor)

    def create_staff(self, form: StaffForm) -> TemporaryPassword:
        return staff.create_staff(self.clinic, self.actor, form)

    def set_staff_active(self, user_id: int, active: bool) -> StaffMember:
        return staff.set_staff_active(self.clinic, self.actor, user_id, active)

    def unlock_staff(self, user_id: int) -> StaffMember:
        return staff.unlock_staff(self.clinic, self.actor, user_id)

    def reset_staff_password(self, user_id: int) -> TemporaryPassword:
        return staff.reset_password(self.clinic, self.actor, user_id)

    def audit_page(
        self, where: AuditFilter, before_id: int | None = None, limit: int = 100
    ) -> AuditPage:
        return audit.audit_page(self.clinic, self.actor, where, before_id=before_id, limit=limit)

    def report(self, first: date, last: date, group: ReportGroup) -> Report:
        return reports.report(self.clinic, self.actor, first, last, group)

    def clinic_settings(self) -> ClinicSettings:
        return clinic_settings.get_clinic_settings(self.clinic, self.actor)

    def update_clinic_settings(self, changes: ClinicSettings) -> ClinicSettings:
        return clinic_settings.update_clinic_settings(self.clinic, self.actor, changes)

    # --- leave, holidays and blocked time ----------------------------------------------------
    def time_blocks(self, include_past: bool = False) -> list[TimeBlock]:
        return leave.list_blocks(self.clinic, self.actor, include_past=include_past)

    def add_time_block(self, form: TimeBlockForm) -> TimeBlock:
        return leave.add_block(self.clinic, self.actor, form)

    def remove_time_block(self, block_id: int) -> None:
        leave.remove_block(self.clinic, self.actor, block_id)

    def affected_bookings(self, block_id: int | None = None) -> list[AffectedBooking]:
        return leave.affected_bookings(self.clinic, self.actor, block_id)

    def move_affected(
        self, appointment_ids: Sequence[int], other_doctors: bool = False
    ) -> MoveReport:
        return leave.move_affected(
            self.clinic, self.actor, appointment_ids, other_doctors=other_doctors
        )

    def cancel_affected(self, appointment_id: int, reason: str) -> AppointmentRecord:
        return leave.cancel_affected(self.clinic, self.actor, appointment_id, reason)

    # --- administration: doctors, the catalogue, the contact inbox ---------------------------
    def doctor_roster(self) -> list[DoctorRecord]:
        return doctor_admin.doctor_roster(self.clinic, self.actor)

    def doctor_record(self, doctor_id: int) -> DoctorRecord:
        return doctor_admin.get_doctor_record(self.clinic, self.actor, doctor_id)

    def create_doctor(self, form: DoctorForm) -> DoctorRecord:
        return doctor_admin.create_doctor(self.clinic, self.actor, form)

    def update_doctor(self, doctor_id: int, form: DoctorForm) -> DoctorRecord:
        return doctor_admin.update_doctor_record(self.clinic, self.actor, doctor_id, form)

    def set_doctor_picture(self, doctor_id: int, data: bytes) -> DoctorRecord:
        return doctor_admin.set_doctor_picture(self.clinic, self.actor, doctor_id, data)

    def deactivate_doctor(self, doctor_id: int) -> DoctorDeactivation:
        return doctor_admin.deactivate_doctor(self.clinic, self.actor, doctor_id)

    def reactivate_doctor(self, doctor_id: int) -> DoctorRecord:
        return doctor_admin.reactivate_doctor(self.clinic, self.actor, doctor_id)

    def bookings_to_rebook(self, doctor_id: int) -> list[AppointmentRecord]:
        return doctor_admin.bookings_to_rebook(self.clinic, self.actor, doctor_id)

    def catalogue_entries(self, kind: CatalogueKind) -> list[CatalogueEntry]:
        return catalogue_admin.list_entries(self.clinic, self.actor, kind)

    def add_catalogue_entry(
        self, kind: CatalogueKind, name: str, description: str | None = None
    ) -> CatalogueEntry:
        return catalogue_admin.save_entry(
            self.clinic, self.actor, kind, name, description=description
        )

    def rename_catalogue_entry(
        self, kind: CatalogueKind, item_id: int, name: str, description: str | None = None
    ) -> CatalogueEntry:
        return catalogue_admin.save_entry(
            self.clinic, self.actor, kind, name, item_id=item_id, description=description
        )

    def set_service_image(self, service_id: int, data: bytes) -> CatalogueEntry:
        return catalogue_admin.save_entry(
            self.clinic, self.actor, CatalogueKind.SERVICES, None, item_id=service_id, image=data
        )

    def delete_catalogue_entry(self, kind: CatalogueKind, item_id: int) -> None:
        catalogue_admin.delete_entry(self.clinic, self.actor, kind, item_id)

    def contact_messages(self, handled: bool | None = None) -> list[ContactItem]:
        return catalogue_admin.inbox(self.clinic, self.actor, handled)

    def mark_contact_handled(self, contact_id: int, handled: bool = True) -> ContactItem:
        return catalogue_admin.mark_handled(self.clinic, self.actor, contact_id, handled)

    # --- waitlist ---------------------------------------------------------------------------
    def waitlist(
        self,
        status: WaitlistStatus | None = WaitlistStatus.ACTIVE,
        doctor_id: int | None = None,
        patient_id: int | None = None,
    ) -> list[WaitlistEntry]:
        return waitlist.list_entries(
            self.clinic, self.actor, status, doctor_id=doctor_id, patient_id=patient_id
        )

    def add_to_waitlist(self, form: WaitlistForm) -> WaitlistEntry:
        return waitlist.add_entry(self.clinic, self.actor, form)

    def withdraw_from_waitlist(self, entry_id: int) -> WaitlistEntry:
        return waitlist.withdraw_entry(self.clinic, self.actor, entry_id)

    def waitlist_offers(
        self, doctor_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[SlotOffer]:
        return waitlist.offers(self.clinic, self.actor, doctor_ids, start, end)

    def waitlist_for_slot(self, slot_id: int) -> list[WaitlistEntry]:
        return waitlist.offer_for_slot(self.clinic, self.actor, slot_id)

    def take_waitlist_offer(self, entry_id: int, slot_id: int) -> Hold:
        return waitlist.take_offer(self.clinic, self.actor, entry_id, slot_id)

    def fill_from_waitlist(
        self,
        entry_id: int,
        slot_id: int,
        token: str,
        appointment_type: AppointmentType = AppointmentType.OFFLINE,
        symptoms: str = "",
    ) -> AppointmentRecord:
        return waitlist.fill(
            self.clinic, self.actor, entry_id, slot_id, token, appointment_type, symptoms
        )

    # --- end waitlist ---
    # --- live changes ----------------------------------------------------------------------
    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Subscription:
        # The stores are also watched: an idle desk learns within seconds that one is away.
        return _Subscriptions(
            changes.follow(self.clinic, self.actor, listener),
            liveness.StoreWatch(self.clinic, listener),
        )

    def close(self) -> None:
        if self._keeper is not None:
            self._keeper.stop()
        if self._owns_clinic:
            self.clinic.close()


class _Subscriptions:
    def __init__(self, *parts: Subscription) -> None:
        self._parts = parts

    def close(self) -> None:
        for part in self._parts:
            part.close()
