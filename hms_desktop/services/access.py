"""The access policy applied to the database: who owns a record, and list queries narrowed
to what the actor may see. The rules themselves are in `hms_desktop.domain.policy`; this
module only says, in SQL, what "their own" means for each kind of record."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, false, or_, select, true
from sqlalchemy.orm import Session

from hms_desktop.domain.models import Actor
from hms_desktop.domain.policy import Action, Kind, Owner, Scope, require, scope
from hms_desktop.store.tables import Appointment, Patient


def patient_owner(session: Session, patient_id: int, user_id: int | None = None) -> Owner:
    """A patient record's links: the patient's account and every doctor they see."""
    if user_id is None:
        user_id = session.scalar(select(Patient.user_id).where(Patient.id == patient_id))
    doctor_ids = session.scalars(
        select(Appointment.doctor_id).where(Appointment.patient_id == patient_id).distinct()
    )
    return Owner(user_id=user_id, patient_id=patient_id, doctor_ids=frozenset(doctor_ids))


def owned_by(
    actor: Actor,
    *,
    user: Any = None,
    patient: Any = None,
    doctor: Any = None,
    seen_by_doctor: Any = None,
) -> ColumnElement[bool]:
    """SQL for `policy.owns`: the record's user, patient or doctor column points at the
    actor. `seen_by_doctor` is a patient id column: its patient is on the actor's schedule."""
    links: list[ColumnElement[bool]] = []
    if user is not None and actor.user_id is not None:
        links.append(user == actor.user_id)
    if patient is not None and actor.patient_id is not None:
        links.append(patient == actor.patient_id)
    if doctor is not None and actor.doctor_id is not None:
        links.append(doctor == actor.doctor_id)
    if seen_by_doctor is not None and actor.doctor_id is not None:
        links.append(
            seen_by_doctor.in_(
                select(Appointment.patient_id).where(Appointment.doctor_id == actor.doctor_id)
            )
        )
    return or_(*links) if links else false()


def visible(actor: Actor, kind: Kind, action: Action, **columns: Any) -> ColumnElement[bool]:
    """The condition a list query adds so it returns only what the actor may see; raises
    when the actor may see none of this kind."""
    require(actor, kind, action)
    return condition(actor, kind, action, **columns)


def condition(actor: Actor, kind: Kind, action: Action, **columns: Any) -> ColumnElement[bool]:
    """Like `visible`, but a kind the actor may not see just matches nothing."""
    granted = scope(actor, kind, action)
    if granted is Scope.ALL:
        return true()
    if granted is Scope.OWN:
        return owned_by(actor, **columns)
    return false()
