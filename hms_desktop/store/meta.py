"""The database's own facts (table hms_meta): the oldest desktop version allowed, where IT
puts new builds, the last backup. Read and written by IT's commands and the version gate."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import create_engine, inspect, pool, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from hms_desktop.store.tables import MetaEntry

MIN_DESKTOP_VERSION = "min_desktop_version"
UPDATE_LOCATION = "update_location"
LAST_BACKUP_AT = "last_backup_at"
LAST_BACKUP_FILE = "last_backup_file"


def read_meta(url: str) -> dict[str, str]:
    """Every entry; empty when the table does not exist yet (a database before 0004)."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table(MetaEntry.__tablename__):
                return {}
            rows = connection.execute(select(MetaEntry.key, MetaEntry.value))
            return {key: value for key, value in rows}
    finally:
        engine.dispose()


def write_meta(url: str, **values: str) -> None:
    """Set entries (insert or replace) in one transaction."""
    engine = create_engine(url, poolclass=pool.NullPool)
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    now = datetime.now(UTC)
    try:
        with engine.begin() as connection:
            for key, value in values.items():
                insert = dialect.insert(MetaEntry).values(key=key, value=value, updated_at=now)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=[MetaEntry.key], set_={"value": value, "updated_at": now}
                    )
                )
    finally:
        engine.dispose()


def try_write_meta(url: str, **values: str) -> bool:
    """write_meta, but False instead of an error when the database cannot take it."""
    try:
        write_meta(url, **values)
    except SQLAlchemyError:
        return False
    return True
