"""Test stores: a fresh database per test (copied from a migrated template) and a Redis
key prefix of its own. SQLite + built-in locks always; PostgreSQL + Redis when
HMS_TEST_DATABASE_URL / HMS_TEST_REDIS_URL are set (HMS_TEST_REQUIRE_SERVICES=1 turns an
unreachable service into a failure instead of a skip)."""

from __future__ import annotations

import os
import queue
import shutil
import tempfile
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from hms_desktop.config import Settings
from hms_desktop.store import schema

DATABASE_URL = os.environ.get("HMS_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("HMS_TEST_REDIS_URL", "")
REQUIRE_SERVICES = os.environ.get("HMS_TEST_REQUIRE_SERVICES") == "1"
TEMPLATE_DB = f"hms_test_template_{os.getpid()}"

STORES = ["sqlite", "postgres"]


def unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"required test service unavailable: {reason}")
    pytest.skip(reason)


@dataclass
class StoreSpec:
    """Where one test's clinic lives; several Clinics may open the same spec (several desks)."""

    name: str
    database_url: str
    redis_url: str
    redis_prefix: str

    def settings(self, **overrides: object) -> Settings:
        # Tests register many patients from one address; the limit has its own tests.
        overrides.setdefault("rate_limit_register", "100000/hour")
        return Settings(
            database_url=self.database_url,
            redis_url=self.redis_url,
            redis_prefix=self.redis_prefix,
            secret_key="test-secret-key-that-is-long-enough-for-hs256",
            **overrides,  # type: ignore[arg-type]
        )


class _SqliteTemplates:
    def __init__(self) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="hms-tests-"))
        self._template: Path | None = None

    def fresh(self) -> str:
        if self._template is None:
            self._template = self._dir / "template.sqlite3"
            schema.upgrade(f"sqlite:///{self._template}")
        target = self._dir / f"{uuid.uuid4().hex}.sqlite3"
        shutil.copyfile(self._template, target)
        return f"sqlite:///{target}"

    def cleanup(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


class _PostgresTemplates:
    """Test databases copied from one migrated template. A copy (CREATE DATABASE ...
    TEMPLATE) and a drop each take about a second on the server, so a helper thread makes
    the next copies while a test runs and drops used ones behind it: a test still gets a
    database nobody has used, and every one is gone at the session's end."""

    # Copies made ahead: enough that a test rarely waits, few enough to stay cheap.
    AHEAD = 2

    def __init__(self, url: str) -> None:
        self._url = make_url(url)
        self._admin = create_engine(
            self._url.set(drivername="postgresql+psycopg"),
            poolclass=pool.NullPool,
            isolation_level="AUTOCOMMIT",
        )
        self._ready = False
        self._made: list[str] = []
        self._spare: queue.Queue[str] = queue.Queue()
        self._jobs = threading.Condition()
        self._to_drop: list[str] = []
        self._wanted = 0  # copies asked for and not yet made
        self._stopping = False
        self._failure: BaseException | None = None
        self._helper: threading.Thread | None = None

    def _exec(self, sql: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(sql))

    def _copy(self) -> str:
        name = f"hms_test_{uuid.uuid4().hex[:16]}"
        self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE_DB}"')
        with self._jobs:
            self._made.append(name)
        return name

    def _work(self) -> None:
        """The helper thread: copies ahead and drops behind, until the session ends."""
        while True:
            with self._jobs:
                while not (self._to_drop or self._stopping or self._wanted > 0):
                    self._jobs.wait()
                # A test waiting for its copy goes first; else drops free the server.
                starved = self._wanted > 0 and self._spare.empty() and not self._stopping
                if self._to_drop and not starved:
                    job, name = "drop", self._to_drop.pop(0)
                elif self._stopping:
                    return
                else:
                    job, name = "copy", ""
                    self._wanted -= 1
            try:
                if job == "drop":
                    self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    with self._jobs:
                        self._made.remove(name)
                else:
                    self._spare.put(self._copy())
            except BaseException as error:  # noqa: BLE001 - handed to the test that waits
                self._failure = error
                self._spare.put("")
                return

    def _ask(self, copies: int) -> None:
        with self._jobs:
            self._wanted += copies
            self._jobs.notify()

    def fresh(self) -> str:
        if not self._ready:
            try:
                self._exec(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
            except Exception as error:  # noqa: BLE001 - any connection failure means "unavailable"
                unavailable(f"PostgreSQL at {self._url.render_as_string()}: {error}")
            self._exec(f'CREATE DATABASE "{TEMPLATE_DB}"')
            schema.upgrade(
                self._url.set(database=TEMPLATE_DB).render_as_string(hide_password=False)
            )
            self._ready = True
            self._helper = threading.Thread(
                target=self._work, name="test-database-copies", daemon=True
            )
            self._helper.start()
            self._ask(self.AHEAD)
        # This test's copy is made ahead; the helper starts the one after the next.
        self._ask(1)
        name = "" if self._failure is not None else self._spare.get(timeout=300)
        if self._failure is not None:
            raise RuntimeError("making a test database failed") from self._failure
        return self._url.set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        """Dropped by the helper thread, after the test (its connections are forced off)."""
        name = make_url(url).database
        assert name is not None
        with self._jobs:
            self._to_drop.append(name)
            self._jobs.notify()

    def cleanup(self) -> None:
        if self._helper is not None:
            with self._jobs:
                self._stopping = True
                self._jobs.notify()
            self._helper.join(timeout=600)
        if self._ready:
            for name in self._made:
                self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            self._exec(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}" WITH (FORCE)')
        self._admin.dispose()


def check_redis() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis at {REDIS_URL}: {error}")


def clear_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def provide(request: pytest.FixtureRequest, name: str) -> Iterator[StoreSpec]:
    """The `store` fixture's body: a fresh store of kind `name`, removed afterwards."""
    if name == "sqlite":
        url = request.getfixturevalue("sqlite_templates").fresh()
        yield StoreSpec("sqlite", url, "", "")
        return
    if not DATABASE_URL or not REDIS_URL:
        unavailable("HMS_TEST_DATABASE_URL and HMS_TEST_REDIS_URL are not set")
    check_redis()
    templates = request.getfixturevalue("postgres_templates")
    url = templates.fresh()
    prefix = f"hmstest:{uuid.uuid4().hex[:12]}:"
    yield StoreSpec("postgres", url, REDIS_URL, prefix)
    clear_prefix(prefix)
    templates.drop(url)
