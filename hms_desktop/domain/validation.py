"""Input rules shared by the desk, both APIs and the remote client."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from slugify import slugify

from hms_desktop.domain.errors import ValidationError

_PHONE_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")
# No list or group punctuation: "billing,ann@example.com" would be two recipients.
_EMAIL_PART = r'[^@\s,;:<>()\[\]\\"]+'
_EMAIL = re.compile(rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$")
# ASCII only: both databases fold only its case alike, and look-alike letters from other
# scripts (a Cyrillic "а" in "аdmin") cannot pose as a colleague.
_USERNAME = re.compile(r"^[A-Za-z0-9_.@+-]{1,150}$")
GENDERS = ("female", "male", "other", "unspecified")

# The longest text each field keeps, matching the database's columns (or, for unbounded
# columns, what a clinic ever needs): a longer value is refused, never cut or stored.
NAME_MAX = 150
CATALOGUE_NAME_MAX = 100
EMAIL_MAX = 254
ADDRESS_MAX = 500
SHORT_TEXT_MAX = 300  # meet links, reasons, labels
LONG_TEXT_MAX = 4000  # bio, description, symptoms, review body, contact message
SEARCH_MAX = 200
PASSWORD_INPUT_MAX = 1024  # what a log-in form may send; bcrypt itself reads 72 bytes
TOKEN_MAX = 4096

# Dates a clinic deals with: birth dates, appointments, report ranges.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)


T = TypeVar("T")


class FieldErrors:
    """Checks a form's fields one by one and keeps each wrong field's message, so the desk
    shows every error at once instead of one per attempt."""

    def __init__(self) -> None:
        self.problems: list[ValidationError] = []

    def check(self, rule: Callable[[], T], fallback: T) -> T:
        """What `rule` returns; `fallback` (and the error kept) when it refuses."""
        try:
            return rule()
        except ValidationError as error:
            self.problems.append(error)
            return fallback

    def raise_if_any(self) -> None:
        """One error as it was raised; several as one ValidationError whose message and field
        are the first one's (what the APIs answer) and whose `fields` hold them all."""
        if len(self.problems) == 1:
            raise self.problems[0]
        if self.problems:
            first = self.problems[0]
            fields: dict[str, str] = {}
            for problem in self.problems:
                fields.setdefault(problem.field or "", problem.message)
            raise ValidationError(first.message, field=first.field, fields=fields)


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def check_text(value: str, *, field: str, max_length: int | None = None) -> str:
    """Refuse what no clinic text contains and no database stores: NUL and other control
    characters (tabs and line breaks are fine), lone surrogates, and over-long values."""
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            f"{_label(field)} is too long (at most {max_length} characters).", field=field
        )
    if _CONTROL.search(value):
        raise ValidationError(f"{_label(field)} contains a control character.", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValidationError(f"{_label(field)} is not valid text.", field=field) from error
    return value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None, *, field: str, max_length: int, required: bool = False) -> str:
    """Free text (bio, symptoms, messages): trimmed, checked, bounded."""
    text = check_text((value or "").strip(), field=field, max_length=max_length)
    if required and not text:
        raise ValidationError(f"{_label(field)} is required.", field=field)
    return text


def check_date(value: date, *, field: str) -> date:
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            f"{_label(field)} must be between {EARLIEST_DATE.year} and {LATEST_DATE.year}.",
            field=field,
        )
    return value


def check_instant(value: datetime, *, field: str) -> datetime:
    """A point in time within range; a time without a zone is taken as UTC."""
    check_date(value, field=field)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def clean_name(
    value: str | None, *, field: str, required: bool = True, max_length: int = NAME_MAX
) -> str:
    text = " ".join(check_text(value or "", field=field).split())
    if required and not text:
        raise ValidationError(f"{_label(field)} is required.", field=field)
    if len(text) > max_length:
        raise ValidationError(
            f"{_label(field)} is too long (at most {max_length} characters).", field=field
        )
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
    if len(text) > 40 or not _PHONE_ALLOWED.match(text):
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
    text = check_text((value or "").strip(), field="email", max_length=EMAIL_MAX)
    if text and not _EMAIL.match(text):
        raise ValidationError("Enter a valid email address.", field="email")
    return text.lower()


