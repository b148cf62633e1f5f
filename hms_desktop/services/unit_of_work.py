"""One use case's unit of work: its transaction, who acts, and what it leaves behind.

Inside, a use case writes through `work.session` (an ORM session, made when first used) or
Core statements on `work.connection` (the same transaction), notes its audit entries with
`work.record(...)` (written in the same transaction, so they stand or fall with it) and
its change events with `work.publish(...)`; the events go out only after the transaction
committed, so no desk hears of a change that was rolled back. A booking that loses the
race for a slot to another desk (the live-slot index) is a `SlotAlreadyBooked` here, in
one place.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hms_desktop.domain.errors import SlotAlreadyBooked
from hms_desktop.domain.models import Actor, ChangeEvent
from hms_desktop.store.tables import AuditEntry

if TYPE_CHECKING:
    from hms_desktop.services.clinic import Clinic

# Built once (every write records one): a Core insert on the table, its values bound per call
# and run on the session's connection (through the session it took the ORM's bulk-insert
# path: 12% of a booking's CPU).
_AUDIT = insert(cast(Table, AuditEntry.__table__))


def is_live_slot_violation(error: IntegrityError) -> bool:
    """The partial unique index refused a second live appointment for one slot."""
    text = str(error.orig)
    return "uq_appointments_live_slot" in text or "appointments.slot_id" in text


class UnitOfWork:
    def __init__(self, clinic: Clinic, actor: Actor, connection: Connection) -> None:
        self.clinic, self.actor, self.connection = clinic, actor, connection
        self.events: list[ChangeEvent] = []
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        """An ORM session in this transaction, made when first asked for: a use case that
        writes Core statements on `connection` only (a booking) needs none, and a Session's
        begin and commit cost a tenth of a booking's CPU. Flushed before the commit."""
        if self._session is None:
            self._session = self.clinic.db.session_on(self.connection)
        return self._session

    def flush(self) -> None:
        """The ORM session's pending changes written now, if a session was made: before a
        Core statement on `connection` that refers to them."""
        if self._session is not None:
            self._session.flush()

    def _close(self) -> None:
        if self._session is not None:
            self._session.close()

    def record(
        self, action: str, entity: str, entity_id: object, *, by: Actor | None = None, **detail: Any
    ) -> None:
        """An audit entry: who did what to which record (written in this transaction). `by`
        names someone else than the acting user (a patient registering themselves)."""
        values = self.audit_values(action, entity, entity_id, by=by, **detail)
        self.connection.execute(_AUDIT, values)

    def audit_values(
        self, action: str, entity: str, entity_id: object, *, by: Actor | None = None, **detail: Any
    ) -> dict[str, Any]:
        """An audit entry's column values, for `record` and for a statement that writes its
        entry itself (the booking's, on PostgreSQL, in the statement that books)."""
        who = by or self.actor
        return {
            "at": datetime.now(UTC),
            "actor_user_id": who.user_id,
            "actor": who.username,
            "action": action,
            "entity": entity,
            "entity_id": str(entity_id),
            "detail": json.dumps(detail, default=str) if detail else "",
        }

    def publish(self, kind: str, **details: Any) -> None:
        """A change event, sent to every desk once the transaction has committed."""
        self.events.append(ChangeEvent(kind=kind, at=self.clinic.now().isoformat(), **details))


@contextmanager
def unit_of_work(clinic: Clinic, actor: Actor) -> Iterator[UnitOfWork]:
    """Commit on success, then publish; roll back and publish nothing on any error."""
    try:
        with clinic.db.write_connection() as connection:
            work = UnitOfWork(clinic, actor, connection)
            try:
                yield work
                work.flush()  # the ORM's pending changes, in this transaction
            finally:
                work._close()
    except IntegrityError as error:
        if is_live_slot_violation(error):
            raise SlotAlreadyBooked() from error
        raise
    if work._session is not None:
        clinic.db.committed(work._session)  # what follows the session's commits (accounts)
    for event in work.events:
        clinic.events.publish(event)
