"""One contract for the `Backend` interface: the same calls give the same results and raise
the same domain errors (class and message) on LocalBackend and on RemoteBackend."""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, datetime, time, timedelta

import pytest

from hms_desktop.domain.doctor_records import CatalogueKind, DoctorForm
from hms_desktop.domain.enums import AppointmentStatus, AppointmentType, BlockKind, Role
from hms_desktop.domain.errors import (
    AppointmentMissing,
    AuthenticationFailed,
    Conflict,
    HoldNotYours,
    InUse,
    InvalidSpeciality,
    InvalidTransition,
    NoHoldFound,
    NotYourAppointment,
    PatientMissing,
    PatientNotFound,
    PermissionDenied,
    PhoneTaken,
    SlotAlreadyBooked,
    SlotBlocked,
    SlotLocked,
    TokenInvalid,
    ValidationError,
)
from hms_desktop.domain.models import (
    SYSTEM,
    ChangeEvent,
    PatientForm,
    SlotState,
    TimeBlockForm,
    WorkingHours,
)
from hms_desktop.domain.schedule import local_day_bounds
from hms_desktop.services import catalogue, doctors, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.contract.conftest import World

WAIT = 5.0


def _free(clinic: Clinic, doctor_id: int, count: int) -> list[int]:
    # From an hour ahead: a slot starting in a few seconds may be past by the time a remote
    # desk's request reaches it.
    start = clinic.now() + timedelta(hours=1)
    found = doctors.free_slots(
        clinic, SYSTEM, [doctor_id], start, start + timedelta(days=7), limit=count
    )
    return [slot.id for slot in found]


def test_login_logout_and_errors(world: World) -> None:
    user, _ = factories.staff(world.clinic, first_name="Rita", last_name="Desk")
    backend = world.backend()
    assert backend.current_user is None
    with pytest.raises(AuthenticationFailed, match="^Invalid username or password.$"):
        backend.login(user.username, "wrong-password")
    with pytest.raises(TokenInvalid, match="^Please log in first.$"):
        backend.search_patients("Pat")

    info = backend.login(user.username.upper(), factories.PASSWORD)
    assert (info.id, info.username, info.email) == (user.id, user.username, user.email)
    assert backend.current_user == info
    assert info.role is Role.RECEPTIONIST and info.full_name == "Rita Desk"
    assert backend.demo_login_hint() is None
    assert backend.description

    backend.logout()
    assert backend.current_user is None
    with pytest.raises(TokenInvalid, match="^Please log in first.$"):
        backend.pending_requests()


def test_patients_register_find_update_and_history(world: World) -> None:
    backend, _ = world.desk()
    form = PatientForm(
        full_name="Ada Lovelace",
        gender="female",
        date_of_birth=date(1985, 12, 10),
        phone="+44 20 7946 0000",
        email="ada@example.org",
        address="12 St James's Square",
    )
    ada = backend.register_patient(form)
    assert (ada.first_name, ada.last_name, ada.gender) == ("Ada", "Lovelace", "female")
    assert ada.date_of_birth == date(1985, 12, 10) and ada.phone and not ada.has_login
    assert backend.get_patient(ada.id) == ada

    assert backend.search_patients("lovel") == [ada]
    assert backend.search_patients("10/12/1985") == [ada] or backend.search_patients(
        "1985-12-10"
    ) == [ada]
    assert backend.search_patients("+44 20 79") == [ada]
    assert backend.find_likely_duplicates(
        PatientForm("ada lovelace", date_of_birth=ada.date_of_birth)
    ) == [ada]
    with pytest.raises(
        PhoneTaken, match="^Phone number is already registered to another patient.$"
    ):
        backend.register_patient(PatientForm("Someone Else", phone=form.phone))
    with pytest.raises(ValidationError) as invalid:
        backend.register_patient(PatientForm("Bad Mail", email="not-an-address"))
    assert invalid.value.field == "email"
    with pytest.raises(ValidationError) as invalid:
        backend.register_patient(PatientForm(" ", phone="12ab", email="not-an-address"))
    assert invalid.value.field == "full_name"
    assert set(invalid.value.fields) == {"full_name", "phone", "email"}
    assert backend.search_patients("020 7946 0000") == [ada]  # any spelling of the number
    assert ada.phone == "+442079460000" and ada.phone_display == "020 7946 0000"
    with pytest.raises(PatientNotFound, match="^Patient does not exist.$"):
        backend.get_patient(ada.id + 1000)

    moved = backend.update_patient(ada.id, form.__class__(**{**form.__dict__, "address": "Ockham"}))
    assert moved.address == "Ockham" and moved.id == ada.id
    assert backend.patient_history(ada.id) == []


