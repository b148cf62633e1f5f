"""The types every request value is parsed into: bounded, and refused at the edge (a 400
naming the field) when no clinic data looks like that — NUL and other control characters,
lone surrogates, over-long text, numbers past the database's range, far-off dates. The
rules are the domain's (`domain/validation.py`); the services check them again."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import annotated_types
from pydantic import AfterValidator, StringConstraints

from hms_desktop.domain import validation
from hms_desktop.domain.errors import ValidationError


def _clean(value: str) -> str:
    try:
        return validation.check_text(value, field="value")
    except ValidationError as error:
        # pydantic names the field itself; the message says what is wrong with it.
        raise ValueError(error.message.removeprefix("Value ")) from error


def _in_range(value: date) -> date:
    try:
        validation.check_date(value, field="date")
    except ValidationError as error:
        raise ValueError(error.message) from error
    return value


def _instant_in_range(value: datetime) -> datetime:
    try:
        return validation.check_instant(value, field="time")
    except ValidationError as error:
        raise ValueError(error.message) from error


# A number from a request (id, fee, ...) stays within the database's integer range, so an
# absurd value is a 400, never an overflow deep in the driver.
DbInt = Annotated[int, annotated_types.Interval(ge=-(2**31), le=2**31 - 1)]

_Checked = AfterValidator(_clean)
Name = Annotated[str, StringConstraints(max_length=validation.NAME_MAX), _Checked]
Email = Annotated[str, StringConstraints(max_length=validation.EMAIL_MAX), _Checked]
ShortText = Annotated[str, StringConstraints(max_length=validation.SHORT_TEXT_MAX), _Checked]
LongText = Annotated[str, StringConstraints(max_length=validation.LONG_TEXT_MAX), _Checked]
Search = Annotated[str, StringConstraints(max_length=validation.SEARCH_MAX), _Checked]
Password = Annotated[str, StringConstraints(max_length=validation.PASSWORD_INPUT_MAX), _Checked]
Token = Annotated[str, StringConstraints(max_length=validation.TOKEN_MAX), _Checked]

Day = Annotated[date, AfterValidator(_in_range)]
Instant = Annotated[datetime, AfterValidator(_instant_in_range)]
