"""Change events through the embedded database: every process on one SQLite file hears them.

Without Redis there is no pub/sub, but every desktop and every `serve` worker on the file
shares the database. A publisher appends the event to `change_events` (one short write) and
hands it to this process's listeners at once; one thread per process and file follows the
table (`id > last seen`, a primary-key range read, every `POLL_SECONDS`) and hands on what
other processes wrote. SQLite serialises writers, so ids become visible in order and a
follower never skips one. Rows are pruned after `KEEP_MS`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
import uuid
from typing import Any, cast

from sqlalchemy import Table, delete, insert
from sqlalchemy.exc import SQLAlchemyError

from hms_desktop.domain.models import ChangeEvent, to_jsonable
from hms_desktop.store.db import Database
from hms_desktop.store.events import InProcessEventBus, Listener, Subscription, _LocalChannel
from hms_desktop.store.tables import ChangeEventRow

log = logging.getLogger(__name__)

# Half of it is the mean delay to another process; a poll costs ~0.1 ms of one core
# (README, "Live changes").
POLL_SECONDS = 0.2
# A follower that stalls longer than this (a suspended laptop) may miss events: it then
# tells its listeners to reload everything (kind "resync").
KEEP_MS = 120_000
PRUNE_EVERY_SECONDS = 30.0
RESYNC = "resync"

_table = cast(Table, ChangeEventRow.__table__)
_NEWEST = "SELECT max(id) FROM change_events"
_AFTER = "SELECT id, origin, payload FROM change_events WHERE id > ? ORDER BY id"


class _TableFollower:
    """Follows the table for one process's listeners of one database file."""

    def __init__(self, url: str, channel: _LocalChannel, origin: str) -> None:
        # Its own engine and connection: the follower outlives whichever Clinic started it.
        self._db = Database.connect(url)
        self._connection: Any = None
        self._channel = channel
        self._origin = origin
        self._stopped = threading.Event()
        # Read before the thread starts: whatever is published after `subscribe` returns
        # is heard.
        self._last = self.newest()
        self._thread = threading.Thread(target=self._run, name="hms-db-events", daemon=True)
        self._thread.start()

    def _query(self, sql: str, *parameters: object) -> list[Any]:
        # The driver's own connection, in autocommit: a poll is one statement, no BEGIN /
        # COMMIT around it (a third of the cost through a session).
        if self._connection is None:
            self._connection = self._db.reader.raw_connection()
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql, parameters)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def newest(self) -> int:
        return int(self._query(_NEWEST)[0][0] or 0)

    def _run(self) -> None:
        while not self._stopped.wait(POLL_SECONDS):
            try:
                self.poll()
            except (SQLAlchemyError, sqlite3.Error):
                # A locked or briefly unreadable file: the next poll catches up.
                log.warning("could not read change events", exc_info=True)
                self._drop_connection()
        self._drop_connection()

    def poll(self) -> int:
        """Hand on the events other processes wrote since the last poll; how many."""
        rows = self._query(_AFTER, self._last)
        if not rows:
            return 0
        gap = rows[0][0] > self._last + 1 and self._last > 0
        self._last = rows[-1][0]
        events = [
            ChangeEvent.from_dict(json.loads(payload))
            for _, origin, payload in rows
            if origin != self._origin
        ]
        if gap:
            # Pruned before we read them (or a writer rolled back): reload, do not trust.
            events.append(ChangeEvent(kind=RESYNC))
        with self._channel.lock:
            listeners = list(self._channel.listeners)
        for event in events:
            for listener in listeners:
                _deliver(listener, event)
        return len(events)

    def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=2)
            if not self._thread.is_alive():
                self._db.dispose()


def _deliver(listener: Listener, event: ChangeEvent) -> None:
    try:
        listener(event)
    except Exception:  # a broken listener must not stop the others from hearing of changes
        log.exception("change-event listener failed")


_followers: dict[int, _TableFollower] = {}
_followers_lock = threading.Lock()
# One per process: events this process wrote are delivered here at once, not re-read.
_ORIGIN = uuid.uuid4().hex


class DatabaseEventBus(InProcessEventBus):
    """The embedded store's bus: in-process delivery plus the `change_events` table."""

    def __init__(self, db: Database) -> None:
        super().__init__(channel=db.url)
        self._db = db
        self._origin = _ORIGIN
        self._pruned_at = 0.0

    def publish(self, event: ChangeEvent) -> None:
        now_ms = int(time.time() * 1000)
        try:
            with self._db.transaction() as session:
                session.execute(
                    insert(_table).values(
                        origin=self._origin,
                        payload=json.dumps(to_jsonable(event)),
                        created_ms=now_ms,
                    )
                )
                if time.monotonic() - self._pruned_at > PRUNE_EVERY_SECONDS:
                    self._pruned_at = time.monotonic()
                    session.execute(delete(_table).where(_table.c.created_ms < now_ms - KEEP_MS))
        except SQLAlchemyError:
            # The change is already committed; other processes' desks reload on their next
            # change or F5, this process's listeners still hear of it below.
            log.warning("could not record %s event for other processes", event.kind, exc_info=True)
        super().publish(event)

    def subscribe(self, listener: Listener) -> Subscription:
        subscription = super().subscribe(listener)
        key = id(self._channel)
        with _followers_lock:
            if key not in _followers:
                _followers[key] = _TableFollower(self._db.url, self._channel, self._origin)
        return subscription

    def _remove(self, listener: Listener) -> None:
        super()._remove(listener)
        follower = None
        with _followers_lock:  # checked and dropped together: a subscriber may be arriving
            with self._channel.lock:
                idle = not self._channel.listeners
            if idle:
                # Nobody in this process listens any more: stop polling the file.
                follower = _followers.pop(id(self._channel), None)
        if follower is not None:
            follower.stop()

    @property
    def following(self) -> bool:
        with _followers_lock:
            return id(self._channel) in _followers
