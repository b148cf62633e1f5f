"""The audit trail: who did what to which record, when. Written in the use case's transaction."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hms_desktop.domain.models import Actor
from hms_desktop.services.clinic import Clinic
from hms_desktop.store.tables import AuditEntry

# Built once (every write records one): a Core insert, its values bound per call.
_INSERT = insert(AuditEntry.__table__)


def record(
    session: Session, actor: Actor, action: str, entity: str, entity_id: object, **detail: Any
) -> None:
    session.execute(
        _INSERT,
        {
            "actor_user_id": actor.user_id,
            "actor": actor.username,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "detail": json.dumps(detail, default=str) if detail else "",
        },
    )


def recent_entries(
    clinic: Clinic, *, entity: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
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
