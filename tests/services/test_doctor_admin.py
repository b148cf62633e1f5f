"""The admin's doctors, catalogue and contact inbox on every store: add a doctor with or
without a log-in, edit, picture, deactivate (not bookable anywhere; booked future visits
listed, never dropped) and reactivate; catalogue entries refused deletion while in use;
contact messages marked handled. Every change is audited; only the admin may."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hms_desktop.domain.doctor_records import CatalogueKind, DoctorForm
from hms_desktop.domain.enums import AppointmentStatus, Role
from hms_desktop.domain.errors import (
    AuthenticationFailed,
    DoctorMissing,
    DoctorNotBookable,
    InUse,
    NoHoldFound,
    PermissionDenied,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import SYSTEM, Actor
from hms_desktop.services import (
    accounts,
    catalogue,
    catalogue_admin,
    doctor_admin,
    doctors,
    hospital_records,
    scheduling,
)
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import AuditEntry, Doctor
from tests import factories


def _admin(clinic: Clinic) -> Actor:
    return factories.staff(clinic, Role.ADMIN)[1]


def _audit(clinic: Clinic, entity: str, entity_id: int) -> list[str]:
    with clinic.db.read() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
                .order_by(AuditEntry.id)
            )
        )


def test_add_a_doctor_without_and_with_a_log_in(clinic: Clinic) -> None:
    admin = _admin(clinic)
    cardio = factories.speciality(clinic, "Cardiology")
    senior = factories.designation(clinic, "Senior")
    form = DoctorForm(
        first_name="Ines",
        last_name="Okafor",
        specialisation_ids=(cardio,),
        designation_ids=(senior,),
        fee=70,
        description="Heart rhythm.",
        meet_link="https://meet.example/okafor",
    )
    plain = doctor_admin.create_doctor(clinic, admin, form, picture=factories.png_bytes())
    assert (plain.full_name, plain.specialisations, plain.designations) == (
        "Ines Okafor",
        ("Cardiology",),
        ("Senior",),
    )
    assert plain.fee == 70 and plain.is_active and not plain.has_login
    assert plain.picture_id is not None
    # Bookable at once: in the desk's lists.
    assert plain.id in [d.id for d in doctors.list_doctors(clinic, SYSTEM)]
    assert _audit(clinic, "doctor", plain.id) == ["create"]

    with_login = doctor_admin.create_doctor(
        clinic,
        admin,
        DoctorForm(first_name="Tom", username="dr.tom", password="tom-secret-1"),
    )
    assert with_login.has_login and with_login.username == "dr.tom"
    user = accounts.log_in(clinic, "dr.tom", "tom-secret-1", client="test")
    assert user.role is Role.DOCTOR and user.doctor_id == with_login.id
    with pytest.raises(AuthenticationFailed):
        accounts.log_in(clinic, plain.username, "", client="test")

    with pytest.raises(UsernameTaken):
        doctor_admin.create_doctor(
            clinic, admin, DoctorForm(first_name="Tim", username="DR.TOM", password="x" * 8)
        )


@pytest.mark.parametrize(
    ("form", "field"),
    [
        (DoctorForm(first_name="  "), "first_name"),
        (DoctorForm(first_name="Neg", fee=-1), "fee"),
        (DoctorForm(first_name="Pw", username="dr.pw", password="short"), "password"),
        (DoctorForm(first_name="Pw", password="long-enough-1"), "username"),
        (DoctorForm(first_name="Mail", email="not an email"), "email"),
        (DoctorForm(first_name="Spec", specialisation_ids=(999999,)), "specialisation"),
    ],
)
def test_bad_doctor_forms_save_nothing(clinic: Clinic, form: DoctorForm, field: str) -> None:
    admin = _admin(clinic)
    before = len(doctor_admin.doctor_roster(clinic, admin))
    with pytest.raises(ValidationError) as error:
        doctor_admin.create_doctor(clinic, admin, form)
    assert error.value.field == field
    assert len(doctor_admin.doctor_roster(clinic, admin)) == before


def test_a_non_image_picture_is_refused_and_nothing_saved(clinic: Clinic) -> None:
    admin = _admin(clinic)
    before = len(doctor_admin.doctor_roster(clinic, admin))
    with pytest.raises(ValidationError, match="valid PNG, JPEG or WebP"):
        doctor_admin.create_doctor(
            clinic, admin, DoctorForm(first_name="Pic"), picture=b"%PDF-1.4 not a picture"
        )
    assert len(doctor_admin.doctor_roster(clinic, admin)) == before
    doctor = factories.doctor(clinic, hours=[])
    with pytest.raises(ValidationError):
        doctor_admin.set_doctor_picture(clinic, admin, doctor.doctor_id, b"GIF89a...")
    assert doctor_admin.get_doctor_record(clinic, admin, doctor.doctor_id).picture_id is None


def test_edit_a_doctor_and_give_them_a_log_in(clinic: Clinic) -> None:
    admin = _admin(clinic)
    neuro = factories.speciality(clinic, "Neurology")
    created = doctor_admin.create_doctor(clinic, admin, DoctorForm(first_name="Lea"))
    edited = doctor_admin.update_doctor_record(
        clinic,
        admin,
        created.id,
        DoctorForm(
            first_name="Leah",
            last_name="Park",
            specialisation_ids=(neuro,),
            fee=55,
            username="dr.park",
            password="park-secret-1",
        ),
    )
    assert (edited.full_name, edited.specialisations, edited.fee) == (
        "Leah Park",
        ("Neurology",),
        55,
    )
    assert edited.has_login and edited.username == "dr.park"
    assert accounts.log_in(clinic, "dr.park", "park-secret-1", client="t").doctor_id == created.id
    # Renamed without a new password: the same password logs in under the new name.
    renamed = doctor_admin.update_doctor_record(
        clinic, admin, created.id, DoctorForm(first_name="Leah", username="dr.leah")
    )
    assert renamed.username == "dr.leah" and renamed.first_name == "Leah"
    assert accounts.log_in(clinic, "dr.leah", "park-secret-1", client="t").doctor_id == created.id
    # A doctor without a log-in needs a password to get one; nothing is saved without it.
    plain = doctor_admin.create_doctor(clinic, admin, DoctorForm(first_name="Noor"))
    with pytest.raises(ValidationError) as error:
        doctor_admin.update_doctor_record(
            clinic, admin, plain.id, DoctorForm(first_name="Noora", username="dr.noor")
        )
    assert error.value.field == "password"
    unchanged = doctor_admin.get_doctor_record(clinic, admin, plain.id)
    assert (unchanged.first_name, unchanged.has_login) == ("Noor", False)
    assert _audit(clinic, "doctor", created.id) == ["create", "update", "update"]


def test_deactivated_doctor_is_not_bookable_and_their_bookings_are_listed(
    clinic: Clinic,
) -> None:
    admin = _admin(clinic)
    _, desk = factories.staff(clinic)
    speciality = factories.speciality(clinic, "Dermatology")
    doctor = factories.doctor(clinic, specialisation_ids=[speciality])
    now = clinic.now()
    free = doctors.free_slots(clinic, SYSTEM, [doctor.doctor_id], now, now + timedelta(days=7))
    booked_slot, other_slot = free[0].id, free[1].id
    patient = factories.patient(clinic)
    hold = scheduling.hold_slot(clinic, desk, booked_slot, patient.id)
    booking = scheduling.confirm_booking(clinic, desk, booked_slot, patient.id, token=hold.token)

    talking = factories.patient(clinic)
    earlier = scheduling.hold_slot(clinic, desk, free[2].id, talking.id)

    result = doctor_admin.deactivate_doctor(clinic, admin, doctor.doctor_id)

    # A hold taken before is let go: it cannot be confirmed any more.
    with pytest.raises(NoHoldFound):
        scheduling.confirm_booking(clinic, desk, free[2].id, talking.id, token=earlier.token)

    assert not result.doctor.is_active
    assert [item.id for item in result.to_rebook] == [booking.id]
    # Kept booked: nothing is cancelled silently.
    assert scheduling.get_appointment(clinic, desk, booking.id).status is (
        AppointmentStatus.SCHEDULED
    )
    assert [a.id for a in doctor_admin.bookings_to_rebook(clinic, admin, doctor.doctor_id)] == [
        booking.id
    ]
    # Gone from every listing, no free slots, holds refused.
    assert doctor.doctor_id not in [d.id for d in doctors.list_doctors(clinic, desk)]
    assert doctor.doctor_id not in [d.id for d in hospital_records.doctor_listing(clinic, desk)]
    cards = hospital_records.list_doctor_cards(clinic, desk).items
    assert doctor.doctor_id not in [card.id for card in cards]
    assert doctors.free_slots(clinic, desk, [doctor.doctor_id], now, now + timedelta(days=7)) == []
    window = doctors.free_slots_by_speciality(clinic, desk, "Dermatology", now, now + timedelta(7))
    assert window == []
    with pytest.raises(DoctorNotBookable):
        scheduling.hold_slot(clinic, desk, other_slot, factories.patient(clinic).id)
    with pytest.raises(DoctorMissing):
        doctors.doctor_details(clinic, desk, doctor.doctor_id)
    with pytest.raises(DoctorNotBookable):
        scheduling.request_appointment(
            clinic, desk, doctor_id=doctor.doctor_id, patient_id=patient.id
        )
    # Still on the admin's roster, marked inactive.
    roster = {d.id: d for d in doctor_admin.doctor_roster(clinic, admin)}
    assert roster[doctor.doctor_id].is_active is False

    doctor_admin.reactivate_doctor(clinic, admin, doctor.doctor_id)
    assert scheduling.hold_slot(clinic, desk, other_slot, factories.patient(clinic).id).token
    assert doctor.doctor_id in [d.id for d in doctors.list_doctors(clinic, desk)]
    assert _audit(clinic, "doctor", doctor.doctor_id)[-2:] == ["deactivate", "reactivate"]


def test_only_the_admin_runs_the_doctors(clinic: Clinic) -> None:
    doctor = factories.doctor(clinic, hours=[])
    for role in (Role.RECEPTIONIST, Role.DOCTOR):
        _, actor = factories.staff(clinic, role)
        with pytest.raises(PermissionDenied):
            doctor_admin.doctor_roster(clinic, actor)
        with pytest.raises(PermissionDenied):
            doctor_admin.create_doctor(clinic, actor, DoctorForm(first_name="X"))
        with pytest.raises(PermissionDenied):
            doctor_admin.deactivate_doctor(clinic, actor, doctor.doctor_id)
        with pytest.raises(PermissionDenied):
            doctor_admin.update_doctor_record(
                clinic, actor, doctor.doctor_id, DoctorForm(first_name="X")
            )
    # A doctor may not deactivate themselves either.
    with pytest.raises(PermissionDenied):
        doctor_admin.deactivate_doctor(clinic, doctor.actor, doctor.doctor_id)
    with clinic.db.read() as session:
        assert session.get(Doctor, doctor.doctor_id).is_active  # type: ignore[union-attr]


def test_catalogue_add_rename_delete_and_refuse_what_is_in_use(clinic: Clinic) -> None:
    admin = _admin(clinic)
    for kind in CatalogueKind:
        entry = catalogue_admin.save_entry(clinic, admin, kind, f"First {kind.value}")
        renamed = catalogue_admin.save_entry(
            clinic, admin, kind, f"Second {kind.value}", item_id=entry.id
        )
        assert (renamed.id, renamed.name, renamed.uses) == (entry.id, f"Second {kind.value}", 0)
        listed = catalogue_admin.list_entries(clinic, admin, kind)
        assert [item.name for item in listed if item.id == entry.id] == [renamed.name]
        with pytest.raises(ValidationError) as error:
            catalogue_admin.save_entry(clinic, admin, kind, "   ")
        assert len(catalogue_admin.list_entries(clinic, admin, kind)) == len(listed)
        catalogue_admin.delete_entry(clinic, admin, kind, entry.id)
        assert entry.id not in [
            item.id for item in catalogue_admin.list_entries(clinic, admin, kind)
        ]
    assert error.value.field == "name"

    used = factories.speciality(clinic, "Used Speciality")
    factories.doctor(clinic, specialisation_ids=[used], hours=[])
    entries = catalogue_admin.list_entries(clinic, admin, CatalogueKind.SPECIALISATIONS)
    assert [item.uses for item in entries if item.id == used] == [1]
    with pytest.raises(InUse, match="^Specialisation is used by 1 doctor; remove it from it"):
        catalogue_admin.delete_entry(clinic, admin, CatalogueKind.SPECIALISATIONS, used)
    assert used in [
        item.id for item in catalogue.list_named(clinic, admin, catalogue.NamedList.SPECIALISATIONS)
    ]

    service = catalogue_admin.save_entry(
        clinic, admin, CatalogueKind.SERVICES, "X-ray", description="Same day."
    )
    pictured = catalogue_admin.save_entry(
        clinic, admin, CatalogueKind.SERVICES, None, item_id=service.id, image=factories.png_bytes()
    )
    assert pictured.image_id is not None and pictured.description == "Same day."
    with pytest.raises(ValidationError):
        catalogue_admin.save_entry(
            clinic, admin, CatalogueKind.SERVICES, None, item_id=service.id, image=b"nope"
        )
    _, desk = factories.staff(clinic)
    with pytest.raises(PermissionDenied):
        catalogue_admin.delete_entry(clinic, desk, CatalogueKind.SERVICES, service.id)


def test_contact_inbox_marks_messages_handled(clinic: Clinic) -> None:
    admin = _admin(clinic)
    first = catalogue.save_contact(clinic, SYSTEM, name="Ann", phone="+4470111222", message="Hi")
    second = catalogue.save_contact(clinic, SYSTEM, name="Bo", phone="+4470111333", message="Yo")
    assert {item.id for item in catalogue_admin.inbox(clinic, admin, handled=False)} >= {
        first.id,
        second.id,
    }
    done = catalogue_admin.mark_handled(clinic, admin, first.id)
    assert done.handled
    unhandled = {item.id for item in catalogue_admin.inbox(clinic, admin, handled=False)}
    handled = {item.id for item in catalogue_admin.inbox(clinic, admin, handled=True)}
    assert first.id in handled and first.id not in unhandled and second.id in unhandled
    assert not catalogue_admin.mark_handled(clinic, admin, first.id, handled=False).handled
    assert _audit(clinic, "contacts", first.id)[-2:] == ["handled", "unhandled"]
    patient = factories.patient_actor(
        clinic, factories.patient(clinic, username=factories.unique("pp"), password="pw-12345678")
    )
    with pytest.raises(PermissionDenied):
        catalogue_admin.inbox(clinic, patient)


def test_a_deactivated_doctor_can_still_be_edited_through_the_record_api(clinic: Clinic) -> None:
    admin = _admin(clinic)
    doctor = factories.doctor(clinic, hours=[])
    doctor_admin.deactivate_doctor(clinic, admin, doctor.doctor_id)
    summary = doctors.update_doctor(clinic, doctor.actor, doctor.doctor_id, fee=99)
    assert summary.fee == 99
    assert not doctor_admin.get_doctor_record(clinic, admin, doctor.doctor_id).is_active
