"""The administrator's records: staff accounts, the audit trail, the clinic's own settings."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hms_desktop.domain.enums import Role

# The roles an admin makes accounts for (patients register themselves or at the desk).
STAFF_ROLES = (Role.RECEPTIONIST, Role.DOCTOR, Role.ADMIN)
# The most audit entries one page may carry: enough for a screen, bounded for the server.
AUDIT_PAGE_MAX = 500


class StaffStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    LOCKED = "locked"  # too many failed log-ins with this name somewhere, until unlocked


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: Role
    is_active: bool
    date_joined: datetime
    locked_until: datetime | None = None
    must_change_password: bool = False
    has_password: bool = True
    doctor_id: int | None = None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def status(self, now: datetime) -> StaffStatus:
        if not self.is_active:
            return StaffStatus.DEACTIVATED
        if self.locked_until is not None and self.locked_until > now:
            return StaffStatus.LOCKED
        return StaffStatus.ACTIVE


@dataclass(frozen=True)
class StaffForm:
    username: str
    role: Role
    first_name: str
    last_name: str = ""
    email: str = ""


@dataclass(frozen=True)
class TemporaryPassword:
    """A password made for an account, shown once to the admin; its owner must change it at
    the next log-in."""

    member: StaffMember
    password: str


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    detail: str
    actor_user_id: int | None = None


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to show: every field left empty matches everything. `actor` and
    `action` match whole words case-insensitively; `since` is inclusive, `until` not."""

    actor: str = ""
    entity: str = ""
    entity_id: str = ""
    action: str = ""
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    """Newest first. `next_before`: pass it as `before_id` for the next (older) page; None
    when this page is the last."""

    rows: list[AuditRecord] = field(default_factory=list)
    next_before: int | None = None


@dataclass(frozen=True)
class ClinicSettings:
    """What an admin sets once for every desk (stored in the database, not on one desk)."""

    name: str
    booking_horizon_days: int


AUDIT_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "detail")
# A spreadsheet runs a cell that starts like a formula; these are written as text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def audit_csv(rows: Iterable[AuditRecord]) -> str:
    """The rows as CSV, header first; times in ISO 8601 (UTC)."""
    target = io.StringIO()
    writer = csv.writer(target, lineterminator="\n")
    writer.writerow(AUDIT_COLUMNS)
    for row in rows:
        texts = (row.actor, row.action, row.entity, row.entity_id, row.detail)
        writer.writerow([row.id, row.at.isoformat(), *(_cell(text) for text in texts)])
    return target.getvalue()
