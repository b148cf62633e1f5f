"""The embedded store's change-event table: another process's events are heard, this
process's are heard once (not again from the table), a follower that missed pruned rows asks
for a reload, old rows are pruned, and nobody polls once nobody listens."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from hms_desktop.domain.models import ChangeEvent, to_jsonable
from hms_desktop.store import db_events, schema
from hms_desktop.store.db import Database
from hms_desktop.store.db_events import RESYNC, DatabaseEventBus
from hms_desktop.store.tables import ChangeEventRow

# A wall-clock bound: CI runs it after the parallel part, alone (pyproject's markers).
pytestmark = pytest.mark.latency

WITHIN = 1.0


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'events.sqlite3'}"
    schema.upgrade(url)
    db = Database.connect(url)
    yield db
    db.dispose()


def _write(
    db: Database, event: ChangeEvent, *, origin: str = "another-process", **row: int
) -> None:
    """A row as another process's bus writes it."""
    with db.transaction() as session:
        session.execute(
            insert(ChangeEventRow).values(
                origin=origin,
                payload=json.dumps(to_jsonable(event)),
                created_ms=row.pop("created_ms", int(time.time() * 1000)),
                **row,
            )
        )


def _heard(events: queue.Queue[ChangeEvent]) -> list[ChangeEvent]:
    """What a listener heard in the next second."""
    deadline, heard = time.monotonic() + WITHIN, []
    while (left := deadline - time.monotonic()) > 0:
        try:
            heard.append(events.get(timeout=left))
        except queue.Empty:
            break
    return heard


def test_another_processes_events_are_heard_and_this_ones_once(database: Database) -> None:
    bus = DatabaseEventBus(database)
    heard: queue.Queue[ChangeEvent] = queue.Queue()
    subscription = bus.subscribe(heard.put)
    try:
        started = time.monotonic()
        _write(database, ChangeEvent(kind="hold", slot_id=7))
        assert heard.get(timeout=WITHIN).slot_id == 7
        assert time.monotonic() - started < WITHIN

        bus.publish(ChangeEvent(kind="book", slot_id=8))
        assert [(e.kind, e.slot_id) for e in _heard(heard)] == [("book", 8)]
    finally:
        subscription.close()
        bus.close()


def test_a_follower_that_missed_pruned_events_asks_for_a_reload(database: Database) -> None:
    bus = DatabaseEventBus(database)
    heard: queue.Queue[ChangeEvent] = queue.Queue()
    subscription = bus.subscribe(heard.put)
    try:
        _write(database, ChangeEvent(kind="hold", slot_id=1))
        assert heard.get(timeout=WITHIN).slot_id == 1
        with database.read() as session:
            newest = session.scalar(select(func.max(ChangeEventRow.id)))
        assert newest is not None
        # Rows after the one it saw were written and pruned before it looked.
        _write(database, ChangeEvent(kind="cancel", slot_id=2), id=newest + 5)
        assert [e.kind for e in _heard(heard)] == ["cancel", RESYNC]
    finally:
        subscription.close()
        bus.close()


def test_old_rows_are_pruned_by_publishers(database: Database) -> None:
    old = int(time.time() * 1000) - db_events.KEEP_MS - 1_000
    _write(database, ChangeEvent(kind="hold", slot_id=1), created_ms=old)
    bus = DatabaseEventBus(database)
    bus.publish(ChangeEvent(kind="hold", slot_id=2))
    with database.read() as session:
        kept = session.scalars(select(ChangeEventRow.payload)).all()
    assert [json.loads(payload)["slot_id"] for payload in kept] == [2]
    bus.close()


def _followers() -> int:
    return sum(thread.name == "hms-db-events" for thread in threading.enumerate())


def test_nobody_polls_once_nobody_listens(database: Database) -> None:
    before = _followers()
    bus, other = DatabaseEventBus(database), DatabaseEventBus(database)
    first, second = bus.subscribe(lambda _e: None), other.subscribe(lambda _e: None)
    assert bus.following and other.following
    assert _followers() == before + 1, "one follower per process and file"
    first.close()
    assert other.following, "another Clinic of this process still listens"
    second.close()
    assert not bus.following
    deadline = time.monotonic() + 5
    while _followers() > before:
        assert time.monotonic() < deadline, "the follower thread did not stop"
        time.sleep(0.05)
