"""Blank databases (nobody migrated them) on every store, and a demo clinic at the first
schema revision, for the upgrade and backup tests."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, create_engine, pool, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SAWarning

from hms_desktop.config import Settings
from hms_desktop.services.clinic import open_clinic
from hms_desktop.services.demo import load_demo_clinic
from hms_desktop.store import schema
from tests import stores

FIRST_REVISION = "0001"
ROOT = Path(__file__).resolve().parents[2]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`hms-desktop ARGS` as IT runs it, in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "hms_desktop", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@dataclass
class Blank:
    kind: str  # "sqlite" or "postgres"
    url: str
    redis_url: str = ""
    redis_prefix: str = "hms:"
    scratch_url: str = ""  # another blank database of the same kind, for preparing data

    def cli_env(self, tmp_path: Path, **extra: str) -> dict[str, str]:
        """The environment of a fresh shell with only this database configured (and the
        desktop's log file and Qt kept inside tmp_path and offscreen)."""
        config = tmp_path / "config.toml"
        config.touch()
        env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
        env.update(
            HMS_CONFIG=str(config),
            HMS_DATABASE_URL=self.url,
            HMS_REDIS_URL=self.redis_url,
            HMS_REDIS_PREFIX=self.redis_prefix,
            HMS_LOG_DIR=str(tmp_path / "logs"),
            QT_QPA_PLATFORM="offscreen",
            PYTHONPATH=str(ROOT),
            **extra,
        )
        return env

    def settings(self, **overrides: Any) -> Settings:
        return Settings(
            database_url=self.url,
            redis_url=self.redis_url,
            redis_prefix=self.redis_prefix,
            **overrides,
        )


class _PostgresDatabases:
    """Databases made on the test server and dropped afterwards."""

    def __init__(self) -> None:
        self.server = make_url(stores.DATABASE_URL)
        self.admin = create_engine(
            self.server, poolclass=pool.NullPool, isolation_level="AUTOCOMMIT"
        )
        self.made: list[str] = []

    def make(self, template: str | None = None) -> str:
        name = f"hms_store_{uuid.uuid4().hex[:12]}"
        clause = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"{clause}'))
        self.made.append(name)
        return self.server.set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with self.admin.connect() as connection:
            for name in self.made:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(params=stores.STORES)
def blank(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Blank]:
    if request.param == "sqlite":
        yield Blank(
            "sqlite",
            f"sqlite:///{tmp_path / 'clinic.sqlite3'}",
            scratch_url=f"sqlite:///{tmp_path / 'scratch.sqlite3'}",
        )
        return
    if not stores.DATABASE_URL or not stores.REDIS_URL:
        stores.unavailable("HMS_TEST_DATABASE_URL and HMS_TEST_REDIS_URL are not set")
    stores.check_redis()
    databases = _PostgresDatabases()
    prefix = f"hmstest:{uuid.uuid4().hex[:12]}:"
    try:
        yield Blank("postgres", databases.make(), stores.REDIS_URL, prefix, databases.make())
    finally:
        stores.clear_prefix(prefix)
        databases.drop_all()


@pytest.fixture
def demo_at_first_revision(blank: Blank) -> Blank:
    """The demo clinic in a database at schema revision 0001, as an early install had it:
    loaded (by today's code) into a scratch database at head, then its rows copied into
    0001's tables, column by column as 0001 has them."""
    schema.upgrade(blank.scratch_url)
    scratch = Blank(blank.kind, blank.scratch_url, blank.redis_url, f"{blank.redis_prefix}s:")
    clinic = open_clinic(scratch.settings(), migrate=False)
    try:
        load_demo_clinic(clinic)
    finally:
        clinic.close()
    schema.upgrade(blank.url, FIRST_REVISION)
    copy_rows(blank.scratch_url, blank.url)
    return blank


def _reflect(engine: Engine) -> MetaData:
    metadata = MetaData()
    with warnings.catch_warnings():  # expression indexes are not reflected; rows are
        warnings.simplefilter("ignore", SAWarning)
        metadata.reflect(engine)
    return metadata


def copy_rows(source_url: str, target_url: str) -> None:
    """Every row of the target's tables from the source (same kind of database), only the
    columns the target has; PostgreSQL's id sequences then continue after the copied ids."""
    source, target = (
        create_engine(url, poolclass=pool.NullPool) for url in (source_url, target_url)
    )
    try:
        source_tables, target_tables = _reflect(source).tables, _reflect(target)
        with source.connect() as reading, target.begin() as writing:
            for table in target_tables.sorted_tables:
                if table.name == "alembic_version" or table.name not in source_tables:
                    continue
                origin = source_tables[table.name]
                shared = [
                    origin.c[column.name] for column in table.columns if column.name in origin.c
                ]
                rows = [dict(row._mapping) for row in reading.execute(select(*shared))]
                if rows:
                    writing.execute(table.insert(), rows)
                if writing.dialect.name == "postgresql" and "id" in table.c:
                    writing.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                            f"coalesce(max(id), 1)) FROM {table.name}"
                        )
                    )
    finally:
        source.dispose()
        target.dispose()


def snapshot(
    url: str,
    *,
    skip: Callable[[str], bool] = lambda _name: False,
    without: dict[str, set[str]] | None = None,
) -> dict[str, list]:
    """Every row of every table (alembic_version aside), in a stable order; `without`:
    columns (by table) left out, e.g. those a later revision added."""
    engine = create_engine(url, poolclass=pool.NullPool)
    dropped = without or {}
    try:
        metadata = _reflect(engine)
        with engine.connect() as connection:
            return {
                name: sorted(
                    (
                        tuple(row)
                        for row in connection.execute(
                            select(
                                *(c for c in table.columns if c.name not in dropped.get(name, ()))
                            )
                        )
                    ),
                    key=repr,
                )
                for name, table in metadata.tables.items()
                if name != "alembic_version" and not skip(name)
            }
    finally:
        engine.dispose()
