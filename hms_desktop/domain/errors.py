"""Domain exceptions. Messages are the API documents' own words, kept exactly."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure; `message` is shown to the user as is."""

    message = "The request could not be completed."
    # What kind of failure it is; the API maps each kind to one status code.
    kind = "invalid"

    def __init__(self, message: str | None = None, *, field: str | None = None) -> None:
        self.message = message or self.message
        self.field = field
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


class AccountLocked(AuthenticationFailed):
    message = "Too many failed log-ins. The account is locked for a few minutes; try again later."


class AccountInactive(AuthenticationFailed):
    message = "This account is inactive. Ask an administrator to re-activate it."


class TokenInvalid(DomainError):
    kind = "unauthenticated"
    message = "Token is invalid or expired"


class Conflict(DomainError):
    kind = "conflict"


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


class MissingSlot(ValidationError):
    message = "Missing slot ID."


class PatientMissing(PermissionDenied):
    message = "Patient does not exist."


class DoctorMissing(NotFound):
    message = "Doctor does not exist."


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


class BackendUnavailable(DomainError):
    kind = "unavailable"
    message = "The clinic server cannot be reached. Check the network; the app keeps retrying."
