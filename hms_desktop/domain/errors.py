"""Domain exceptions. Messages are the API documents' own words, kept exactly."""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    """Base of every expected failure; `message` is shown to the user as is."""

    message = "The request could not be completed."
    # What kind of failure it is; the API maps each kind to one status code.
    kind = "invalid"

    def __init__(
        self,
        message: str | None = None,
        *,
        field: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.message
        self.field = field
        # Every wrong field's message (field -> message) when a form has several; `message`
        # and `field` are the first one's, which is all the API documents answer with.
        self.fields: dict[str, str] = dict(fields or ({field: self.message} if field else {}))
        super().__init__(self.message)


class ValidationError(DomainError):
    kind = "invalid"


class NotFound(DomainError):
    kind = "not_found"
    message = "Not found."


class PermissionDenied(DomainError):
    kind = "forbidden"
    message = "You do not have permission to perform this action."


class AuthenticationFailed(DomainError):
    kind = "unauthenticated"
    message = "Invalid username or password."


class AccountInactive(AuthenticationFailed):
    message = "This account is inactive. Ask an administrator to re-activate it."


class PasswordChangeRequired(PermissionDenied):
    message = "Your password is a temporary one from an administrator: change it first."


class TokenInvalid(DomainError):
    kind = "unauthenticated"
    message = "Token is invalid or expired"


class NotAuthenticated(DomainError):
    kind = "unauthenticated"
    message = "Authentication credentials were not provided."


class NotLoggedIn(TokenInvalid):
    message = "Please log in first."


class RateLimited(DomainError):
    kind = "rate_limited"
    message = "Request was throttled. Expected available in {seconds} seconds."
    retry_after = 1

    @classmethod
    def after(cls, seconds: int) -> RateLimited:
        error = cls(cls.message.format(seconds=seconds))
        error.retry_after = seconds
        return error


class LoginThrottled(RateLimited):
    message = "Too many failed log-ins from here. Try again in {seconds} seconds."


class Conflict(DomainError):
    kind = "conflict"


class DuplicateEntry(Conflict):
    """A value that must be unique is taken (a name, a slug, a second record for one user)."""


class UsernameTaken(Conflict):
    kind = "invalid"
    message = "Username already exists."


class PhoneTaken(Conflict):
    kind = "invalid"
    message = "Phone number is already registered to another patient."


class SlotLocked(Conflict):
    kind = "unprocessable"
    message = "Slot is temporarily locked."


class SlotAlreadyBooked(Conflict):
    kind = "unprocessable"
    message = "Slot is already booked."


class NoHoldFound(Conflict):
    kind = "unprocessable"
    message = "No scheduled appointment found."


class HoldNotYours(PermissionDenied):
    message = "Unauthorized access to the slot."


class SlotInPast(Conflict):
    kind = "unprocessable"
    message = "Slot is in the past."


class SlotBlocked(Conflict):
    """The slot lies in a doctor's leave, a holiday or blocked time."""

    kind = "unprocessable"
    message = "Slot is not available: the doctor is away or the clinic is closed then."


class MissingSlot(ValidationError):
    message = "Missing slot ID."


class PatientMissing(PermissionDenied):
    """The booking API's answer to a caller who is no patient (its document's 403)."""

    message = "Patient does not exist."


class PatientNotFound(NotFound):
    message = "Patient does not exist."


class NotForDesk(PermissionDenied):
    message = "This app is for the clinic's staff and doctors; patients use the online portal."


class TooManyBookings(Conflict):
    kind = "unprocessable"
    message = (
        "You have {limit} upcoming appointments or requests already. Please call the clinic "
        "to book more."
    )

    @classmethod
    def of(cls, limit: int) -> TooManyBookings:
        return cls(cls.message.format(limit=limit))


class TooManyHolds(Conflict):
    kind = "unprocessable"
    message = (
        "This patient already holds {limit} slots. Confirm or let one go before holding another."
    )

    @classmethod
    def of(cls, limit: int) -> TooManyHolds:
        return cls(cls.message.format(limit=limit))


class DoctorMissing(NotFound):
    message = "Doctor does not exist."


class DoctorNotBookable(Conflict):
    message = "This doctor is not taking appointments."


class InUse(Conflict):
    """A catalogue entry still linked to records: deleting it would change them silently."""

    message = "It is still in use; remove it from those records first."


class AppointmentMissing(ValidationError):
    message = "Appointment does not exist."


class NotYourAppointment(PermissionDenied):
    message = "You are not authorized to reschedule the appointment."


class NotPatientOrDoctor(PermissionDenied):
    message = "User is not a patient or doctor."


class InvalidSpeciality(ValidationError):
    message = "Invalid speciality of doctor requested."


class NoDoctorsAvailable(NotFound):
    message = "No doctors available for the selected time slot."


class InvalidTransition(Conflict):
    kind = "unprocessable"
    message = "The appointment cannot change to that status."


class LockStoreUnavailable(DomainError):
    kind = "unavailable"
    message = (
        "The slot-hold service is not reachable right now. Nothing was booked; "
        "try again in a moment."
    )


class StoreUnavailable(DomainError):
    kind = "unavailable"
    message = "A clinic service is not reachable right now. Nothing was changed; try again soon."


class DatabaseUnavailable(StoreUnavailable):
    message = (
        "The clinic database is not reachable right now. Nothing was changed; "
        "try again in a moment."
    )


class RedisUnavailable(StoreUnavailable):
    message = (
        "The clinic's lock store (Redis) is not reachable right now. Nothing was changed; "
        "try again in a moment."
    )


class BackendUnavailable(DomainError):
    kind = "unavailable"
    message = "The clinic server cannot be reached. Check the network."