def test_catalogue_doctors_and_free_slots(world: World) -> None:
    backend, _ = world.desk(Role.ADMIN)
    cardiology = backend.create_specialisation("Cardiology")
    senior = backend.create_designation("Senior consultant", "senior")
    assert (cardiology.name, cardiology.slug) == ("Cardiology", "cardiology")
    assert senior.slug == "senior"
    assert cardiology in backend.specialisations() and senior in backend.designations()
    with pytest.raises(Conflict, match="^specialisation with this name already exists.$"):
        backend.create_specialisation("Cardiology")

    doc = factories.doctor(world.clinic, specialisation_ids=[cardiology.id], first_name="Amy")
    factories.doctor(world.clinic)
    listed = backend.doctors(specialisation_id=cardiology.id)
    assert [d.id for d in listed] == [doc.doctor_id]
    assert listed[0].specialisations == ("Cardiology",) and listed[0].fee == 50
    details = backend.doctor_details(doc.doctor_id)
    assert details.summary == listed[0] and len(details.working_hours) == 7
    assert details.next_free_slots and details.next_free_slots[0].doctor_id == doc.doctor_id

    morning = [WorkingHours(day, time(9, 0), time(12, 0), 30) for day in range(7)]
    assert backend.set_working_hours(doc.doctor_id, morning).slots > 0
    now = world.clinic.now()
    free = backend.free_slots_by_speciality("cardiology", now, now + timedelta(days=3))
    assert free and {slot.doctor_id for slot in free} == {doc.doctor_id}
    assert all(slot.start.astimezone(world.clinic.settings.tz).hour in (9, 10, 11) for slot in free)
    with pytest.raises(InvalidSpeciality, match="^Invalid speciality of doctor requested.$"):
        backend.free_slots_by_speciality("Astrology", now, now + timedelta(days=1))
    with pytest.raises(ValidationError, match="^Start time must be earlier than end time.$"):
        backend.free_slots_by_speciality("Cardiology", now, now)


def test_the_same_account_at_two_desks_sees_the_other_desks_hold_as_another_desks(
    world: World,
) -> None:
    user, _ = factories.staff(world.clinic, first_name="Maria", last_name="Front")
    front, back = world.backend(desk_name="Front desk"), world.backend(desk_name="Back office")
    for backend in (front, back):
        backend.login(user.username, factories.PASSWORD)
    doc = factories.doctor(world.clinic)
    alice = factories.patient(world.clinic)
    (slot,) = _free(world.clinic, doc.doctor_id, 1)
    now = world.clinic.now()
    window = (now, now + timedelta(days=7))

    hold = front.hold_slot(slot, alice.id)
    assert (hold.holder, hold.desk) == (user.username, "Front desk")
    at_front = {c.slot.id: c for c in front.calendar([doc.doctor_id], *window)}[slot]
    at_back = {c.slot.id: c for c in back.calendar([doc.doctor_id], *window)}[slot]
    assert at_front.state is SlotState.HELD_BY_ME and at_front.hold == hold
    # Held by this account, but at the other desk: neither "yours" nor its key.
    assert at_back.state is SlotState.HELD and at_back.hold is not None
    assert (at_back.hold.holder, at_back.hold.desk, at_back.hold.token) == (
        user.username,
        "Front desk",
        "",
    )
    # Other desks see who holds it as people call them, not by their log-in.
    assert at_back.hold.holder_name == "Maria Front"
    # Holding it again from the other desk, even for the same patient, is another desk's
    # slot; only the desk that holds it confirms or releases it.
    with pytest.raises(SlotLocked, match="^Slot is temporarily locked.$"):
        back.hold_slot(slot, alice.id)
    assert not back.release_hold(slot, "not-the-token")
    assert front.hold_slot(slot, alice.id).token == hold.token
    # Taking it over (audited) is how the other desk gets it.
    assert back.take_over_hold(slot)
    taken = back.hold_slot(slot, alice.id)
    assert taken.desk == "Back office" and taken.token != hold.token
    at_front = {c.slot.id: c for c in front.calendar([doc.doctor_id], *window)}[slot]
    assert at_front.state is SlotState.HELD and at_front.hold is not None
    assert at_front.hold.desk == "Back office"


