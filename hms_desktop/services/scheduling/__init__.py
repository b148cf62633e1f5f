"""Holding and booking slots, changing appointments, the request queue, and reading the
calendar: the desk's day, by what the desk does (one module each)."""

from hms_desktop.services.scheduling.changes import (
    cancel_appointment,
    delete_appointment,
    reschedule_appointment,
    set_status,
    update_appointment,
)
from hms_desktop.services.scheduling.holds import (
    confirm_booking,
    hold_slot,
    release_hold,
    take_over_hold,
)
from hms_desktop.services.scheduling.queries import (
    MAX_DOCTORS,
    calendar,
    clinic_day,
    doctor_day,
    get_appointment,
    list_appointments,
    my_appointments,
    patient_history,
)
from hms_desktop.services.scheduling.records import load_appointment
from hms_desktop.services.scheduling.requests import (
    assign_request,
    decline_request,
    pending_requests,
    request_appointment,
)

__all__ = [
    "MAX_DOCTORS",
    "assign_request",
    "calendar",
    "cancel_appointment",
    "clinic_day",
    "confirm_booking",
    "decline_request",
    "delete_appointment",
    "doctor_day",
    "get_appointment",
    "hold_slot",
    "list_appointments",
    "load_appointment",
    "my_appointments",
    "patient_history",
    "pending_requests",
    "release_hold",
    "request_appointment",
    "reschedule_appointment",
    "set_status",
    "take_over_hold",
    "update_appointment",
]
