"""Change events reach a subscriber (another desk through Redis pub/sub on the central store),
and every write leaves an audit entry naming who did it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.models import SYSTEM, PatientForm
from hms_desktop.services import accounts, audit, catalogue, doctors, patients, reviews, scheduling
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import EventRecorder, audit_count, free_slot_ids, last_audit
from tests.stores import StoreSpec


@pytest.fixture
def listener(
    clinic: Clinic, store: StoreSpec, open_store: Callable[..., Clinic]
) -> Iterator[EventRecorder]:
    """Centrally another desk listens (Redis pub/sub); embedded, events stay in-process."""
    listening_desk = open_store() if store.name == "postgres" else clinic
    recorder = EventRecorder()
    subscription = listening_desk.events.subscribe(recorder)
    try:
        yield recorder
    finally:
        subscription.close()


def test_every_slot_change_publishes_an_event(clinic: Clinic, listener: EventRecorder) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk).id
    first, second, third = free_slot_ids(clinic, doc.doctor_id, 3)
    d = doc.doctor_id

    hold = scheduling.hold_slot(clinic, desk, third, patient)
    event = listener.wait_for("hold", slot_id=third, doctor_id=d)
    # A hold names who holds it and at which desk (none: this actor is at no desk).
    assert event.extra == {"holder": desk.username, "desk": ""} and event.at
    scheduling.release_hold(clinic, desk, third, hold.token)
    listener.wait_for("release", slot_id=third, doctor_id=d)

    hold = scheduling.hold_slot(clinic, desk, first, patient)
    listener.wait_for("hold", slot_id=first)
    booked = scheduling.confirm_booking(clinic, desk, first, patient, token=hold.token)
    listener.wait_for("book", slot_id=first, doctor_id=d, appointment_id=booked.id)

    scheduling.reschedule_appointment(clinic, desk, booked.id, second)
    listener.wait_for(
        "reschedule", slot_id=second, old_slot_id=first, doctor_id=d, appointment_id=booked.id
    )
    scheduling.set_status(clinic, desk, booked.id, AppointmentStatus.ARRIVED)
    listener.wait_for("status", slot_id=second, appointment_id=booked.id)
    scheduling.set_status(clinic, desk, booked.id, AppointmentStatus.SCHEDULED)
    listener.wait_for("status", slot_id=second, appointment_id=booked.id)
    scheduling.cancel_appointment(clinic, desk, booked.id)
    listener.wait_for("cancel", slot_id=second, doctor_id=d, appointment_id=booked.id)

    request = scheduling.request_appointment(clinic, desk, doctor_id=d, patient_id=patient)
    listener.wait_for("request", doctor_id=d, appointment_id=request.id)
    scheduling.assign_request(clinic, desk, request.id, third)
    listener.wait_for("assign", slot_id=third, appointment_id=request.id)


def test_a_closed_subscription_hears_nothing_more(clinic: Clinic, store: StoreSpec) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    patient = factories.patient(clinic, desk).id
    first, second = free_slot_ids(clinic, doc.doctor_id, 2)
    recorder = EventRecorder()
    subscription = clinic.events.subscribe(recorder)
    scheduling.hold_slot(clinic, desk, first, patient)
    recorder.wait_for("hold", slot_id=first)
    subscription.close()
    scheduling.hold_slot(clinic, desk, second, patient)
    with pytest.raises(AssertionError, match="no 'hold' event"):
        recorder.wait_for("hold", timeout=0.5, slot_id=second)


def _entries_since(clinic: Clinic, count_before: int) -> list[dict[str, object]]:
    new = audit_count(clinic) - count_before
    return audit.recent_entries(clinic, SYSTEM, limit=new) if new else []


def test_every_write_leaves_an_audit_entry_with_its_actor(clinic: Clinic) -> None:
    admin_user, admin = factories.staff(clinic, Role.ADMIN)
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic)
    (slot, other_slot) = free_slot_ids(clinic, doc.doctor_id, 2)
    record = factories.patient(clinic, desk, username="patty", password=factories.PASSWORD)
    patient = factories.patient_actor(clinic, record)
    appointment: dict[str, int] = {}

    def book() -> None:
        hold = scheduling.hold_slot(clinic, desk, slot, record.id)
        appointment["id"] = scheduling.confirm_booking(
            clinic, desk, slot, record.id, token=hold.token
        ).id

    review: dict[str, int] = {}

    def write_review() -> None:
        review["id"] = reviews.write_review(clinic, patient, doc.doctor_id, "Kind", 5).id

    writes: list[tuple[str, Callable[[], object], str, str]] = [
        (
            "create user",
            lambda: accounts.create_user(
                clinic, admin, username="newdesk", role=Role.RECEPTIONIST, password=None
            ),
            admin.username,
            "create",
        ),
        (
            "register patient",
            lambda: patients.register_patient(clinic, desk, PatientForm(full_name="Audit Me")),
            desk.username,
            "register",
        ),
        (
            "edit patient",
            lambda: patients.update_patient(
                clinic, patient, record.id, PatientForm(full_name="Patty Edited")
            ),
            "patty",
            "update",
        ),
        (
            "speciality",
            lambda: catalogue.create_named(clinic, admin, NamedList.SPECIALISATIONS, "Audiology"),
            admin.username,
            "create",
        ),
        (
            "doctor",
            lambda: doctors.update_doctor(clinic, doc.actor, doc.doctor_id, fee=70),
            doc.actor.username,
            "update",
        ),
        ("book", book, desk.username, "book"),
        (
            "move",
            lambda: scheduling.reschedule_appointment(
                clinic, patient, appointment["id"], other_slot
            ),
            "patty",
            "reschedule",
        ),
        (
            "status",
            lambda: scheduling.set_status(
                clinic, doc.actor, appointment["id"], AppointmentStatus.ARRIVED
            ),
            doc.actor.username,
            "status",
        ),
        ("review", write_review, "patty", "create"),
        (
            "edit review",
            lambda: reviews.edit_review(clinic, patient, review["id"], rating="⭐⭐⭐"),
            "patty",
            "update",
        ),
        (
            "contact",
            lambda: catalogue.save_contact(
                clinic, patient, name="Patty", phone="0700 123 456", message="Call me"
            ),
            "patty",
            "save",
        ),
        (
            "deactivate",
            lambda: accounts.set_active(clinic, SYSTEM, admin_user.id, False),
            "system",
            "deactivate",
        ),
    ]
    for name, write, actor, action in writes:
        before = audit_count(clinic)
        write()
        entries = _entries_since(clinic, before)
        assert entries, f"{name}: no audit entry"
        assert (entries[0]["actor"], entries[0]["action"]) == (actor, action), name
        assert entries[0]["at"] is not None
    entry = last_audit(clinic)
    assert entry.actor_user_id is None and entry.entity == "user"
    moved = [
        e
        for e in audit.recent_entries(clinic, SYSTEM, entity="appointment")
        if e["action"] == "reschedule"
    ]
    assert json.loads(str(moved[0]["detail"])) == {"slot_id": other_slot, "old_slot_id": slot}