def test_hold_confirm_reschedule_cancel_and_their_errors(world: World) -> None:
    backend, desk_user = world.desk()
    doc = factories.doctor(world.clinic)
    alice, bob = factories.patient(world.clinic), factories.patient(world.clinic)
    first, second, third = _free(world.clinic, doc.doctor_id, 3)
    now = world.clinic.now()

    hold = backend.hold_slot(first, alice.id)
    assert (hold.slot_id, hold.patient_id, hold.holder) == (first, alice.id, desk_user.username)
    assert backend.hold_slot(first, alice.id).token == hold.token
    with pytest.raises(SlotLocked, match="^Slot is temporarily locked.$"):
        backend.hold_slot(first, bob.id)
    with pytest.raises(HoldNotYours, match="^Unauthorized access to the slot.$"):
        backend.confirm_booking(first, bob.id, hold.token)
    with pytest.raises(NoHoldFound, match="^No scheduled appointment found.$"):
        backend.confirm_booking(first, alice.id, "stale-token")
    with pytest.raises(NoHoldFound, match="^No scheduled appointment found.$"):
        backend.confirm_booking(second, alice.id, hold.token)

    states = {c.slot.id: c for c in backend.calendar([doc.doctor_id], now, now + timedelta(days=7))}
    assert states[first].state is SlotState.HELD_BY_ME and states[first].hold == hold
    assert states[second].state is SlotState.FREE

    booked = backend.confirm_booking(
        first, alice.id, hold.token, AppointmentType.ONLINE, symptoms="cough"
    )
    assert (booked.slot_id, booked.patient_id, booked.status) == (
        first,
        alice.id,
        AppointmentStatus.SCHEDULED,
    )
    assert booked.appointment_type is AppointmentType.ONLINE and booked.symptoms == "cough"
    with pytest.raises(SlotAlreadyBooked, match="^Slot is already booked.$"):
        backend.hold_slot(first, bob.id)
    calendar = {
        c.slot.id: c for c in backend.calendar([doc.doctor_id], now, now + timedelta(days=7))
    }
    assert calendar[first].state is SlotState.BOOKED and calendar[first].appointment == booked

    other = backend.hold_slot(third, bob.id)
    with pytest.raises(SlotLocked, match="^Slot is temporarily locked.$"):
        backend.reschedule(booked.id, third)
    assert backend.release_hold(third, other.token) is True
    assert backend.release_hold(third, other.token) is False

    moved = backend.reschedule(booked.id, second)
    assert (moved.slot_id, moved.status) == (second, AppointmentStatus.RESCHEDULED)
    assert backend.patient_history(alice.id) == [moved]

    cancelled = backend.cancel(booked.id)
    assert cancelled.status is AppointmentStatus.CANCELLED
    with pytest.raises(
        InvalidTransition, match="^An appointment that is cancelled cannot become arrived.$"
    ):
        backend.set_status(booked.id, AppointmentStatus.ARRIVED)
    assert second in _free(world.clinic, doc.doctor_id, 50)


