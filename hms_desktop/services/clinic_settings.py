"""The clinic's own settings, kept in the database so every desk and server reads the same:
an admin changes them from a desk, not in one workstation's configuration file. Each falls
back to the configuration (or a default) until an admin sets it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hms_desktop.domain import policy, validation
from hms_desktop.domain.admin import ClinicSettings
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import Actor
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import ClinicSetting

NAME = "clinic_name"
HORIZON = "booking_horizon_days"
DEFAULT_NAME = "Clinic"
HORIZON_MAX = 366


def _read(clinic: Clinic, key: str) -> str | None:
    with clinic.db.read() as session:
        row = session.get(ClinicSetting, key)
        return row.value if row else None


def booking_horizon_days(clinic: Clinic) -> int:
    """How many days ahead every doctor's slots are kept: the admin's value, else the
    configuration's `booking_horizon_days`."""
    stored = _read(clinic, HORIZON)
    if stored is not None and stored.isdigit() and 0 < int(stored) <= HORIZON_MAX:
        return int(stored)
    return clinic.settings.booking_horizon_days


def clinic_name(clinic: Clinic) -> str:
    return _read(clinic, NAME) or DEFAULT_NAME


def get_clinic_settings(clinic: Clinic, actor: Actor) -> ClinicSettings:
    policy.require(actor, Kind.SETTINGS, Action.READ)
    return ClinicSettings(
        name=clinic_name(clinic), booking_horizon_days=booking_horizon_days(clinic)
    )


def _put(session: Session, clinic: Clinic, key: str, value: str) -> None:
    row = session.get(ClinicSetting, key)
    if row is None:
        session.add(ClinicSetting(key=key, value=value, updated_at=clinic.now()))
    else:
        row.value, row.updated_at = value, clinic.now()


def update_clinic_settings(clinic: Clinic, actor: Actor, changes: ClinicSettings) -> ClinicSettings:
    policy.require(actor, Kind.SETTINGS, Action.UPDATE)
    name = validation.clean_name(changes.name, field="name", max_length=100)
    horizon = changes.booking_horizon_days
    if not 1 <= horizon <= HORIZON_MAX:
        raise ValidationError(
            f"Keep slots 1 to {HORIZON_MAX} days ahead.", field="booking_horizon_days"
        )
    before = get_clinic_settings(clinic, actor)
    with clinic.work(actor) as work:
        _put(work.session, clinic, NAME, name)
        _put(work.session, clinic, HORIZON, str(horizon))
        work.record(
            "update",
            "clinic_settings",
            "clinic",
            name=[before.name, name],
            booking_horizon_days=[before.booking_horizon_days, horizon],
        )
    return ClinicSettings(name=name, booking_horizon_days=horizon)
