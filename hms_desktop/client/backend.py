"""`RemoteBackend`: the Backend interface over the desk API (`/desk/v1`), for remote desks."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from hms_desktop.client.codec import decode, decode_list
from hms_desktop.client.events import EventStream
from hms_desktop.client.transport import DESK, Transport
from hms_desktop.config import Settings
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
from hms_desktop.domain.errors import BackendUnavailable, TokenInvalid
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
    to_jsonable,
)
from hms_desktop.domain.reports import Report, ReportGroup
from hms_desktop.domain.waitlist import SlotOffer, WaitlistEntry, WaitlistForm, WaitlistStatus
from hms_desktop.services.backend import Backend, Subscription

log = logging.getLogger(__name__)


class RemoteBackend(Backend):
    def __init__(
        self, settings: Settings, *, timeout: float = 10.0, retries: int = 3, backoff: float = 0.2
    ) -> None:
        if not settings.api_url:
            raise ValueError("remote mode needs the server's address (HMS_API_URL / api_url)")
        self.settings = settings
        self.transport = Transport(
            settings.api_url, timeout=timeout, retries=retries, backoff=backoff
        )
        self._user: UserInfo | None = None
        self._streams: list[EventStream] = []
        self.server_versions: dict[str, str] | None = None

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.transport.request(method, f"{DESK}{path}", **kwargs)

    # --- session ---------------------------------------------------------------------------
    def login(self, username: str, password: str) -> UserInfo:
        self.server_versions = self.transport.check_version()
        answer = self._call(
            "POST",
            "/session",
            json={"username": username, "password": password, "desk": self.settings.desk_label},
            auth=False,
        )
        self.transport.set_tokens(answer["access"], answer["refresh"])
        self._user = decode(UserInfo, answer["user"])
        return self._user

    def logout(self) -> None:
        self._user = None
        try:
            self.transport.end_session()
        except (BackendUnavailable, TokenInvalid) as error:
            # The desk is logged out either way; an unreachable server keeps the refresh
            # token valid until it expires.
            log.warning("logout could not revoke the session on the server: %s", error)

    @property
    def current_user(self) -> UserInfo | None:
        return self._user if self.transport.logged_in else None

    @property
    def description(self) -> str:
        return f"Remote · {self.transport.base_url}"

    def contact(self) -> str:
        self.server_versions = self.transport.check_version()
        return self.description

    def demo_login_hint(self) -> tuple[str, str] | None:
        return None

    @property
    def online(self) -> bool:
        """Whether the last request reached the server."""
        return self.transport.online

    # --- patients --------------------------------------------------------------------------
    def search_patients(self, text: str, limit: int = 50) -> list[PatientRecord]:
        found = self._call("GET", "/patients", params={"q": text, "limit": limit})
        return decode_list(PatientRecord, found)

    def get_patient(self, patient_id: int) -> PatientRecord:
        return decode(PatientRecord, self._call("GET", f"/patients/{patient_id}"))

    def find_likely_duplicates(self, form: PatientForm) -> list[PatientRecord]:
        found = self._call("POST", "/patients/duplicates", json=to_jsonable(form))
        return decode_list(PatientRecord, found)

    def register_patient(self, form: PatientForm) -> PatientRecord:
        return decode(PatientRecord, self._call("POST", "/patients", json=to_jsonable(form)))

    def update_patient(self, patient_id: int, form: PatientForm) -> PatientRecord:
        answer = self._call("PUT", f"/patients/{patient_id}", json=to_jsonable(form))
        return decode(PatientRecord, answer)

    def patient_history(self, patient_id: int) -> list[AppointmentRecord]:
        return decode_list(AppointmentRecord, self._call("GET", f"/patients/{patient_id}/history"))

    # --- reminders: a patient's messages ----------------------------------------------------
    def patient_messages(self, patient_id: int) -> list[MessageRecord]:
        return decode_list(MessageRecord, self._call("GET", f"/patients/{patient_id}/messages"))

    # --- doctors and catalogue -------------------------------------------------------------
    def specialisations(self) -> list[NamedItem]:
        return decode_list(NamedItem, self._call("GET", "/specialisations"))

    def designations(self) -> list[NamedItem]:
        return decode_list(NamedItem, self._call("GET", "/designations"))

    def doctors(
        self, specialisation_id: int | None = None, designation_id: int | None = None
    ) -> list[DoctorSummary]:
        params = {
            name: value
            for name, value in (
                ("specialisation_id", specialisation_id),
                ("designation_id", designation_id),
            )
            if value is not None
        }
        return decode_list(DoctorSummary, self._call("GET", "/doctors", params=params))

    def doctor_details(self, doctor_id: int) -> DoctorDetails:
        return decode(DoctorDetails, self._call("GET", f"/doctors/{doctor_id}"))

    def free_slots_by_speciality(
        self, speciality: str, start: datetime, end: datetime
    ) -> list[FreeSlot]:
        params = {"speciality": speciality, "start": start.isoformat(), "end": end.isoformat()}
        return decode_list(FreeSlot, self._call("GET", "/free-slots", params=params))

    def create_specialisation(self, name: str, slug: str = "") -> NamedItem:
        answer = self._call("POST", "/specialisations", json={"name": name, "slug": slug})
        return decode(NamedItem, answer)

    def create_designation(self, name: str, slug: str = "") -> NamedItem:
        answer = self._call("POST", "/designations", json={"name": name, "slug": slug})
        return decode(NamedItem, answer)

    def set_working_hours(self, doctor_id: int, hours: Sequence[WorkingHours]) -> HoursSaved:
        answer = self._call(
            "PUT", f"/doctors/{doctor_id}/working-hours", json=to_jsonable(list(hours))
        )
        return decode(HoursSaved, answer)

    # --- calendar and booking --------------------------------------------------------------
    def calendar(
        self, doctor_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[CalendarSlot]:
        params = {"doctor_id": list(doctor_ids), "start": start.isoformat(), "end": end.isoformat()}
        return decode_list(CalendarSlot, self._call("GET", "/calendar", params=params))

    def hold_slot(self, slot_id: int, patient_id: int) -> Hold:
        answer = self._call("POST", "/holds", json={"slot_id": slot_id, "patient_id": patient_id})
        return decode(Hold, answer)

    def release_hold(self, slot_id: int, token: str) -> bool:
        answer = self._call("POST", f"/holds/{slot_id}/release", json={"token": token})
        return bool(answer["released"])

    def take_over_hold(self, slot_id: int) -> bool:
        return bool(self._call("POST", f"/holds/{slot_id}/take-over")["released"])

    def confirm_booking(
        self,
        slot_id: int,
        patient_id: int,
        token: str,
        appointment_type: AppointmentType = AppointmentType.OFFLINE,
        symptoms: str = "",
    ) -> AppointmentRecord:
        body = {
            "slot_id": slot_id,
            "patient_id": patient_id,
            "token": token,
            "appointment_type": appointment_type.value,
            "symptoms": symptoms,
        }
        return decode(AppointmentRecord, self._call("POST", "/appointments", json=body))

    def reschedule(self, appointment_id: int, new_slot_id: int) -> AppointmentRecord:
        answer = self._call(
            "POST", f"/appointments/{appointment_id}/reschedule", json={"slot_id": new_slot_id}
        )
        return decode(AppointmentRecord, answer)

    def cancel(self, appointment_id: int, reason: str = "") -> AppointmentRecord:
        answer = self._call(
            "POST", f"/appointments/{appointment_id}/cancel", json={"reason": reason}
        )
        return decode(AppointmentRecord, answer)

    # --- the doctor's day and the request queue --------------------------------------------
    def doctor_day(self, doctor_id: int, day: date) -> list[AppointmentRecord]:
        answer = self._call("GET", f"/doctors/{doctor_id}/day", params={"day": day.isoformat()})
        return decode_list(AppointmentRecord, answer)

    def clinic_day(self, day: date) -> list[AppointmentRecord]:
        answer = self._call("GET", "/day", params={"day": day.isoformat()})
        return decode_list(AppointmentRecord, answer)

    def set_status(self, appointment_id: int, status: AppointmentStatus) -> AppointmentRecord:
        answer = self._call(
            "POST", f"/appointments/{appointment_id}/status", json={"status": status.value}
        )
        return decode(AppointmentRecord, answer)

    def pending_requests(self) -> list[AppointmentRecord]:
        return decode_list(AppointmentRecord, self._call("GET", "/requests"))

    def assign_request(self, appointment_id: int, slot_id: int) -> AppointmentRecord:
        answer = self._call("POST", f"/requests/{appointment_id}/assign", json={"slot_id": slot_id})
        return decode(AppointmentRecord, answer)

    def decline_request(self, appointment_id: int, reason: str) -> AppointmentRecord:
        answer = self._call("POST", f"/requests/{appointment_id}/decline", json={"reason": reason})
        return decode(AppointmentRecord, answer)

    # --- own password, staff accounts, audit log, clinic settings (admin area) ----------------
    def change_own_password(self, current: str, new: str) -> UserInfo:
        body = {"current_password": current, "new_password": new}
        self._user = decode(UserInfo, self._call("PUT", "/session/password", json=body))
        return self._user

    def staff_members(self) -> list[StaffMember]:
        return decode_list(StaffMember, self._call("GET", "/staff"))

    def create_staff(self, form: StaffForm) -> TemporaryPassword:
        return decode(TemporaryPassword, self._call("POST", "/staff", json=to_jsonable(form)))

    def set_staff_active(self, user_id: int, active: bool) -> StaffMember:
        answer = self._call("PUT", f"/staff/{user_id}/active", json={"active": active})
        return decode(StaffMember, answer)

    def unlock_staff(self, user_id: int) -> StaffMember:
        return decode(StaffMember, self._call("POST", f"/staff/{user_id}/unlock"))

    def reset_staff_password(self, user_id: int) -> TemporaryPassword:
        return decode(TemporaryPassword, self._call("POST", f"/staff/{user_id}/password-reset"))

    def audit_page(
        self, where: AuditFilter, before_id: int | None = None, limit: int = 100
    ) -> AuditPage:
        params: dict[str, Any] = {
            key: value for key, value in to_jsonable(where).items() if value not in (None, "")
        }
        params["limit"] = limit
        if before_id is not None:
            params["before_id"] = before_id
        return decode(AuditPage, self._call("GET", "/audit", params=params))

    def report(self, first: date, last: date, group: ReportGroup) -> Report:
        params = {"first": first.isoformat(), "last": last.isoformat(), "group": group.value}
        return decode(Report, self._call("GET", "/reports", params=params))

    def clinic_settings(self) -> ClinicSettings:
        return decode(ClinicSettings, self._call("GET", "/clinic-settings"))

    def update_clinic_settings(self, changes: ClinicSettings) -> ClinicSettings:
        answer = self._call("PUT", "/clinic-settings", json=to_jsonable(changes))
        return decode(ClinicSettings, answer)

    # --- leave, holidays and blocked time ----------------------------------------------------
    def time_blocks(self, include_past: bool = False) -> list[TimeBlock]:
        answer = self._call("GET", "/time-blocks", params={"include_past": include_past})
        return decode_list(TimeBlock, answer)

    def add_time_block(self, form: TimeBlockForm) -> TimeBlock:
        return decode(TimeBlock, self._call("POST", "/time-blocks", json=to_jsonable(form)))

    def remove_time_block(self, block_id: int) -> None:
        self._call("DELETE", f"/time-blocks/{block_id}")

    def affected_bookings(self, block_id: int | None = None) -> list[AffectedBooking]:
        params = {"block_id": block_id} if block_id is not None else None
        answer = self._call("GET", "/affected-appointments", params=params)
        return decode_list(AffectedBooking, answer)

    def move_affected(
        self, appointment_ids: Sequence[int], other_doctors: bool = False
    ) -> MoveReport:
        body = {"appointment_ids": list(appointment_ids), "other_doctors": other_doctors}
        return decode(MoveReport, self._call("POST", "/affected-appointments/move", json=body))

    def cancel_affected(self, appointment_id: int, reason: str) -> AppointmentRecord:
        answer = self._call(
            "POST", f"/appointments/{appointment_id}/cancel-with-reason", json={"reason": reason}
        )
        return decode(AppointmentRecord, answer)

    # --- administration: doctors, the catalogue, the contact inbox ---------------------------
    def doctor_roster(self) -> list[DoctorRecord]:
        return decode_list(DoctorRecord, self._call("GET", "/admin/doctors"))

    def doctor_record(self, doctor_id: int) -> DoctorRecord:
        return decode(DoctorRecord, self._call("GET", f"/admin/doctors/{doctor_id}"))

    def create_doctor(self, form: DoctorForm) -> DoctorRecord:
        return decode(DoctorRecord, self._call("POST", "/admin/doctors", json=to_jsonable(form)))

    def update_doctor(self, doctor_id: int, form: DoctorForm) -> DoctorRecord:
        answer = self._call("PUT", f"/admin/doctors/{doctor_id}", json=to_jsonable(form))
        return decode(DoctorRecord, answer)

    def set_doctor_picture(self, doctor_id: int, data: bytes) -> DoctorRecord:
        answer = self._call(
            "PUT", f"/admin/doctors/{doctor_id}/picture", files={"picture": ("picture", data)}
        )
        return decode(DoctorRecord, answer)

    def deactivate_doctor(self, doctor_id: int) -> DoctorDeactivation:
        answer = self._call("POST", f"/admin/doctors/{doctor_id}/deactivate")
        return decode(DoctorDeactivation, answer)

    def reactivate_doctor(self, doctor_id: int) -> DoctorRecord:
        return decode(DoctorRecord, self._call("POST", f"/admin/doctors/{doctor_id}/reactivate"))

    def bookings_to_rebook(self, doctor_id: int) -> list[AppointmentRecord]:
        answer = self._call("GET", f"/admin/doctors/{doctor_id}/to-rebook")
        return decode_list(AppointmentRecord, answer)

    def catalogue_entries(self, kind: CatalogueKind) -> list[CatalogueEntry]:
        return decode_list(CatalogueEntry, self._call("GET", f"/catalogue/{kind.value}"))

    def add_catalogue_entry(
        self, kind: CatalogueKind, name: str, description: str | None = None
    ) -> CatalogueEntry:
        body = {"name": name, "description": description}
        return decode(CatalogueEntry, self._call("POST", f"/catalogue/{kind.value}", json=body))

    def rename_catalogue_entry(
        self, kind: CatalogueKind, item_id: int, name: str, description: str | None = None
    ) -> CatalogueEntry:
        body = {"name": name, "description": description}
        answer = self._call("PUT", f"/catalogue/{kind.value}/{item_id}", json=body)
        return decode(CatalogueEntry, answer)

    def set_service_image(self, service_id: int, data: bytes) -> CatalogueEntry:
        answer = self._call(
            "PUT", f"/catalogue/services/{service_id}/image", files={"image": ("image", data)}
        )
        return decode(CatalogueEntry, answer)

    def delete_catalogue_entry(self, kind: CatalogueKind, item_id: int) -> None:
        self._call("DELETE", f"/catalogue/{kind.value}/{item_id}")

    def contact_messages(self, handled: bool | None = None) -> list[ContactItem]:
        params = {} if handled is None else {"handled": str(handled).lower()}
        return decode_list(ContactItem, self._call("GET", "/contacts", params=params))

    def mark_contact_handled(self, contact_id: int, handled: bool = True) -> ContactItem:
        answer = self._call("POST", f"/contacts/{contact_id}/handled", json={"handled": handled})
        return decode(ContactItem, answer)

    # --- waitlist ---------------------------------------------------------------------------
    def waitlist(
        self,
        status: WaitlistStatus | None = WaitlistStatus.ACTIVE,
        doctor_id: int | None = None,
        patient_id: int | None = None,
    ) -> list[WaitlistEntry]:
        params = {"status": status.value if status is not None else "all"}
        if doctor_id is not None:
            params["doctor_id"] = str(doctor_id)
        if patient_id is not None:
            params["patient_id"] = str(patient_id)
        return decode_list(WaitlistEntry, self._call("GET", "/waitlist", params=params))

    def add_to_waitlist(self, form: WaitlistForm) -> WaitlistEntry:
        return decode(WaitlistEntry, self._call("POST", "/waitlist", json=to_jsonable(form)))

    def withdraw_from_waitlist(self, entry_id: int) -> WaitlistEntry:
        return decode(WaitlistEntry, self._call("POST", f"/waitlist/{entry_id}/withdraw"))

    def waitlist_offers(
        self, doctor_ids: Sequence[int], start: datetime, end: datetime
    ) -> list[SlotOffer]:
        params = {
            "doctor_id": list(doctor_ids),
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        return decode_list(SlotOffer, self._call("GET", "/waitlist/offers", params=params))

    def waitlist_for_slot(self, slot_id: int) -> list[WaitlistEntry]:
        return decode_list(WaitlistEntry, self._call("GET", f"/waitlist/offers/{slot_id}"))

    def take_waitlist_offer(self, entry_id: int, slot_id: int) -> Hold:
        answer = self._call("POST", f"/waitlist/{entry_id}/take", json={"slot_id": slot_id})
        return decode(Hold, answer)

    def fill_from_waitlist(
        self,
        entry_id: int,
        slot_id: int,
        token: str,
        appointment_type: AppointmentType = AppointmentType.OFFLINE,
        symptoms: str = "",
    ) -> AppointmentRecord:
        body = {
            "slot_id": slot_id,
            "token": token,
            "appointment_type": appointment_type.value,
            "symptoms": symptoms,
        }
        answer = self._call("POST", f"/waitlist/{entry_id}/fill", json=body)
        return decode(AppointmentRecord, answer)

    # --- end waitlist ---
    # --- live changes ----------------------------------------------------------------------
    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Subscription:
        stream = EventStream(self.transport, listener)
        self._streams.append(stream)
        return stream

    def close(self) -> None:
        for stream in self._streams:
            stream.close()
        self._streams.clear()
        self.transport.close()