def test_cancel_keeps_an_optional_reason_of_bounded_length(world: World) -> None:
    backend, _ = world.desk()
    doc, patient = factories.doctor(world.clinic), factories.patient(world.clinic)
    (slot,) = _free(world.clinic, doc.doctor_id, 1)
    booked = backend.confirm_booking(slot, patient.id, backend.hold_slot(slot, patient.id).token)
    with pytest.raises(ValidationError, match=r"^Reason is too long \(at most 300 characters\).$"):
        backend.cancel(booked.id, "x" * 301)
    cancelled = backend.cancel(booked.id, reason="Feeling better")
    assert (cancelled.status, cancelled.decline_reason) == (
        AppointmentStatus.CANCELLED,
        "Feeling better",
    )


def test_doctors_day_and_status_changes(world: World) -> None:
    backend, _ = world.desk()
    doc = factories.doctor(world.clinic)
    someone_else = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    (slot,) = _free(world.clinic, doc.doctor_id, 1)
    hold = backend.hold_slot(slot, patient.id)
    booked = backend.confirm_booking(slot, patient.id, hold.token)
    assert booked.start is not None
    day = booked.start.astimezone(world.clinic.settings.tz).date()

    doctor_desk = world.doctor_desk(doc)
    assert doctor_desk.doctor_day(doc.doctor_id, day) == [booked]
    with pytest.raises(
        PermissionDenied, match="^You do not have permission to perform this action.$"
    ):
        doctor_desk.doctor_day(someone_else.doctor_id, day)
    arrived = backend.set_status(booked.id, AppointmentStatus.ARRIVED)
    assert arrived.status is AppointmentStatus.ARRIVED
    assert doctor_desk.set_status(booked.id, AppointmentStatus.IN_PROGRESS).status is (
        AppointmentStatus.IN_PROGRESS
    )
    done = doctor_desk.set_status(booked.id, AppointmentStatus.COMPLETED)
    assert done.status is AppointmentStatus.COMPLETED
    assert backend.doctor_day(doc.doctor_id, day) == [done]


def test_request_queue_assign_and_decline(world: World) -> None:
    backend, _ = world.desk()
    doc = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    as_patient = factories.patient_actor(world.clinic, patient)
    first = scheduling.request_appointment(world.clinic, as_patient, doctor_id=doc.doctor_id)
    second = scheduling.request_appointment(
        world.clinic, as_patient, doctor_id=doc.doctor_id, symptoms="fever"
    )
    assert backend.pending_requests() == [first, second]

    (slot,) = _free(world.clinic, doc.doctor_id, 1)
    assigned = backend.assign_request(first.id, slot)
    assert (assigned.status, assigned.slot_id) == (AppointmentStatus.SCHEDULED, slot)
    with pytest.raises(
        ValidationError, match="^Give a reason for declining the request.$"
    ) as no_reason:
        backend.decline_request(second.id, "  ")
    assert no_reason.value.field == "reason"
    declined = backend.decline_request(second.id, "Doctor on leave")
    assert (declined.status, declined.decline_reason) == (
        AppointmentStatus.DECLINED,
        "Doctor on leave",
    )
    with pytest.raises(InvalidTransition, match="^Only a waiting request can be declined.$"):
        backend.decline_request(second.id, "again")
    assert backend.pending_requests() == []
    with pytest.raises(PermissionDenied):
        world.doctor_desk(doc).pending_requests()


