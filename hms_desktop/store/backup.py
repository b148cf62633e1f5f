"""`hms-desktop backup FILE` / `restore FILE`: the embedded store with SQLite's online backup
API (a consistent copy while desks keep working), PostgreSQL with pg_dump/pg_restore in their
custom format. A restore checks the file before it touches the database, and replaces the
whole database in one transaction."""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, pool, text
from sqlalchemy.engine import URL, make_url

from hms_desktop.domain.phones import DEFAULT_REGION
from hms_desktop.store import schema
from hms_desktop.store.db import ensure_sqlite_folder, is_sqlite

log = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
# Kept by IT's commands, not clinic data: an "empty" database may have them.
BOOKKEEPING_TABLES = {"alembic_version", "hms_meta"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why, for IT."""


@dataclass(frozen=True)
class BackupFile:
    path: Path
    kind: str  # "sqlite" or "postgresql"
    revision: str | None  # the schema revision inside


def backup(url: str, target: Path) -> BackupFile:
    """Write a backup of the database at `url` to `target` (replaced only when complete)."""
    target = target.expanduser().resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    if is_sqlite(url):
        source = schema.sqlite_path(url)
        if source is None or not source.is_file():
            raise BackupError(f"there is no database file at {source} to back up")
        schema.sqlite_copy(source, partial)
    else:
        _run_tool(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial)], url=url)
    partial.replace(target)
    return inspect_backup(target)


def inspect_backup(path: Path) -> BackupFile:
    """What a backup file holds; BackupError when it is not a readable backup."""
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header.startswith(SQLITE_HEADER):
        return BackupFile(path, "sqlite", _sqlite_backup_revision(path))
    if header.startswith(PG_DUMP_HEADER):
        return BackupFile(path, "postgresql", _pg_backup_revision(path))
    raise BackupError(f"{path} is not an hms-desktop backup (neither SQLite nor pg_dump)")


def _sqlite_backup_revision(path: Path) -> str | None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = connection.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise BackupError(f"{path} is damaged (SQLite quick_check: {ok})")
            tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
            if "alembic_version" not in tables:
                return None
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            return row[0] if row else None
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is damaged ({error})") from error


def _pg_backup_revision(path: Path) -> str | None:
    """The revision in the dump's alembic_version data; also proves the archive readable."""
    listing = _run_tool(["pg_restore", "--list", str(path)])
    if "TABLE DATA public alembic_version" not in listing:
        return None
    script = _run_tool(
        ["pg_restore", "--data-only", "--table=alembic_version", "--file=-", str(path)]
    )
    lines = script.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY public.alembic_version") and index + 1 < len(lines):
            value = lines[index + 1].strip()
            return value if value and value != "\\." else None
    return None


def is_empty(url: str) -> bool:
    """No clinic data: no tables, or only empty ones (IT's bookkeeping tables aside)."""
    if is_sqlite(url):
        path = schema.sqlite_path(url)
        if path is None or not path.is_file():
            return True
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                if table in BOOKKEEPING_TABLES:
                    continue
                quoted = connection.dialect.identifier_preparer.quote(table)
                if connection.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first():
                    return False
    finally:
        engine.dispose()
    return True


def restore(
    url: str, source: Path, *, force: bool = False, phone_region: str = DEFAULT_REGION
) -> schema.UpgradeResult:
    """Replace the database at `url` with the backup `source`, then upgrade it to this
    build's schema when the backup is older. Refuses a database with data unless `force`."""
    found = inspect_backup(source.expanduser().resolve())
    expected = "sqlite" if is_sqlite(url) else "postgresql"
    if found.kind != expected:
        raise BackupError(
            f"{found.path} is a {found.kind} backup, but the configured database is {expected}"
        )
    if found.revision is not None and found.revision not in schema.known_revisions():
        raise BackupError(
            f"{found.path} holds schema revision {found.revision}, newer than this "
            "hms-desktop knows: restore it with the newer version"
        )
    if not force and not is_empty(url):
        raise BackupError(
            "the database already holds clinic data; restoring replaces all of it. "
            "Run `hms-desktop backup` first if it may be needed, then add --force"
        )
    if expected == "sqlite":
        _restore_sqlite(url, found.path)
    else:
        _restore_postgres(url, found.path)
    log.info("restored %s (schema revision %s)", found.path, found.revision)
    return schema.upgrade(url, phone_region=phone_region)


def _restore_sqlite(url: str, source: Path) -> None:
    ensure_sqlite_folder(url)
    target = schema.sqlite_path(url)
    if target is None:
        raise BackupError("the configured SQLite database has no file to restore into")
    # The backup API writes into the live database page by page, under its write lock, so
    # desks that have it open see either the old or the restored database.
    source_db = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target_db = sqlite3.connect(target, timeout=30)
    try:
        source_db.backup(target_db)
    finally:
        target_db.close()
        source_db.close()


def _restore_postgres(url: str, source: Path) -> None:
    """Drop what is there and load the dump in one psql transaction: a restore that fails
    half-way leaves the database as it was."""
    drops = _drop_statements(url)
    pg_restore, psql = _tool("pg_restore"), _tool("psql")
    target, env = _libpq_target(url)
    with tempfile.TemporaryFile() as dump_errors:
        # pg_restore writes the dump as SQL into psql, streamed: no copy held in memory.
        dump = subprocess.Popen(
            [pg_restore, "--no-owner", "--no-privileges", "--file=-", str(source)],
            stdout=subprocess.PIPE,
            stderr=dump_errors,
        )
        load = subprocess.run(
            [psql, "--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", "--single-transaction",
             "-c", drops or "SELECT 1", "-f", "-", *target],
            stdin=dump.stdout, capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        assert dump.stdout is not None
        dump.stdout.close()
        dump.wait()
        dump_errors.seek(0)
        if dump.returncode != 0:
            raise BackupError(f"pg_restore failed: {_last_line(dump_errors.read().decode())}")
    if load.returncode != 0:
        raise BackupError(f"psql failed, the database is unchanged: {_last_line(load.stderr)}")


def _drop_statements(url: str) -> str:
    """DROP statements for every table, view, sequence and type in the public schema."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT 'TABLE', tablename FROM pg_tables WHERE schemaname = 'public' "
                    "UNION ALL SELECT 'VIEW', viewname FROM pg_views WHERE schemaname = 'public' "
                    "UNION ALL SELECT 'SEQUENCE', sequencename FROM pg_sequences "
                    "WHERE schemaname = 'public' "
                    "UNION ALL SELECT 'TYPE', t.typname FROM pg_type t "
                    "JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')"
                )
            ).all()
    finally:
        engine.dispose()
    quote = engine.dialect.identifier_preparer.quote
    return " ".join(f"DROP {kind} IF EXISTS public.{quote(name)} CASCADE;" for kind, name in rows)


def _libpq_target(url: str) -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL tools; the password travels in the
    environment, not on the command line other users can read."""
    parsed: URL = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return ["--dbname", plain.render_as_string(hide_password=False)], env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed (or not on PATH); install the PostgreSQL client tools "
            "(Debian/Ubuntu: postgresql-client; Windows/macOS: the PostgreSQL installer), "
            "in a version at least the server's"
        )
    return path


def _last_line(output: str) -> str:
    lines = output.strip().splitlines()
    return lines[-1] if lines else "(no message)"


def _run_tool(args: list[str], *, url: str | None = None) -> str:
    command = [_tool(args[0]), *args[1:]]
    env = None
    if url is not None:
        target, env = _libpq_target(url)
        command += target
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed: {_last_line(result.stderr)}")
    return result.stdout
