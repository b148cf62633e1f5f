"""Patients at the desk: register with or without a login, edit, search, likely duplicates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    AuthenticationFailed,
    NotAuthenticated,
    PatientNotFound,
    PermissionDenied,
    PhoneTaken,
    UsernameTaken,
    ValidationError,
)
from hms_desktop.domain.models import ANONYMOUS, SYSTEM, PatientForm
from hms_desktop.services import accounts, patients, scheduling
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import free_slot_ids, last_audit, table_counts


def test_register_without_a_portal_login(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    record = patients.register_patient(
        clinic,
        desk,
        PatientForm(
            full_name="  Mary   Ann  Shelley ",
            gender="Female",
            date_of_birth=date(1997, 8, 30),
            phone="+44 (20) 7946-0018",
            email="Mary@Example.org",
            address="Bath",
        ),
    )
    assert (record.first_name, record.last_name) == ("Mary", "Ann Shelley")
    assert record.phone == "+442079460018" and record.email == "mary@example.org"
    assert record.gender == "female" and record.date_of_birth == date(1997, 8, 30)
    assert not record.has_login and record.username.startswith("patient-")
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(clinic, record.username, "")
    assert patients.get_patient(clinic, desk, record.id) == record
    entry = last_audit(clinic)
    assert (entry.action, entry.entity, entry.entity_id) == ("register", "patient", str(record.id))
    assert (entry.actor, entry.actor_user_id) == (desk.username, desk.user_id)


def test_register_with_a_portal_login(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    record = factories.patient(
        clinic, desk, full_name="Alan Turing", username="alan", password=factories.PASSWORD
    )
    assert record.has_login and record.username == "alan"
    user = accounts.authenticate(clinic, "alan", factories.PASSWORD)
    assert (user.role, user.patient_id) == (Role.PATIENT, record.id)
    assert patients.patient_for_user(clinic, SYSTEM, user.id) == record


REJECTED_REGISTRATIONS: list[tuple[dict[str, object], type[Exception], str | None]] = [
    ({"full_name": "   "}, ValidationError, "full_name"),
    ({"date_of_birth": date.today() + timedelta(days=1)}, ValidationError, "date_of_birth"),
    ({"date_of_birth": date(1800, 1, 1)}, ValidationError, "date_of_birth"),
    ({"phone": "call me"}, ValidationError, "phone"),
    ({"phone": "12345"}, ValidationError, "phone"),
    ({"phone": "1" * 16}, ValidationError, "phone"),
    ({"email": "a@b"}, ValidationError, "email"),
    ({"gender": "x"}, ValidationError, "gender"),
    ({"password": factories.PASSWORD}, ValidationError, "username"),
    ({"username": "newlogin", "password": "short"}, ValidationError, "password"),
    ({"phone": "+44 20 7946"}, ValidationError, "phone"),
    ({"phone": "+1 555 0100 200"}, PhoneTaken, "phone"),
    # The same numbers in the other forms a desk types: one number, one patient.
    ({"phone": "001 (555) 0100-200"}, PhoneTaken, "phone"),
    ({"phone": "020 7946 0200"}, PhoneTaken, "phone"),
    ({"phone": "0044 20 7946 0200"}, PhoneTaken, "phone"),
    ({"username": "TAKEN", "password": factories.PASSWORD}, UsernameTaken, None),
]


def test_rejected_registrations_change_nothing(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    factories.patient(
        clinic, desk, phone="+1 555 0100 200", username="taken", password=factories.PASSWORD
    )
    factories.patient(clinic, desk, phone="+44 20 7946 0200")
    before = table_counts(clinic)
    for fields, error, field in REJECTED_REGISTRATIONS:
        with pytest.raises(error) as raised:
            factories.patient(clinic, desk, **fields)
        assert table_counts(clinic) == before, fields
        assert raised.value.field == field, fields  # type: ignore[attr-defined]
        assert raised.value.message  # type: ignore[attr-defined]


def test_only_the_desk_registers_patients(clinic: Clinic) -> None:
    record = factories.patient(clinic)
    patient = factories.patient_actor(clinic, record)
    doc = factories.doctor(clinic)
    before = table_counts(clinic)
    for actor in (patient, doc.actor):
        with pytest.raises(PermissionDenied):
            patients.register_patient(clinic, actor, PatientForm(full_name="Eve Mallory"))
    assert table_counts(clinic) == before


def test_update_a_patient(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    record = factories.patient(clinic, desk, full_name="Jon Snow", phone="0700 111 222")
    updated = patients.update_patient(
        clinic,
        desk,
        record.id,
        PatientForm(
            full_name="John Snow",
            date_of_birth=date(1985, 1, 2),
            phone="0700 999 888",
            address="Winterfell",
        ),
    )
    assert (updated.full_name, updated.phone, updated.address) == (
        "John Snow",
        "+44700999888",
        "Winterfell",
    )
    assert patients.get_patient(clinic, desk, record.id) == updated
    assert (last_audit(clinic).action, last_audit(clinic).actor) == ("update", desk.username)


def test_update_rejects_bad_input_and_another_patients_phone(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    first = factories.patient(clinic, desk, phone="0700 111 222")
    second = factories.patient(clinic, desk, phone="0700 333 444")
    before = table_counts(clinic)
    with pytest.raises(PhoneTaken):
        patients.update_patient(
            clinic, desk, second.id, PatientForm(full_name="B", phone="0700111222")
        )
    with pytest.raises(ValidationError):
        patients.update_patient(clinic, desk, second.id, PatientForm(full_name=""))
    with pytest.raises(PatientNotFound):
        patients.update_patient(clinic, desk, 999_999, PatientForm(full_name="Nobody"))
    assert patients.get_patient(clinic, desk, second.id) == second
    assert table_counts(clinic) == before
    # Keeping one's own phone is not a clash.
    same = patients.update_patient(
        clinic, desk, first.id, PatientForm(full_name=first.full_name, phone="0700 111 222")
    )
    assert same.phone == first.phone


def test_a_patient_edits_only_their_own_record(clinic: Clinic) -> None:
    me = factories.patient(clinic, username="me", password=factories.PASSWORD)
    other = factories.patient(clinic)
    actor = factories.patient_actor(clinic, me)
    mine = patients.update_patient(clinic, actor, me.id, PatientForm(full_name="Me Myself"))
    assert mine.full_name == "Me Myself"
    assert patients.get_patient(clinic, actor, me.id) == mine
    # Another patient's record is not even shown to exist.
    with pytest.raises(PatientNotFound):
        patients.update_patient(clinic, actor, other.id, PatientForm(full_name="Hacked"))
    with pytest.raises(PatientNotFound):
        patients.get_patient(clinic, actor, other.id)


def test_search_by_name_fragment_phone_prefix_and_birth_date(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    ada = factories.patient(
        clinic,
        desk,
        full_name="Ada Lovelace",
        phone="+44 20 7946 0001",
        date_of_birth=date(1935, 12, 10),
    )
    grace = factories.patient(
        clinic,
        desk,
        full_name="Grace Hopper",
        phone="0612 345 678",
        date_of_birth=date(1956, 12, 9),
    )
    lovejoy = factories.patient(clinic, desk, full_name="Ian Lovejoy", phone="0612 999 000")

    def ids(text: str) -> set[int]:
        return {record.id for record in patients.search_patients(clinic, desk, text)}

    assert ids("love") == {ada.id, lovejoy.id}
    assert ids("LACE") == {ada.id}
    assert ids("grace hop") == {grace.id}
    assert ids("0612") == {grace.id, lovejoy.id}
    assert ids("0612 345") == {grace.id}
    assert ids("+44 20") == {ada.id}
    assert ids("1956-12-09") == {grace.id}
    assert ids("09/12/1956") == {grace.id}
    assert ids("09.12.1956") == {grace.id}
    # As the desk's table shows a date, in any case and spacing.
    assert ids("09 Dec 1956") == {grace.id} and ids("9  dec 1956") == {grace.id}
    assert ids("09 December 1956") == {grace.id}
    assert ids("%") == set() and ids("_") == set()  # wildcards are literal
    assert ids("   ") == set() and ids("nobody-like-this") == set()
    assert len(patients.search_patients(clinic, desk, "o", limit=2)) == 2


def test_who_may_search(clinic: Clinic) -> None:
    """The desk finds every patient; a doctor only those on their own schedule; a patient
    searches nobody."""
    _, desk = factories.staff(clinic)
    record = factories.patient(clinic, full_name="Findable Person")
    stranger = factories.patient(clinic, full_name="Findable Stranger")
    doc = factories.doctor(clinic)
    assert {r.id for r in patients.search_patients(clinic, desk, "findable")} == {
        record.id,
        stranger.id,
    }
    assert patients.search_patients(clinic, doc.actor, "findable") == []
    (slot,) = free_slot_ids(clinic, doc.doctor_id, 1)
    hold = scheduling.hold_slot(clinic, desk, slot, record.id)
    scheduling.confirm_booking(clinic, desk, slot, record.id, token=hold.token)
    assert [r.id for r in patients.search_patients(clinic, doc.actor, "findable")] == [record.id]
    assert patients.get_patient(clinic, doc.actor, record.id) == record
    with pytest.raises(PatientNotFound):  # not on their schedule: not shown to exist
        patients.get_patient(clinic, doc.actor, stranger.id)
    with pytest.raises(PermissionDenied):
        patients.update_patient(clinic, doc.actor, record.id, PatientForm(full_name="Changed"))
    # A patient finds only themselves (and has no desk to search from anyway).
    found = patients.search_patients(clinic, factories.patient_actor(clinic, record), "findable")
    assert [r.id for r in found] == [record.id]
    with pytest.raises(NotAuthenticated):
        patients.search_patients(clinic, ANONYMOUS, "findable")


def test_likely_duplicates_by_name_and_birth_date_or_phone(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    born = date(1970, 3, 4)
    same_person = factories.patient(clinic, desk, full_name="Tom Jones", date_of_birth=born)
    same_phone = factories.patient(
        clinic, desk, full_name="Other Name", phone="0777 123 456", date_of_birth=date(2000, 1, 1)
    )
    factories.patient(clinic, desk, full_name="Tom Jones", date_of_birth=date(1971, 3, 4))

    def ids(form: PatientForm) -> set[int]:
        return {record.id for record in patients.find_likely_duplicates(clinic, desk, form)}

    assert ids(PatientForm(full_name="tom JONES", date_of_birth=born)) == {same_person.id}
    assert ids(PatientForm(full_name="Someone Else", phone="0777-123-456")) == {same_phone.id}
    assert ids(PatientForm(full_name="Tom Jones", date_of_birth=born, phone="0777 123 456")) == {
        same_person.id,
        same_phone.id,
    }
    # The same name alone, without a birth date or phone, is not enough to warn.
    assert ids(PatientForm(full_name="Tom Jones")) == set()
    assert ids(PatientForm(full_name="Tom Jones", date_of_birth=date(1999, 9, 9))) == set()
    with pytest.raises(PermissionDenied):
        patients.find_likely_duplicates(
            clinic, factories.patient_actor(clinic, same_person), PatientForm(full_name="X")
        )


def test_one_phone_number_however_it_is_typed(clinic: Clinic) -> None:
    """National, international and 00-prefixed spellings are one number: stored in E.164,
    unique, found by any spelling, shown in the clinic's national form."""
    _, desk = factories.staff(clinic)
    record = factories.patient(clinic, desk, full_name="Uma Thurman", phone="07700 900081")
    assert (record.phone, record.phone_display) == ("+447700900081", "07700 900081")
    for typed in ("+44 7700 900081", "0044 7700 900081", "(07700) 900-081"):
        with pytest.raises(PhoneTaken):
            factories.patient(clinic, desk, phone=typed)
        found = patients.find_likely_duplicates(clinic, desk, PatientForm("X Y", phone=typed))
        assert [r.id for r in found] == [record.id], typed
    for typed in ("07700900081", "+447700900081", "0044 7700 900081", "07700 900", "+44 7700"):
        found = patients.search_patients(clinic, desk, typed)
        assert [r.id for r in found] == [record.id], typed
    other = factories.patient(clinic, desk, full_name="Abroad Person", phone="+1 555 000 1111")
    assert (other.phone, other.phone_display) == ("+15550001111", "+1 555-000-1111")
    assert [r.id for r in patients.search_patients(clinic, desk, "+1 555 000")] == [other.id]