def test_subscribe_hears_changes_from_any_desk(world: World) -> None:
    backend, _ = world.desk()
    doc = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    (slot,) = _free(world.clinic, doc.doctor_id, 1)
    heard: list[ChangeEvent] = []
    booked_heard = threading.Event()

    def listener(event: ChangeEvent) -> None:
        heard.append(event)
        if event.kind == "book":
            booked_heard.set()

    subscription = backend.subscribe(listener)
    _, other_desk = factories.staff(world.clinic)
    hold = scheduling.hold_slot(world.clinic, other_desk, slot, patient.id)
    scheduling.confirm_booking(world.clinic, other_desk, slot, patient.id, token=hold.token)
    assert booked_heard.wait(WAIT), heard
    kinds = [(event.kind, event.slot_id, event.doctor_id) for event in heard]
    assert ("hold", slot, doc.doctor_id) in kinds and ("book", slot, doc.doctor_id) in kinds

    subscription.close()
    count = len(heard)
    scheduling.cancel_appointment(world.clinic, other_desk, heard[-1].appointment_id or 0)
    assert len(heard) == count


def test_a_booking_change_says_when_its_slot_starts(world: World) -> None:
    """So a desk reloads only the days a change touches (the calendar, the day list)."""
    backend, _ = world.desk()
    doc = factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    first, second = _free(world.clinic, doc.doctor_id, 2)
    heard: list[ChangeEvent] = []
    moved_heard = threading.Event()

    def listener(event: ChangeEvent) -> None:
        heard.append(event)
        if event.kind == "reschedule":
            moved_heard.set()

    subscription = backend.subscribe(listener)
    try:
        _, other_desk = factories.staff(world.clinic)
        hold = scheduling.hold_slot(world.clinic, other_desk, first, patient.id)
        booked = scheduling.confirm_booking(
            world.clinic, other_desk, first, patient.id, token=hold.token
        )
        moved = scheduling.reschedule_appointment(world.clinic, other_desk, booked.id, second)
        assert moved_heard.wait(WAIT), heard
    finally:
        subscription.close()
    starts = {
        event.kind: datetime.fromisoformat(event.start)
        for event in heard
        if event.kind in ("book", "reschedule")
    }
    assert starts == {"book": booked.start, "reschedule": moved.start}
    reschedule = next(event for event in heard if event.kind == "reschedule")
    assert (reschedule.slot_id, reschedule.old_slot_id) == (second, first)


def test_booking_errors_for_missing_records_and_other_doctors(world: World) -> None:
    backend, _ = world.desk()
    doc, other = factories.doctor(world.clinic), factories.doctor(world.clinic)
    patient = factories.patient(world.clinic)
    first, second = _free(world.clinic, doc.doctor_id, 2)
    with pytest.raises(PatientMissing, match="^Patient does not exist.$"):
        backend.hold_slot(first, patient.id + 1000)
    booked = backend.confirm_booking(first, patient.id, backend.hold_slot(first, patient.id).token)
    with pytest.raises(AppointmentMissing, match="^Appointment does not exist.$"):
        backend.reschedule(booked.id + 1000, second)
    with pytest.raises(AppointmentMissing, match="^Appointment does not exist.$"):
        backend.cancel(booked.id + 1000)
    with pytest.raises(SlotAlreadyBooked, match="^Slot is already booked.$"):
        backend.reschedule(booked.id, first)
    with pytest.raises(
        NotYourAppointment, match="^You are not authorized to reschedule the appointment.$"
    ):
        world.doctor_desk(other).reschedule(booked.id, second)
    assert backend.get_patient(patient.id) == patient
    assert [a.id for a in backend.patient_history(patient.id)] == [booked.id]


