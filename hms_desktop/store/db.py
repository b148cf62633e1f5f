"""Engines and sessions for PostgreSQL (central) and SQLite (embedded)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def ensure_sqlite_folder(url: str) -> None:
    """An embedded database's folder (the user data folder on a fresh machine) may not
    exist yet; SQLite creates the file but not its folders."""
    if not is_sqlite(url):
        return
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    ensure_sqlite_folder(url)
    engine = create_engine(
        url,
        connect_args={"timeout": 30, "check_same_thread": False, "isolation_level": None},
        pool_size=8,
        max_overflow=16,
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # Writers take the write lock up front: a deferred transaction that later upgrades to
    # a writer can fail at once with "database is locked" instead of waiting its turn.
    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


@dataclass
class Database:
    """A writer and a reader session factory (the same engine except on SQLite)."""

    url: str
    writer: Engine
    reader: Engine
    is_sqlite: bool = field(init=False)

    @classmethod
    def connect(cls, url: str, *, pool_size: int = 10) -> Database:
        if is_sqlite(url):
            return cls(
                url, _sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False)
            )
        # No pre-ping: it costs a round trip on every checkout of the booking hot path. A
        # connection the server dropped fails one call, and SQLAlchemy then invalidates the
        # whole pool; recycling keeps idle connections from going stale behind firewalls.
        engine = create_engine(
            url,
            pool_size=pool_size,
            max_overflow=2 * pool_size,
            pool_recycle=1800,
            # Times come back in UTC as `datetime.timezone.utc`, which needs no conversion
            # (a ZoneInfo zone costs a lookup per value: thousands per free-slot listing).
            connect_args={"options": "-c TimeZone=UTC"},
        )
        # Reads are single statements or tolerate a fresh snapshot per statement; without
        # BEGIN/COMMIT they cost one round trip instead of three.
        return cls(url, engine, engine.execution_options(isolation_level="AUTOCOMMIT"))

    def __post_init__(self) -> None:
        self._after_commit: list[Callable[[Session], Any]] = []
        # Asked on every booking: parsing the URL each time cost 2-3% of one.
        self.is_sqlite = is_sqlite(self.url)
        self._write_sessions = sessionmaker(self.writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.reader, expire_on_commit=False)

    def listen_to_writes(self, name: str, listener: Callable[..., Any]) -> None:
        """A Session event (`after_flush`, `after_commit`, ...) on every read-write session
        (services/account_versions.py follows the changes a token check reads this way)."""
        if name == "after_commit":
            # A session made on a unit of work's connection (`session_on`) never commits
            # itself: its writes commit with the connection, announced by `committed`.
            self._after_commit.append(listener)
        event.listen(self._write_sessions, name, listener)

    def session_on(self, connection: Connection) -> Session:
        """A read-write session in `connection`'s transaction (its events fire as any read-
        write session's do; its commit is the connection's: call `committed` after it)."""
        return self._write_sessions(bind=connection)

    def committed(self, session: Session) -> None:
        """`session`'s writes were committed with its connection: `after_commit` listeners."""
        for listener in self._after_commit:
            listener(session)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One read-write transaction: committed on success, rolled back on any error."""
        with self._write_sessions() as session, session.begin():
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """One read-write transaction on a bare connection (the unit of work's: it makes an
        ORM session on it only when a use case asks for one)."""
        with self.writer.begin() as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A bare connection for the hot paths' Core reads: a Session's set-up and ORM
        execution cost more than a one-row statement (on PostgreSQL it runs in autocommit)."""
        with self.reader.connect() as connection:
            yield connection

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
