"""Roles and the one appointment lifecycle, with each API's words for it."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    RECEPTIONIST = "receptionist"
    DOCTOR = "doctor"
    PATIENT = "patient"
    # Someone without an account (never stored): what the public may do is in the policy.
    ANONYMOUS = "anonymous"

    @property
    def is_staff(self) -> bool:
        return self in (Role.ADMIN, Role.RECEPTIONIST)


class AppointmentType(StrEnum):
    ONLINE = "Online"
    OFFLINE = "Offline"


class AppointmentStatus(StrEnum):
    REQUESTED = "requested"  # came in without a slot; waits in the reception queue
    SCHEDULED = "scheduled"
    RESCHEDULED = "rescheduled"
    ARRIVED = "arrived"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    DECLINED = "declined"

    @property
    def occupies_slot(self) -> bool:
        return self not in (AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED)

    @property
    def is_open(self) -> bool:
        """Still ahead of the patient: can be moved or cancelled."""
        return self in (
            AppointmentStatus.REQUESTED,
            AppointmentStatus.SCHEDULED,
            AppointmentStatus.RESCHEDULED,
        )

    @property
    def booking_word(self) -> str:
        """The booking API's vocabulary."""
        if self is AppointmentStatus.RESCHEDULED:
            return "rescheduled"
        if self in (AppointmentStatus.CANCELLED, AppointmentStatus.DECLINED):
            return "cancelled"
        return "scheduled"

    @property
    def hospital_word(self) -> str:
        """The hospital API's vocabulary (its spelling kept)."""
        if self is AppointmentStatus.IN_PROGRESS:
            return "Runing"
        if self in (AppointmentStatus.COMPLETED, AppointmentStatus.NO_SHOW):
            return "Complated"
        return "Pendding"


# The SQL condition for "this appointment holds its slot" mirrors occupies_slot.
FREEING_STATUSES = (AppointmentStatus.CANCELLED.value, AppointmentStatus.DECLINED.value)

# Doctor's-day steps a desk or doctor may take forward.
FORWARD_STEPS: dict[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.SCHEDULED: frozenset(
        {AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW, AppointmentStatus.IN_PROGRESS}
    ),
    AppointmentStatus.RESCHEDULED: frozenset(
        {AppointmentStatus.ARRIVED, AppointmentStatus.NO_SHOW, AppointmentStatus.IN_PROGRESS}
    ),
    AppointmentStatus.ARRIVED: frozenset(
        {AppointmentStatus.IN_PROGRESS, AppointmentStatus.NO_SHOW}
    ),
    AppointmentStatus.IN_PROGRESS: frozenset({AppointmentStatus.COMPLETED}),
    AppointmentStatus.NO_SHOW: frozenset({AppointmentStatus.ARRIVED}),  # late after all
}


def _with_steps_back(
    forward: dict[AppointmentStatus, frozenset[AppointmentStatus]],
) -> dict[AppointmentStatus, frozenset[AppointmentStatus]]:
    """Every step forward can be taken back (a status set by mistake, undone)."""
    steps = {status: set(targets) for status, targets in forward.items()}
    for status, targets in forward.items():
        for target in targets:
            steps.setdefault(target, set()).add(status)
    return {status: frozenset(targets) for status, targets in steps.items()}


# Doctor's-day transitions a desk or doctor may make: forward, or back one step.
STATUS_TRANSITIONS = _with_steps_back(FORWARD_STEPS)


def can_transition(current: AppointmentStatus, target: AppointmentStatus) -> bool:
    return target in STATUS_TRANSITIONS.get(current, frozenset())


class BlockKind(StrEnum):
    """Why a range of time is not bookable (all three block the same way)."""

    LEAVE = "leave"  # a doctor away
    HOLIDAY = "holiday"  # a public holiday: the whole clinic is closed
    BLOCKED = "blocked"  # any other time taken out of the calendar (training, a meeting)
