"""Schema migrations with Alembic, run from code (no alembic.ini to ship), and run safely:

- every upgrade is one transaction, so a migration that fails leaves the database exactly as
  it was (PostgreSQL has transactional DDL; SQLite gets it from an explicit BEGIN);
- an embedded database is first copied next to itself, the old revision in the copy's name;
- on PostgreSQL an advisory lock keeps a second `db upgrade` from running at the same time.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, pool, text
from sqlalchemy.engine import make_url

from hms_desktop.domain.phones import DEFAULT_REGION
from hms_desktop.store.db import ensure_sqlite_folder, is_sqlite

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key of `db upgrade` ("hmsU"); any 64-bit number no one else uses.
UPGRADE_LOCK_KEY = 0x686D7355


class SchemaError(Exception):
    """An upgrade that cannot be done; the message says why, for IT."""


class UpgradeInProgress(SchemaError):
    def __init__(self) -> None:
        super().__init__(
            "another `hms-desktop db upgrade` is running on this database; "
            "wait for it to finish, then run `hms-desktop check`"
        )


class SchemaAhead(SchemaError):
    def __init__(self, revision: str) -> None:
        super().__init__(
            f"the database is at schema revision {revision}, newer than this hms-desktop knows "
            f"(newest here: {head_revision()}); use the newer hms-desktop that upgraded it"
        )
        self.revision = revision


@dataclass(frozen=True)
class UpgradeResult:
    before: str | None
    after: str | None
    copy: Path | None  # the embedded database as it was before the upgrade


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def head_revision() -> str | None:
    return _scripts().get_current_head()


def known_revisions() -> set[str]:
    return {script.revision for script in _scripts().walk_revisions()}


def current_revision(url: str) -> str | None:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def upgrade(
    url: str, revision: str = "head", *, phone_region: str = DEFAULT_REGION
) -> UpgradeResult:
    """Migrate to `revision` in one transaction; an embedded database is copied first.
    `phone_region`: the country of stored phone numbers without a country code (0007)."""
    ensure_sqlite_folder(url)
    before = current_revision(url)
    if before is not None and before not in known_revisions():
        raise SchemaAhead(before)
    if revision == "head" and before == head_revision():
        return UpgradeResult(before, before, None)
    copy = copy_before_upgrade(url, before) if is_sqlite(url) else None
    engine = _migration_engine(url)
    try:
        with engine.connect() as connection, connection.begin():
            _take_upgrade_lock(connection)
            config = alembic_config(url)
            # Alembic joins this transaction instead of committing after each step.
            config.attributes["connection"] = connection
            config.attributes["phone_region"] = phone_region
            command.upgrade(config, revision)
    finally:
        engine.dispose()
    after = current_revision(url)
    if before != after:
        log.info("database upgraded from revision %s to %s", before, after)
    return UpgradeResult(before, after, copy)


def _migration_engine(url: str) -> Engine:
    if not is_sqlite(url):
        return create_engine(url, poolclass=pool.NullPool)
    # Python's sqlite3 commits DDL as it goes unless the transaction is begun explicitly;
    # IMMEDIATE also makes other writers wait until the upgrade is done.
    engine = create_engine(
        url, poolclass=pool.NullPool, connect_args={"isolation_level": None, "timeout": 30}
    )

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _take_upgrade_lock(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return  # SQLite: BEGIN IMMEDIATE above already admits one writer
    taken = connection.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY}
    ).scalar()
    if not taken:
        raise UpgradeInProgress()


def sqlite_path(url: str) -> Path | None:
    database = make_url(url).database
    return Path(database) if database and database != ":memory:" else None


def copy_before_upgrade(url: str, revision: str | None) -> Path | None:
    """Copy the embedded database next to itself (hms.revision-0003.<time>.sqlite3) with
    SQLite's backup API, consistent even while desks use it. Nothing to keep when empty."""
    path = sqlite_path(url)
    if path is None or revision is None or not path.is_file():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.revision-{revision}.{stamp}{path.suffix}")
    sqlite_copy(path, target)
    log.info("copied the database to %s before upgrading it", target)
    return target


def sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (its online backup API)."""
    source_db = sqlite3.connect(source, timeout=30)
    target_db = sqlite3.connect(target)
    try:
        source_db.backup(target_db)
    finally:
        target_db.close()
        source_db.close()
