"""The types every request value is parsed into: bounded, and refused at the edge (a 400
naming the field) when no clinic data looks like that — NUL and other control characters,
lone surrogates, over-long text, numbers past the database's range, far-off dates. The
rules are the domain's (`domain/validation.py`); the services check them again."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Annotated

import annotated_types
from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetJsonSchemaHandler,
    Strict,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from hms_desktop.domain import validation
from hms_desktop.domain.errors import ValidationError


def _clean(value: str) -> str:
    try:
        return validation.check_text(value, field="value")
    except ValidationError as error:
        # pydantic names the field itself; the message says what is wrong with it.
        raise ValueError(error.message.removeprefix("Value ")) from error


def _iso_text(pattern: str, example: str) -> Callable[[object], object]:
    """Dates and times come as ISO 8601 text (or as such already): a bare number is not
    taken for a count of seconds since 1970."""
    shape = re.compile(pattern)

    def check(value: object) -> object:
        if isinstance(value, str) and shape.match(value.strip()):
            return value
        if isinstance(value, date | time):
            return value
        raise ValueError(f"Enter it as ISO 8601 text, e.g. {example}.")

    return check


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

# In the desk API's JSON bodies a number is a JSON number and a flag is true or false, as
# its schema says: pydantic's lax coercion would take "1", 1.0 or true for a number and 0
# or "yes" for a flag (schemathesis: "schema-violating request accepted"). Path and query
# values arrive as text and keep DbInt.
JsonInt = Annotated[int, Strict(), annotated_types.Interval(ge=-(2**31), le=2**31 - 1)]
Flag = Annotated[bool, Strict()]


class _TextWithoutControlCharacters:
    """Tells the OpenAPI document what `_clean` refuses, so clients (and schema-driven
    test tools) know it as well as the server does."""

    PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        schema["pattern"] = self.PATTERN
        return schema


_Checked = (AfterValidator(_clean), _TextWithoutControlCharacters())
Name = Annotated[str, StringConstraints(max_length=validation.NAME_MAX), *_Checked]
Email = Annotated[str, StringConstraints(max_length=validation.EMAIL_MAX), *_Checked]
ShortText = Annotated[str, StringConstraints(max_length=validation.SHORT_TEXT_MAX), *_Checked]
LongText = Annotated[str, StringConstraints(max_length=validation.LONG_TEXT_MAX), *_Checked]
Search = Annotated[str, StringConstraints(max_length=validation.SEARCH_MAX), *_Checked]
Password = Annotated[str, StringConstraints(max_length=validation.PASSWORD_INPUT_MAX), *_Checked]
Token = Annotated[str, StringConstraints(max_length=validation.TOKEN_MAX), *_Checked]

Day = Annotated[
    date,
    BeforeValidator(_iso_text(r"^\d{4}-\d{2}-\d{2}$", "2026-12-01")),
    AfterValidator(_in_range),
]


def _local_time(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("Give a wall-clock time without a zone (the clinic's own).")
    return value


TimeOfDay = Annotated[
    time,
    BeforeValidator(_iso_text(r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$", "09:30")),
    AfterValidator(_local_time),
]
Instant = Annotated[
    datetime,
    BeforeValidator(_iso_text(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", "2026-12-01T09:30:00Z")),
    AfterValidator(_instant_in_range),
]