def test_an_hours_change_lists_the_bookings_left_outside(world: World) -> None:
    backend, _ = world.desk(Role.ADMIN)
    doc = factories.doctor(world.clinic, first_name="Hal")  # all week, round the clock
    patient = factories.patient(world.clinic)
    booked_slot, held_slot = _free(world.clinic, doc.doctor_id, 2)
    booked = backend.confirm_booking(
        booked_slot, patient.id, backend.hold_slot(booked_slot, patient.id).token
    )
    backend.hold_slot(held_slot, patient.id)
    with pytest.raises(ValidationError) as refused:
        backend.set_working_hours(
            doc.doctor_id,
            [WorkingHours(0, time(9), time(12), 30), WorkingHours(0, time(11), time(13), 30)],
        )
    assert refused.value.field == "hours.1.start"
    assert refused.value.message == "Overlaps Monday 09:00-12:00."
    with pytest.raises(ValidationError) as refused:
        backend.set_working_hours(doc.doctor_id, [WorkingHours(2, time(9), time(12), 0)])
    assert refused.value.field == "hours.0.slot_minutes"

    saved = backend.set_working_hours(doc.doctor_id, [])
    assert (saved.slots, saved.kept_held) == (0, 1)
    assert saved.outside == (booked,)
    calendar = backend.calendar([doc.doctor_id], booked.start, booked.start + timedelta(days=1))
    states = {entry.slot.id: entry.state for entry in calendar}
    assert states[booked_slot] is SlotState.BOOKED and states[held_slot] is SlotState.HELD_BY_ME


def test_leave_blocks_slots_and_the_desk_moves_or_cancels_the_affected(world: World) -> None:
    admin, _ = world.desk(Role.ADMIN)
    desk, _ = world.desk()
    doc = factories.doctor(world.clinic, specialisation_ids=[factories.speciality(world.clinic)])
    alice, bob = factories.patient(world.clinic), factories.patient(world.clinic)
    day = world.clinic.today() + timedelta(days=2)
    start, end = local_day_bounds(day, world.clinic.settings.tz)
    slots = [item.slot.id for item in desk.calendar([doc.doctor_id], start, end)]
    booked = [
        desk.confirm_booking(slot, patient.id, desk.hold_slot(slot, patient.id).token)
        for slot, patient in ((slots[16], alice), (slots[17], bob))
    ]
    form = TimeBlockForm(doc.doctor_id, day, day, "Annual leave")
    with pytest.raises(PermissionDenied):
        desk.add_time_block(form)
    with pytest.raises(ValidationError) as refused:
        admin.add_time_block(dataclasses.replace(form, last_day=day - timedelta(days=1)))
    assert refused.value.field == "last_day"
    assert desk.time_blocks() == []

    block = admin.add_time_block(form)
    assert (block.doctor_id, block.kind, block.reason, block.all_day) == (
        doc.doctor_id,
        BlockKind.LEAVE,
        "Annual leave",
        True,
    )
    assert (block.start, block.end) == (start, end)
    assert desk.time_blocks() == [block]
    states = {item.slot.id: item.state for item in desk.calendar([doc.doctor_id], start, end)}
    assert states.pop(slots[16]) is states.pop(slots[17]) is SlotState.BOOKED
    assert set(states.values()) == {SlotState.BLOCKED}
    with pytest.raises(SlotBlocked, match="^Slot is not available: the doctor is away or the "):
        desk.hold_slot(slots[3], bob.id)
    affected = desk.affected_bookings(block.id)
    assert [item.appointment.id for item in affected] == [b.id for b in booked]
    assert {item.reason for item in affected} == {"Annual leave"}

    report = desk.move_affected([booked[0].id])
    (moved,) = report.moved
    assert report.not_moved == () and moved.start is not None and moved.start >= end
    with pytest.raises(ValidationError):
        desk.cancel_affected(booked[1].id, "")
    cancelled = desk.cancel_affected(booked[1].id, "Doctor on leave")
    assert (cancelled.status, cancelled.decline_reason) == (
        AppointmentStatus.CANCELLED,
        "Doctor on leave",
    )
    assert desk.affected_bookings() == []

    admin.remove_time_block(block.id)
    assert desk.time_blocks() == []
    assert desk.calendar([doc.doctor_id], start, end)[3].state is SlotState.FREE


