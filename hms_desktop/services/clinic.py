"""The clinic's resources a use case needs: settings, database, lock store, events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.engine import make_url

from hms_desktop.config import Settings
from hms_desktop.domain.models import Actor, ChangeEvent
from hms_desktop.services.account_versions import AccountVersions
from hms_desktop.services.unit_of_work import UnitOfWork, unit_of_work
from hms_desktop.services.version_gate import require_compatible
from hms_desktop.store import schema
from hms_desktop.store.db import Database
from hms_desktop.store.db_events import DatabaseEventBus
from hms_desktop.store.events import EventBus, InProcessEventBus, RedisEventBus
from hms_desktop.store.locks import DatabaseLockStore, LockStore, RedisLockStore
from hms_desktop.store.throttle import Throttle

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Clinic:
    settings: Settings
    db: Database
    locks: LockStore
    events: EventBus
    throttle: Throttle = field(default_factory=Throttle)
    clock: Callable[[], datetime] = field(default=_utcnow)
    # With Redis: what the servers' kept token checks are checked against (every write of
    # an account, on this clinic's sessions, changes it).
    account_versions: AccountVersions | None = None

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.now().astimezone(self.settings.tz).date()

    def work(self, actor: Actor) -> AbstractContextManager[UnitOfWork]:
        """A use case's unit of work: one transaction, its audit entries and its change
        events (sent once it has committed)."""
        return unit_of_work(self, actor)

    def publish(self, kind: str, **details: Any) -> None:
        """Announce a change that lives only in the lock store (a hold): it needs no
        transaction to commit first. Database changes publish through `work`."""
        self.events.publish(ChangeEvent(kind=kind, at=self.now().isoformat(), **details))

    def close(self) -> None:
        self.events.close()
        self.locks.close()
        if self.account_versions is not None:
            self.account_versions.close()
        self.db.dispose()


def _shared_file(db: Database) -> bool:
    """An SQLite file other processes can open (SQLite serialises writers, which keeps the
    event table's ids in commit order; PostgreSQL without Redis keeps events in-process)."""
    database = make_url(db.url).database
    return db.is_sqlite and bool(database) and database != ":memory:"


def open_clinic(settings: Settings, *, migrate: bool | None = None) -> Clinic:
    """Connect to the configured stores. The embedded database is migrated on open;
    a central one must have been upgraded by IT (`hms-desktop db upgrade`)."""
    url = settings.effective_database_url
    if migrate is None:
        migrate = settings.is_embedded
    # The version gate first: a database a newer hms-desktop upgraded, or one that requires
    # a newer desktop, is never migrated or used by this one.
    require_compatible(settings, migrates=migrate)
    if migrate:
        schema.upgrade(url, phone_region=settings.default_phone_region)
    db = Database.connect(url)
    if settings.redis_url:
        locks: LockStore = RedisLockStore(settings.redis_url, settings.redis_prefix)
        events: EventBus = RedisEventBus(settings.redis_url, settings.redis_prefix)
    else:
        locks = DatabaseLockStore(db)
        # Every process on the embedded file (desktops, `serve` workers) hears the others
        # through its change_events table; an in-memory database has only this process.
        events = DatabaseEventBus(db) if _shared_file(db) else InProcessEventBus(channel=url)
    throttle = Throttle(settings.redis_url, settings.redis_prefix, channel=url)
    versions = None
    if settings.redis_url:
        versions = AccountVersions(settings.redis_url, settings.redis_prefix)
        versions.follow(db)
    return Clinic(
        settings=settings,
        db=db,
        locks=locks,
        events=events,
        throttle=throttle,
        account_versions=versions,
    )
