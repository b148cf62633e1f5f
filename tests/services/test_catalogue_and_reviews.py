"""The catalogue (specialisations, designations, available times, services, contacts, images)
and patients' reviews of doctors."""

from __future__ import annotations

import io
import os
from collections.abc import Callable

import pytest
from PIL import Image

from hms_desktop.domain import validation
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    DoctorMissing,
    DuplicateEntry,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from hms_desktop.domain.models import SYSTEM
from hms_desktop.services import catalogue, doctors, reviews
from hms_desktop.services.catalogue import NamedList
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.services.support import table_counts


def _picture(kind: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize("kind", list(NamedList))
def test_named_catalogue_entries(clinic: Clinic, kind: NamedList) -> None:
    _, admin = factories.staff(clinic, Role.ADMIN)
    _, desk = factories.staff(clinic)
    child = catalogue.create_named(clinic, admin, kind, "  Child   Health ")
    assert (child.name, child.slug) == ("Child Health", "child-health")
    skin = catalogue.create_named(clinic, admin, kind, "Skin", "derma")
    names = [item.name for item in catalogue.list_named(clinic, desk, kind)]
    assert names == ["Child Health", "Skin"]
    renamed = catalogue.update_named(clinic, admin, kind, skin.id, "Dermatology", None)
    assert (renamed.name, renamed.slug) == ("Dermatology", "derma")

    patient = factories.patient_actor(clinic, factories.patient(clinic))
    before = table_counts(clinic)
    for call, error in (
        (lambda: catalogue.create_named(clinic, admin, kind, "Child Health"), DuplicateEntry),
        (lambda: catalogue.create_named(clinic, admin, kind, "Other", "derma"), DuplicateEntry),
        (lambda: catalogue.create_named(clinic, admin, kind, "   "), ValidationError),
        (lambda: catalogue.create_named(clinic, admin, kind, "!!!"), ValidationError),
        (lambda: catalogue.create_named(clinic, admin, kind, "X", "not a slug"), ValidationError),
        (lambda: catalogue.create_named(clinic, patient, kind, "Nope"), PermissionDenied),
        # The catalogue is the admin's: the front desk reads it.
        (lambda: catalogue.create_named(clinic, desk, kind, "Nope"), PermissionDenied),
        (lambda: catalogue.update_named(clinic, admin, kind, 999_999, "X", None), NotFound),
        (
            lambda: catalogue.update_named(clinic, admin, kind, skin.id, None, "child-health"),
            DuplicateEntry,
        ),
        (lambda: catalogue.delete_named(clinic, patient, kind, skin.id), PermissionDenied),
        (lambda: catalogue.delete_named(clinic, desk, kind, skin.id), PermissionDenied),
        (lambda: catalogue.delete_named(clinic, admin, kind, 999_999), NotFound),
    ):
        with pytest.raises(error):
            call()
        assert table_counts(clinic) == before
    catalogue.delete_named(clinic, admin, kind, skin.id)
    assert [item.id for item in catalogue.list_named(clinic, desk, kind)] == [child.id]


def test_slugs_are_kept_as_given_or_derived_with_transliteration(clinic: Clinic) -> None:
    kind = NamedList.SPECIALISATIONS
    given = catalogue.create_named(clinic, SYSTEM, kind, "Sleep medicine", "sleep_medicine")
    derived = catalogue.create_named(clinic, SYSTEM, kind, "Médecine générale")
    assert (given.slug, derived.slug) == ("sleep_medicine", "medecine-generale")
    message = "specialisation with this slug already exists"
    with pytest.raises(DuplicateEntry, match=message) as taken:
        catalogue.create_named(clinic, SYSTEM, kind, "Sleep", "sleep_medicine")
    assert taken.value.field == "slug"


def test_available_times(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic, Role.ADMIN)
    _, reception = factories.staff(clinic)
    morning = catalogue.save_available_time(clinic, desk, "Mon 09:00-12:00")
    evening = catalogue.save_available_time(clinic, desk, "Tue 17:00-19:00")
    changed = catalogue.save_available_time(clinic, desk, "Mon 08:00-12:00", morning.id)
    assert changed.id == morning.id
    assert [t.time for t in catalogue.list_available_times(clinic, SYSTEM)] == [
        "Mon 08:00-12:00",
        "Tue 17:00-19:00",
    ]
    assert catalogue.list_available_times(clinic, SYSTEM, evening.id) == [evening]
    assert catalogue.list_available_times(clinic, SYSTEM, 999_999) == []
    doctor = factories.doctor(clinic, hours=[]).actor
    before = table_counts(clinic)
    with pytest.raises(ValidationError):
        catalogue.save_available_time(clinic, desk, "  ")
    with pytest.raises(NotFound):
        catalogue.save_available_time(clinic, desk, "Wed", 999_999)
    with pytest.raises(PermissionDenied):
        catalogue.save_available_time(clinic, doctor, "Wed")
    with pytest.raises(PermissionDenied):
        catalogue.save_available_time(clinic, reception, "Wed")
    assert table_counts(clinic) == before


def test_services_with_checked_images(open_store: Callable[..., Clinic]) -> None:
    clinic = open_store(image_max_bytes=4096, image_max_pixels=10_000)
    _, desk = factories.staff(clinic, Role.ADMIN)
    for kind, content_type in (
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("WEBP", "image/webp"),
    ):
        data = _picture(kind)
        service = catalogue.save_service(
            clinic, desk, name=f"X-ray {kind}", description="Chest", image=data
        )
        assert service.image_id is not None
        stored_type, stored = catalogue.load_image(clinic, SYSTEM, service.image_id)
        assert stored_type == content_type
        with Image.open(io.BytesIO(stored)) as kept, Image.open(io.BytesIO(data)) as sent:
            assert (kept.format, kept.size) == (sent.format, sent.size)
    service = catalogue.save_service(clinic, desk, name="Blood tests")
    assert catalogue.get_service(clinic, SYSTEM, service.id) == service
    renamed = catalogue.save_service(clinic, desk, service_id=service.id, description="Fasting")
    assert (renamed.name, renamed.description) == ("Blood tests", "Fasting")
    assert [s.name for s in catalogue.list_services(clinic, SYSTEM)][-1] == "Blood tests"

    # Noise does not compress: a real 64x64 PNG well over the 4 KiB limit.
    buffer = io.BytesIO()
    Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(buffer, format="PNG")
    oversized = buffer.getvalue()
    assert len(oversized) > 4096
    before = table_counts(clinic)
    for image, message in (
        (b"%PDF-1.4 definitely not a picture", "valid PNG, JPEG or WebP"),
        (_picture("PNG")[:40], "valid PNG, JPEG or WebP"),  # truncated
        (_picture("GIF"), "valid PNG, JPEG or WebP"),  # a real image of a type we do not keep
        (oversized, "too large"),
        (_picture("PNG", (101, 100)), "at most 0.01 megapixels"),
    ):
        with pytest.raises(ValidationError, match=message):
            catalogue.save_service(clinic, desk, name="Scan", image=image)
        assert table_counts(clinic) == before
    for call, error in (
        (lambda: catalogue.save_service(clinic, desk, name="  "), ValidationError),
        (lambda: catalogue.save_service(clinic, desk, service_id=999_999, name="X"), NotFound),
        (lambda: catalogue.get_service(clinic, SYSTEM, 999_999), NotFound),
        (lambda: catalogue.load_image(clinic, SYSTEM, 999_999), NotFound),
        (
            lambda: catalogue.save_service(
                clinic, factories.patient_actor(clinic, factories.patient(clinic)), name="X"
            ),
            PermissionDenied,
        ),
        (
            lambda: catalogue.save_service(clinic, factories.staff(clinic)[1], name="X"),
            PermissionDenied,
        ),
    ):
        with pytest.raises(error):
            call()


def test_stored_pictures_are_only_the_picture(clinic: Clinic) -> None:
    """Bytes appended after a PNG's end (an HTML page, a script) never reach storage, and
    a decompression bomb is refused from its header, before it is decoded."""
    png = _picture("PNG")
    smuggled = png + b"<html><script>alert(1)</script></html>"
    service = catalogue.save_service(clinic, SYSTEM, name="Scan", image=smuggled)
    assert service.image_id is not None
    _, stored = catalogue.load_image(clinic, SYSTEM, service.image_id)
    assert b"<script>" not in stored and stored.endswith(b"IEND\xaeB`\x82")
    buffer = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(buffer, format="PNG")  # ~50 KB, 400 megapixels
    before = table_counts(clinic)
    with pytest.raises(ValidationError, match="megapixels"):
        catalogue.save_service(clinic, SYSTEM, name="Bomb", image=buffer.getvalue())
    assert table_counts(clinic) == before


def test_contacts_anyone_writes_only_staff_read_or_change(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    patient = factories.patient_actor(clinic, factories.patient(clinic))
    note = catalogue.save_contact(
        clinic, patient, name="Visitor", phone="+1 (555) 010-0200", message="Call back"
    )
    assert (note.phone, note.message) == ("+15550100200", "Call back")
    assert catalogue.list_contacts(clinic, desk) == [note]
    assert catalogue.get_contact(clinic, desk, note.id) == note
    edited = catalogue.save_contact(clinic, desk, contact_id=note.id, message="Done")
    assert (edited.name, edited.message) == ("Visitor", "Done")
    before = table_counts(clinic)
    for call, error, field in (
        (
            lambda: catalogue.save_contact(clinic, SYSTEM, phone="0700123456", message="Hi"),
            ValidationError,
            "name",
        ),
        (
            lambda: catalogue.save_contact(clinic, SYSTEM, name="A", message="Hi"),
            ValidationError,
            "phone",
        ),
        (
            lambda: catalogue.save_contact(clinic, SYSTEM, name="A", phone="0700123456"),
            ValidationError,
            "massage",
        ),
        (
            lambda: catalogue.save_contact(clinic, SYSTEM, name="A", phone="x", message="Hi"),
            ValidationError,
            "phone",
        ),
        (lambda: catalogue.list_contacts(clinic, patient), PermissionDenied, None),
        (lambda: catalogue.get_contact(clinic, patient, note.id), PermissionDenied, None),
        (lambda: catalogue.get_contact(clinic, desk, 999_999), NotFound, None),
        (
            lambda: catalogue.save_contact(clinic, patient, contact_id=note.id, message="Mine"),
            PermissionDenied,
            None,
        ),
    ):
        with pytest.raises(error) as raised:
            call()
        assert getattr(raised.value, "field", None) == field
        assert table_counts(clinic) == before


@pytest.mark.parametrize(
    ("value", "rating"),
    [("⭐", 1), ("⭐⭐⭐⭐", 4), ("⭐️⭐️", 2), (" ⭐⭐⭐⭐⭐ ", 5), ("3", 3), (5, 5), (1, 1)],
)
def test_star_ratings_parse(value: int | str, rating: int) -> None:
    assert validation.clean_rating(value) == rating
    assert validation.stars(rating) == "⭐" * rating


@pytest.mark.parametrize("value", ["", "⭐" * 6, "0", 0, 6, -1, "abc", "4 stars", "⭐4"])
def test_bad_star_ratings_are_rejected(value: int | str) -> None:
    with pytest.raises(ValidationError, match="Rating must be 1 to 5 stars."):
        validation.clean_rating(value)


def test_reviews_only_patients_write_and_only_owners_edit(clinic: Clinic) -> None:
    _, desk = factories.staff(clinic)
    doc = factories.doctor(clinic, hours=[], first_name="Hippo")
    other_doc = factories.doctor(clinic, hours=[])
    ann_record = factories.patient(clinic, desk, full_name="Ann Author")
    ann = factories.patient_actor(clinic, ann_record)
    ben = factories.patient_actor(clinic, factories.patient(clinic, desk, full_name="Ben Other"))

    review = reviews.write_review(clinic, ann, doc.doctor_id, "  Very kind  ", "⭐⭐⭐⭐")
    # Reviews are public: the reviewer shows as first name and initial, never in full.
    assert (review.rating, review.body, review.reviewer) == (4, "Very kind", "Ann A.")
    assert (review.reviewer_patient_id, review.created_on) == (ann_record.id, clinic.today())
    assert reviews.get_review(clinic, SYSTEM, review.id) == review

    before = table_counts(clinic)
    for call, error in (
        (lambda: reviews.write_review(clinic, desk, doc.doctor_id, "x", 5), PermissionDenied),
        (lambda: reviews.write_review(clinic, doc.actor, doc.doctor_id, "x", 5), PermissionDenied),
        (lambda: reviews.write_review(clinic, ann, 999_999, "x", 5), DoctorMissing),
        (lambda: reviews.write_review(clinic, ann, doc.doctor_id, "x", "⭐" * 6), ValidationError),
        (lambda: reviews.edit_review(clinic, ben, review.id, body="hacked"), PermissionDenied),
        (lambda: reviews.edit_review(clinic, ann, review.id, rating=0), ValidationError),
        (lambda: reviews.edit_review(clinic, ann, review.id, doctor_id=999_999), DoctorMissing),
        (lambda: reviews.edit_review(clinic, ann, 999_999, body="x"), NotFound),
        (lambda: reviews.delete_review(clinic, ben, review.id), PermissionDenied),
    ):
        with pytest.raises(error):
            call()
        assert table_counts(clinic) == before
    assert reviews.get_review(clinic, SYSTEM, review.id) == review

    edited = reviews.edit_review(
        clinic, ann, review.id, body="Kind and quick", rating="2", doctor_id=other_doc.doctor_id
    )
    assert (edited.body, edited.rating, edited.doctor_id) == (
        "Kind and quick",
        2,
        other_doc.doctor_id,
    )
    reviews.write_review(clinic, ben, doc.doctor_id, "Good", 5)
    reviews.write_review(clinic, ann, doc.doctor_id, "Again", 3)

    def ids(**filters: object) -> list[int]:
        return [r.id for r in reviews.list_reviews(clinic, SYSTEM, **filters).items]  # type: ignore[arg-type]

    all_ids = ids()
    assert len(all_ids) == 3
    assert ids(doctor_id=other_doc.doctor_id) == [review.id]
    assert len(ids(reviewer_id=ann_record.id)) == 2
    assert len(ids(rating=5)) == 1
    assert len(ids(search="ben")) == 1 and len(ids(search="hippo")) == 2
    assert ids(search="other") == [] and ids(search="%") == []  # no surnames, no wildcards
    page = reviews.list_reviews(clinic, SYSTEM, offset=1, limit=1)
    assert page.total == 3 and [r.id for r in page.items] == all_ids[1:2]
    assert doctors.get_doctor_summary(clinic, SYSTEM, doc.doctor_id).average_rating == 4.0

    reviews.delete_review(clinic, ann, review.id)
    with pytest.raises(NotFound):
        reviews.get_review(clinic, SYSTEM, review.id)