def test_admin_adds_edits_deactivates_and_reactivates_a_doctor(world: World) -> None:
    admin, _ = world.desk(Role.ADMIN)
    desk, _ = world.desk()
    spec = factories.speciality(world.clinic, factories.unique("Speciality "))
    created = admin.create_doctor(
        DoctorForm(first_name="Ola", last_name="Berg", specialisation_ids=(spec,), fee=40)
    )
    assert (created.full_name, created.fee, created.is_active) == ("Ola Berg", 40, True)
    with pytest.raises(ValidationError, match="^Fee cannot be negative.$") as error:
        admin.update_doctor(created.id, DoctorForm(first_name="Ola", fee=-1))
    assert error.value.field == "fee"
    with pytest.raises(ValidationError, match="PNG, JPEG or WebP"):
        admin.set_doctor_picture(created.id, b"not a picture")
    assert admin.set_doctor_picture(created.id, factories.png_bytes()).picture_id is not None
    edited = admin.update_doctor(
        created.id, DoctorForm(first_name="Ola", last_name="Berg-Lund", specialisation_ids=(spec,))
    )
    assert admin.doctor_record(created.id) == edited and edited.last_name == "Berg-Lund"
    with pytest.raises(PermissionDenied):
        desk.doctor_roster()
    with pytest.raises(PermissionDenied):
        desk.deactivate_doctor(created.id)

    doctor = factories.doctor(world.clinic, specialisation_ids=[spec])
    slot, other = _free(world.clinic, doctor.doctor_id, 2)
    patient = factories.patient(world.clinic)
    hold = desk.hold_slot(slot, patient.id)
    booking = desk.confirm_booking(slot, patient.id, hold.token)
    result = admin.deactivate_doctor(doctor.doctor_id)
    assert not result.doctor.is_active
    assert [item.id for item in result.to_rebook] == [booking.id]
    assert admin.bookings_to_rebook(doctor.doctor_id) == list(result.to_rebook)
    assert doctor.doctor_id not in [item.id for item in desk.doctors()]
    with pytest.raises(Conflict, match="^This doctor is not taking appointments.$"):
        desk.hold_slot(other, patient.id)
    assert admin.reactivate_doctor(doctor.doctor_id).is_active
    assert doctor.doctor_id in [item.id for item in desk.doctors()]
    assert desk.hold_slot(other, patient.id).slot_id == other


def test_admin_keeps_the_catalogue_and_the_inbox(world: World) -> None:
    admin, _ = world.desk(Role.ADMIN)
    for kind in CatalogueKind:
        added = admin.add_catalogue_entry(kind, factories.unique("Entry "))
        renamed = admin.rename_catalogue_entry(kind, added.id, factories.unique("Renamed "))
        assert renamed.id == added.id and renamed in admin.catalogue_entries(kind)
        with pytest.raises(ValidationError) as error:
            admin.add_catalogue_entry(kind, "")
        assert error.value.field in ("name", "time")
        admin.delete_catalogue_entry(kind, added.id)
        assert added.id not in [item.id for item in admin.catalogue_entries(kind)]
    used = factories.speciality(world.clinic, factories.unique("Used "))
    factories.doctor(world.clinic, specialisation_ids=[used], hours=[])
    with pytest.raises(InUse, match="^Specialisation is used by 1 doctor"):
        admin.delete_catalogue_entry(CatalogueKind.SPECIALISATIONS, used)
    service = admin.add_catalogue_entry(CatalogueKind.SERVICES, "Physio", "Twice a week.")
    assert admin.set_service_image(service.id, factories.png_bytes()).image_id is not None

    message = catalogue.save_contact(
        world.clinic, SYSTEM, name="Kim", phone=factories.phone(), message="Call me"
    )
    assert message.id in [item.id for item in admin.contact_messages(handled=False)]
    assert admin.mark_contact_handled(message.id).handled
    assert message.id in [item.id for item in admin.contact_messages(handled=True)]
    assert message.id not in [item.id for item in admin.contact_messages(handled=False)]
