"""The input rules every way in shares (the desk, both APIs, the remote client), without a
database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from hms_desktop.domain import validation
from hms_desktop.domain.errors import ValidationError


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


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("a\x00b", "control character"),
        ("bell\x07", "control character"),
        ("\ud800", "not valid text"),
        ("x" * 11, "too long"),
    ],
)
def test_text_no_clinic_writes_is_refused_naming_the_field(text: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem) as refused:
        validation.check_text(text, field="bio", max_length=10)
    assert refused.value.field == "bio"


def test_ordinary_text_passes_as_written() -> None:
    for text in ("Line one\nline two\ttabbed", "Émile Zoë 李", "\U0001f600"):
        assert validation.check_text(text, field="bio", max_length=100) == text
    assert validation.clean_text("  padded  ", field="bio", max_length=10) == "padded"
    with pytest.raises(ValidationError, match="required"):
        validation.clean_text("   ", field="massage", max_length=10, required=True)


@pytest.mark.parametrize(
    ("given", "name", "slug"),
    [
        ("sleep_medicine", "Sleep", "sleep_medicine"),  # kept exactly as given
        ("", "Médecine générale", "medecine-generale"),  # derived, transliterated
        ("", "  Child   Health ", "child-health"),
    ],
)
def test_slugs(given: str, name: str, slug: str) -> None:
    assert validation.clean_slug(given, fallback=name) == slug


@pytest.mark.parametrize("given", ["not a slug", "ünïcode", "a/b"])
def test_invalid_given_slugs_are_refused(given: str) -> None:
    with pytest.raises(ValidationError, match="valid slug"):
        validation.clean_slug(given, fallback="x")


@pytest.mark.parametrize("name", ["ada", "Ada.L", "ada+x@clinic.example", "a_1-2"])
def test_usernames(name: str) -> None:
    assert validation.clean_username(name) == name


@pytest.mark.parametrize("name", ["", "has space", "Émile", "аdmin", "x" * 151, "a\x00"])
def test_bad_usernames(name: str) -> None:
    with pytest.raises(ValidationError, match="Username"):
        validation.clean_username(name)


def test_dates_and_windows_stay_in_range() -> None:
    today = date(2026, 11, 27)
    assert validation.clean_birth_date(date(1990, 5, 17), today=today) == date(1990, 5, 17)
    for day, problem in (
        (today + timedelta(days=1), "future"),
        (date(1899, 12, 31), "between 1900 and 2199"),
    ):
        with pytest.raises(ValidationError, match=problem):
            validation.clean_birth_date(day, today=today)
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert validation.check_window(start, start + timedelta(days=62)) == (
        start,
        start + timedelta(days=62),
    )
    naive, _ = validation.check_window(start.replace(tzinfo=None), start + timedelta(hours=1))
    assert naive.tzinfo is UTC  # a time without a zone is UTC
    for end, problem in ((start, "earlier"), (start + timedelta(days=63), "62 days")):
        with pytest.raises(ValidationError, match=problem):
            validation.check_window(start, end)
    with pytest.raises(ValidationError, match="between 1900 and 2199"):
        validation.check_instant(datetime(9999, 12, 31), field="end")


@pytest.mark.parametrize(
    ("text", "record_id"),
    [("42", 42), (" 7 ", 7), ("²", None), ("4²", None), ("9" * 25, None), ("-3", None)],
)
def test_record_ids_in_text(text: str, record_id: int | None) -> None:
    assert validation.as_record_id(text) == record_id


@pytest.mark.parametrize(
    ("phone", "kept"),
    [("+44 20 7946 0001", "+442079460001"), ("(0700) 111-222", "0700111222"), ("", None)],
)
def test_phones(phone: str, kept: str | None) -> None:
    assert validation.normalize_phone(phone) == kept


@pytest.mark.parametrize("phone", ["call me", "12345", "1" * 16, "+" + "1" * 50])
def test_bad_phones(phone: str) -> None:
    with pytest.raises(ValidationError) as refused:
        validation.normalize_phone(phone)
    assert refused.value.field == "phone"
