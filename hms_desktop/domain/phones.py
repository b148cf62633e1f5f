"""Patients' phone numbers: one number, one spelling.

"07700 900081", "+44 7700 900081" and "0044 7700 900081" are the same number, so a patient's
phone is stored in E.164 ("+447700900081"); a number typed without its country code belongs
to the clinic's region (the `default_phone_region` setting). Numbers are checked to have a
length their country dials (`phonenumbers`' "possible"), not to be assigned: reserved and
test ranges (07700 900xxx, +1 555...) stay usable.
"""

from __future__ import annotations

import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

from hms_desktop.domain.errors import ValidationError

# The `default_phone_region` setting's default (the demo clinic's numbers are British).
DEFAULT_REGION = "GB"
_ALLOWED = re.compile(r"^\+?[0-9 ()./-]+$")
MAX_INPUT = 40

_TOO_SHORT = "Phone number is too short: include the area code, or +country code."
_REASONS = {
    ValidationResult.INVALID_COUNTRY_CODE: "Phone number has an unknown country code.",
    ValidationResult.TOO_SHORT: _TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: _TOO_SHORT,
    ValidationResult.TOO_LONG: "Phone number has too many digits for {country}.",
    ValidationResult.INVALID_LENGTH: "Phone number has the wrong number of digits for {country}.",
}


def known_region(region: str) -> bool:
    return region.upper() in phonenumbers.SUPPORTED_REGIONS


def _problem(message: str) -> ValidationError:
    return ValidationError(message, field="phone")


def _check_characters(text: str) -> None:
    if len(text) > MAX_INPUT or not _ALLOWED.match(text):
        raise _problem("Phone number may contain only digits, spaces and + - ( ).")
    if not 6 <= len(re.sub(r"\D", "", text)) <= 15:
        raise _problem("Phone number must have 6 to 15 digits.")


def to_e164(value: str | None, *, region: str) -> str | None:
    """The number in E.164; None when empty. Raises ValidationError (field "phone") naming
    what is wrong with a number no telephone could dial."""
    text = (value or "").strip()
    if not text:
        return None
    _check_characters(text)
    try:
        number = phonenumbers.parse(text, region.upper())
    except NumberParseException as error:
        raise _problem("Phone number is not a number that can be dialled.") from error
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != ValidationResult.IS_POSSIBLE:
        country = f"+{number.country_code}" if number.country_code else "its country"
        message = _REASONS.get(reason, "Phone number is not a number that can be dialled.")
        raise _problem(message.format(country=country))
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def for_display(stored: str | None, *, region: str) -> str:
    """How the desk shows a stored number: the national form for the clinic's own country
    ("07700 900081"), the international one for others ("+1 555-000-1111"); a number that
    does not parse (one the E.164 migration left alone) as it was stored."""
    if not stored:
        return ""
    try:
        number = phonenumbers.parse(stored, region.upper())
    except NumberParseException:
        return stored
    # By country code: reserved ranges (07700 900xxx) belong to no region but are the clinic's.
    own = number.country_code == phonenumbers.country_code_for_region(region.upper())
    style = PhoneNumberFormat.NATIONAL if own else PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)


def looks_like_phone(text: str) -> bool:
    return bool(re.fullmatch(r"\+?[0-9 ()./-]{3,}", text))


def search_prefixes(text: str, *, region: str) -> list[str]:
    """Stored numbers a phone search matches start with one of these. A whole number in any
    form finds its E.164 spelling; part of one ("07700 900", "+44 7700", "0044 77") its
    E.164 beginning; numbers stored before E.164 (as "+digits" or "digits") still match."""
    digits = re.sub(r"\D", "", text)
    prefixes = {digits, "+" + digits}
    try:
        whole = to_e164(text, region=region)
    except ValidationError:
        whole = None
    if whole is not None:
        prefixes.add(whole)
    stripped = text.strip()
    if stripped.startswith("00"):
        prefixes.add("+" + digits[2:])
    elif not stripped.startswith("+"):
        # A national number, with its trunk prefix ("07700 9...") or without ("555 0...").
        code = phonenumbers.country_code_for_region(region.upper())
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
        national = metadata.national_prefix if metadata is not None else None
        if national and digits.startswith(national):
            prefixes.add(f"+{code}{digits[len(national) :]}")
        elif code:
            prefixes.add(f"+{code}{digits}")
    return sorted(prefix for prefix in prefixes if prefix.strip("+"))