def clean_username(value: str | None) -> str:
    text = (value or "").strip()
    if not _USERNAME.match(text):
        raise ValidationError(
            "Username must be 1-150 unaccented letters, digits or @ . + - _ characters.",
            field="username",
        )
    return text


def clean_password(value: str | None) -> str:
    if not value or len(value) < 8:
        raise ValidationError("Password must be at least 8 characters.", field="password")
    check_text(value, field="password", max_length=PASSWORD_INPUT_MAX)
    if len(value.encode()) > 72:
        raise ValidationError("Password must be at most 72 bytes.", field="password")
    return value


# The ways a desk types a day: ISO, the day-first forms of most of the world, and the table's
# own "08 Mar 1984" (English month names: the strptime of the C locale).
DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d %b %Y", "%d %B %Y")


def parse_day(text: str) -> date | None:
    """The day `text` names in one of `DAY_FORMATS` (month names in any case), else None."""
    words = " ".join(text.split())
    for pattern in DAY_FORMATS:
        try:
            return datetime.strptime(words, pattern).date()
        except ValueError:
            continue
    return None


def clean_birth_date(value: date | None, *, today: date) -> date | None:
    if value is None:
        return None
    if value > today:
        raise ValidationError("Date of birth cannot be in the future.", field="date_of_birth")
    check_date(value, field="date_of_birth")
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
        if rating is None and stripped.isascii() and stripped.isdigit():
            rating = int(stripped)
    else:
        rating = int(value)
    if rating is None or not 1 <= rating <= 5:
        raise ValidationError("Rating must be 1 to 5 stars.", field="rating")
    return rating


def stars(rating: int) -> str:
    return "⭐" * rating


_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")  # what Django's SlugField accepts


def clean_slug(value: str | None, *, fallback: str) -> str:
    """A slug given by the client is kept exactly as given when valid; a missing one is
    derived from `fallback` (accented letters transliterated: "Médecine" -> "medecine")."""
    given = check_text((value or "").strip(), field="slug", max_length=100)
    if given:
        if not _SLUG.match(given):
            raise ValidationError(
                "Enter a valid slug of letters, numbers, underscores or hyphens.", field="slug"
            )
        return given
    slug = slugify(fallback, max_length=100)
    if not slug:
        raise ValidationError("Slug must contain letters or digits.", field="slug")
    return slug


# Record ids are the database's 32-bit integers.
MAX_ID = 2**31 - 1


def as_record_id(text: str) -> int | None:
    """The id in `text` when it is one (ASCII digits, within the database's range)."""
    text = text.strip()
    if text.isascii() and text.isdigit() and int(text) <= MAX_ID:
        return int(text)
    return None


def positive_minutes(value: int, *, field: str = "duration") -> int:
    if value <= 0:
        raise ValidationError("Duration must be more than 0 minutes.", field=field)
    return value


# The widest window a calendar or a free-slot listing reads at once.
MAX_WINDOW = timedelta(days=62)


def check_window(
    start: datetime, end: datetime, *, fields: tuple[str, str] = ("start", "end")
) -> tuple[datetime, datetime]:
    """A time window in range, in order and at most `MAX_WINDOW` wide (times without a
    zone are UTC)."""
    start = check_instant(start, field=fields[0])
    end = check_instant(end, field=fields[1])
    if start >= end:
        raise ValidationError("Start time must be earlier than end time.")
    if end - start > MAX_WINDOW:
        raise ValidationError(f"The time window may span at most {MAX_WINDOW.days} days.")
    return start, end
