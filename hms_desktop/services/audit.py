"""The audit trail: who did what to which record, when. Entries are written by each use
case's unit of work (`clinic.work`); here they are read back, by admins, a bounded page at
a time (newest first, keyed by id so paging stays right while new entries arrive)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, select

from hms_desktop.domain import policy
from hms_desktop.domain.admin import AUDIT_PAGE_MAX, AuditFilter, AuditPage, AuditRecord
from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import Actor
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.domain.schedule import as_utc
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


def _filtered(query: Select[Any], where: AuditFilter) -> Select[Any]:
    if where.actor.strip():
        query = query.where(func.lower(AuditEntry.actor) == where.actor.strip().lower())
    if where.action.strip():
        query = query.where(func.lower(AuditEntry.action) == where.action.strip().lower())
    if where.entity.strip():
        query = query.where(func.lower(AuditEntry.entity) == where.entity.strip().lower())
    if where.entity_id.strip():
        query = query.where(AuditEntry.entity_id == where.entity_id.strip())
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    return query


def _record(row: AuditEntry) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        at=as_utc(row.at),
        actor=row.actor,
        action=row.action,
        entity=row.entity,
        entity_id=row.entity_id,
        detail=row.detail,
        actor_user_id=row.actor_user_id,
    )


def audit_page(
    clinic: Clinic,
    actor: Actor,
    where: AuditFilter,
    *,
    before_id: int | None = None,
    limit: int = 100,
) -> AuditPage:
    """One page of the entries `where` matches, newest first, older than `before_id`."""
    policy.require(actor, Kind.AUDIT, Action.READ)
    if not 1 <= limit <= AUDIT_PAGE_MAX:
        raise ValidationError(f"A page holds 1 to {AUDIT_PAGE_MAX} entries.", field="limit")
    if where.since and where.until and where.until <= where.since:
        raise ValidationError("The end must be after the start.", field="until")
    query = _filtered(select(AuditEntry), where)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    with clinic.db.read() as session:
        rows = list(session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit + 1)))
    records = [_record(row) for row in rows[:limit]]
    more = len(rows) > limit
    return AuditPage(rows=records, next_before=records[-1].id if more and records else None)