def test_phone_numbers_of_the_configured_region(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(default_phone_region="US")
    _, desk = factories.staff(clinic)
    record = factories.patient(clinic, desk, phone="(555) 000-2222")
    assert (record.phone, record.phone_display) == ("+15550002222", "(555) 000-2222")
    briton = factories.patient(clinic, desk, phone="+44 7700 900082")
    assert briton.phone_display == "+44 7700 900082"
    for typed in ("555 000", "(555) 000-2222", "1 555 000 2222", "+1 555"):
        assert [r.id for r in patients.search_patients(clinic, desk, typed)] == [record.id]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("+44 20 7946", "Phone number is too short: include the area code, or +country code."),
        ("+999 1234 5678", "Phone number is not a number that can be dialled."),
        ("0770 0900 0810 00", "Phone number has too many digits for +44."),
        ("07700 9OO081", "Phone number may contain only digits, spaces and + - ( )."),
    ],
)
def test_a_phone_number_no_one_could_dial_is_refused(
    clinic: Clinic, typed: str, message: str
) -> None:
    _, desk = factories.staff(clinic)
    with pytest.raises(ValidationError) as raised:
        factories.patient(clinic, desk, phone=typed)
    assert (raised.value.field, raised.value.message) == ("phone", message)


def test_every_wrong_field_is_reported_at_once(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    form = PatientForm(
        full_name=" ",
        gender="x",
        date_of_birth=date.today() + timedelta(days=3),
        phone="12ab",
        email="a@b",
        username="bad name",
        password="short",
    )
    before = table_counts(clinic)
    for check in (patients.register_patient, patients.find_likely_duplicates):
        with pytest.raises(ValidationError) as raised:
            check(clinic, desk, form)
        error = raised.value
        assert set(error.fields) == {
            "full_name",
            "gender",
            "date_of_birth",
            "phone",
            "email",
            "username",
            "password",
        }
        assert (error.field, error.message) == ("full_name", "Full name is required.")
        assert error.fields["email"] == "Enter a valid email address."
    assert table_counts(clinic) == before
    with pytest.raises(ValidationError) as raised:
        patients.update_patient(
            clinic, desk, factories.patient(clinic, desk).id, PatientForm("", email="x")
        )
    assert set(raised.value.fields) == {"full_name", "email"}
