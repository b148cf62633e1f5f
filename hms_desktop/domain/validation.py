"""Input rules shared by the desk, both APIs and the remote client."""

from __future__ import annotations

import re
from datetime import date

from hms_desktop.domain.errors import ValidationError

_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_USERNAME = re.compile(r"^[\w.@+-]{1,150}$")
GENDERS = ("female", "male", "other", "unspecified")


def clean_name(value: str | None, *, field: str, required: bool = True) -> str:
    text = " ".join((value or "").split())
    if required and not text:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} is required.", field=field)
    if len(text) > 150:
        raise ValidationError(f"{field.replace('_', ' ').capitalize()} is too long.", field=field)
    return text


def split_full_name(full_name: str | None) -> tuple[str, str]:
    text = clean_name(full_name, field="full_name")
    first, _, last = text.partition(" ")
    return first, last


def normalize_phone(value: str | None) -> str | None:
    """Keep a leading + and the digits; None when empty. Rejects letters and short numbers."""
    text = (value or "").strip()
    if not text:
        return None
    if not _PHONE_ALLOWED.match(text):
        raise ValidationError(
            "Phone number may contain only digits, spaces and + - ( ).", field="phone"
        )
    digits = re.sub(r"\D", "", text)
    if not 6 <= len(digits) <= 15:
        raise ValidationError("Phone number must have 6 to 15 digits.", field="phone")
    return ("+" if text.startswith("+") else "") + digits


def phone_digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def clean_email(value: str | None) -> str:
    text = (value or "").strip()
    if text and not _EMAIL.match(text):
        raise ValidationError("Enter a valid email address.", field="email")
    return text.lower()


def clean_username(value: str | None) -> str:
    text = (value or "").strip()
    if not _USERNAME.match(text):
        raise ValidationError(
            "Username must be 1-150 letters, digits or @ . + - _ characters.", field="username"
        )
    return text


def clean_password(value: str | None) -> str:
    if not value or len(value) < 8:
        raise ValidationError("Password must be at least 8 characters.", field="password")
    if len(value.encode()) > 72:
        raise ValidationError("Password must be at most 72 bytes.", field="password")
    return value


def clean_birth_date(value: date | None, *, today: date) -> date | None:
    if value is None:
        return None
    if value > today:
        raise ValidationError("Date of birth cannot be in the future.", field="date_of_birth")
    if value.year < today.year - 130:
        raise ValidationError("Date of birth is too far in the past.", field="date_of_birth")
    return value


def clean_gender(value: str | None) -> str:
    text = (value or "").strip().lower()
    if not text:
        return ""
    if text not in GENDERS:
        raise ValidationError(f"Gender must be one of: {', '.join(GENDERS)}.", field="gender")
    return text


def clean_rating(value: int | str) -> int:
    """Ratings travel as star strings ("⭐⭐⭐⭐") or numbers; stored as 1-5."""
    if isinstance(value, str):
        stripped = value.strip()
        rating = len(stripped.replace("\ufe0f", "")) if set(stripped) <= {"⭐", "\ufe0f"} else None
        if rating is None and stripped.isdigit():
            rating = int(stripped)
    else:
        rating = int(value)
    if rating is None or not 1 <= rating <= 5:
        raise ValidationError("Rating must be 1 to 5 stars.", field="rating")
    return rating


def stars(rating: int) -> str:
    return "⭐" * rating


def clean_slug(value: str | None, *, fallback: str) -> str:
    base = (value or "").strip() or fallback
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    if not slug:
        raise ValidationError("Slug must contain letters or digits.", field="slug")
    return slug[:100]


def positive_minutes(value: int, *, field: str = "duration") -> int:
    if value <= 0:
        raise ValidationError("Duration must be more than 0 minutes.", field=field)
    return value
