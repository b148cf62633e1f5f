"""The audit trail: who did what to which record, when. Entries are written by each use
case's unit of work (`clinic.work`); here they are read back, by admins."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from hms_desktop.domain import policy
from hms_desktop.domain.models import Actor
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import AuditEntry


def recent_entries(
    clinic: Clinic, actor: Actor, *, entity: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    policy.require(actor, Kind.AUDIT, Action.READ)
    with clinic.db.read() as session:
        query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        return [
            {
                "at": row.at,
                "actor": row.actor,
                "action": row.action,
                "entity": row.entity,
                "entity_id": row.entity_id,
                "detail": row.detail,
            }
            for row in session.scalars(query)
        ]
