"""Whether a slot lies in leave, a holiday or blocked time: the SQL every free-slot read,
the hold check and the booking add, so the answer is the same everywhere.

Blocks are ranges checked when slots are read (not marks on slots), so a slot the top-up
makes later inside a block is blocked too, and removing a block frees its slots at once.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import ColumnElement, Exists, ScalarSelect, Table, and_, exists, or_, select

from hms_desktop.store.tables import TimeBlockRow

_blocks = cast(Table, TimeBlockRow.__table__)


def covers(doctor_id: Any, start_at: Any) -> ColumnElement[bool]:
    """SQL: a block covers a slot of `doctor_id` starting at `start_at` (columns of the
    outer query): the doctor's own or the whole clinic's, with the start inside it."""
    return and_(
        or_(_blocks.c.doctor_id == doctor_id, _blocks.c.doctor_id.is_(None)),
        _blocks.c.start_at <= start_at,
        _blocks.c.end_at > start_at,
    )


def slot_is_blocked(doctor_id: Any, start_at: Any) -> Exists:
    """SQL: some block covers this slot (blocks are few: a tiny correlated lookup)."""
    return exists().where(covers(doctor_id, start_at))


def block_reason(doctor_id: Any, start_at: Any) -> ScalarSelect[str]:
    """SQL: the reason of the first block covering this slot, NULL when none does."""
    return (
        select(_blocks.c.reason)
        .where(covers(doctor_id, start_at))
        .order_by(_blocks.c.start_at, _blocks.c.id)
        .limit(1)
        .scalar_subquery()
    )
