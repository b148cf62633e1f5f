"""Rebuilding records and errors from the desk API's JSON (no server needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from hms_desktop.client.codec import decode, error_from_body
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PhoneTaken,
    SlotLocked,
    TokenInvalid,
    ValidationError,
)
from hms_desktop.domain.models import (
    DoctorDetails,
    DoctorSummary,
    SlotInfo,
    UserInfo,
    WorkingHours,
    to_jsonable,
)


def test_records_round_trip_through_json() -> None:
    summary = DoctorSummary(1, 2, "Amy Pond", "female", ("Cardiology",), (), 50, 4.5, 2)
    details = DoctorDetails(
        summary=summary,
        description="",
        meet_link="",
        date_of_birth=date(1980, 1, 2),
        working_hours=(WorkingHours(0, time(9, 0), time(12, 30), 20),),
        available_times=(),
        next_free_slots=(SlotInfo(7, 1, datetime(2030, 1, 1, 9, tzinfo=UTC), 20),),
        reviews=(),
    )
    assert decode(DoctorDetails, to_jsonable(details)) == details
    user = UserInfo(3, "rita", "", "Rita", "", Role.RECEPTIONIST, True, True, datetime.now(UTC))
    assert decode(UserInfo, {**to_jsonable(user), "added_later": 1}) == user


def test_errors_come_back_as_the_same_class() -> None:
    named = error_from_body({"error": "Held.", "kind": "unprocessable", "type": "SlotLocked"}, 422)
    assert type(named) is SlotLocked and named.message == "Held."
    by_message = error_from_body(
        {"error": PhoneTaken.message, "kind": "invalid", "field": "phone"}, 400
    )
    assert type(by_message) is PhoneTaken and by_message.field == "phone"
    by_kind = error_from_body({"error": "Nope.", "kind": "unprocessable"}, 422)
    assert type(by_kind) is InvalidTransition and by_kind.message == "Nope."
    assert type(error_from_body({"error": "Gone.", "kind": "not_found"}, 404)) is NotFound
    assert type(error_from_body({"error": "x", "kind": "unauthenticated"}, 401)) is TokenInvalid
    bad_field = error_from_body({"error": "Bad.", "kind": "invalid", "field": "email"}, 400)
    assert type(bad_field) is ValidationError and bad_field.field == "email"
    unknown = error_from_body({"error": "Slow down.", "kind": "rate_limited", "type": "X"}, 429)
    assert type(unknown) is DomainError and unknown.kind == "rate_limited"
    assert unknown.message == "Slow down."
