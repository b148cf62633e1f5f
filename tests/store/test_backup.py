"""`backup` / `restore` on every store: backup, change, restore gives back exactly the
backed-up data; a backup taken while another process writes is a consistent snapshot
(SQLite); restore checks the file first, refuses a database with data without --force,
and upgrades an older backup."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text

from hms_desktop.store import backup, schema
from hms_desktop.store.backup import BackupError
from tests.store.conftest import FIRST_REVISION, Blank, run_cli, snapshot


def _execute(url: str, *statements: str) -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        for statement in statements:
            connection.execute(text(statement))
    engine.dispose()


def _change_everything(url: str) -> None:
    _execute(
        url,
        "DELETE FROM reviews",
        "UPDATE users SET first_name = 'Changed' WHERE id % 2 = 0",
        "INSERT INTO contacts (name, phone, message, created_at) "
        "VALUES ('After', '555', 'made after the backup', CURRENT_TIMESTAMP)",
    )


def test_backup_change_restore_gives_back_the_backed_up_data(
    demo_at_first_revision: Blank, tmp_path: Path
) -> None:
    url = demo_at_first_revision.url
    schema.upgrade(url)
    backed_up = snapshot(url)
    made = backup.backup(url, tmp_path / "clinic.backup")
    assert made.revision == schema.head_revision()
    assert made.kind == ("sqlite" if demo_at_first_revision.kind == "sqlite" else "postgresql")

    _change_everything(url)
    assert snapshot(url) != backed_up

    with pytest.raises(BackupError, match="already holds clinic data"):
        backup.restore(url, made.path)
    assert snapshot(url) != backed_up  # refused: nothing touched
    backup.restore(url, made.path, force=True)
    assert snapshot(url) == backed_up


def test_restoring_an_older_backup_upgrades_it(
    demo_at_first_revision: Blank, tmp_path: Path
) -> None:
    url = demo_at_first_revision.url
    old = backup.backup(url, tmp_path / "old.backup")
    assert old.revision == FIRST_REVISION
    schema.upgrade(url)
    result = backup.restore(url, old.path, force=True)
    assert (result.before, result.after) == (FIRST_REVISION, schema.head_revision())
    assert schema.current_revision(url) == schema.head_revision()


def test_restore_checks_the_file_before_touching_the_database(blank: Blank, tmp_path: Path) -> None:
    schema.upgrade(blank.url)
    _execute(blank.url, "INSERT INTO contacts (name, phone, message, created_at) "
             "VALUES ('Kept', '1', 'still here', CURRENT_TIMESTAMP)")  # fmt: skip
    before = snapshot(blank.url)
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"this is not a backup at all")
    with pytest.raises(BackupError, match="not an hms-desktop backup"):
        backup.restore(blank.url, junk, force=True)
    damaged = tmp_path / "damaged.backup"
    damaged.write_bytes(
        (backup.SQLITE_HEADER if blank.kind == "sqlite" else backup.PG_DUMP_HEADER) + b"\0" * 50
    )
    with pytest.raises(BackupError):
        backup.restore(blank.url, damaged, force=True)
    with pytest.raises(BackupError, match="does not exist"):
        backup.restore(blank.url, tmp_path / "missing.backup", force=True)
    assert snapshot(blank.url) == before


def test_a_backup_of_the_other_store_is_refused(blank: Blank, tmp_path: Path) -> None:
    schema.upgrade(blank.url)
    other = tmp_path / "other.sqlite3"
    schema.upgrade(f"sqlite:///{other}")
    if blank.kind == "sqlite":
        other = tmp_path / "other.dump"
        other.write_bytes(backup.PG_DUMP_HEADER + b"\0" * 50)
        with pytest.raises(BackupError):
            backup.restore(blank.url, other)
        return
    with pytest.raises(BackupError, match="is a sqlite backup, but the configured database"):
        backup.restore(blank.url, other)


def test_missing_postgresql_tools_are_named(
    blank: Blank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if blank.kind != "postgres":
        pytest.skip("the embedded store needs no external tool")
    schema.upgrade(blank.url)
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on it
    with pytest.raises(BackupError, match="pg_dump is not installed"):
        backup.backup(blank.url, tmp_path / "clinic.backup")


WRITER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
connection.execute("PRAGMA journal_mode=WAL")
number = 0
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    number += 1
    connection.execute("BEGIN IMMEDIATE")
    # Two rows per transaction: a consistent copy has both or neither.
    for half in ("a", "b"):
        connection.execute(
            "INSERT INTO contacts (name, phone, message, created_at) "
            "VALUES (?, ?, 'writer', CURRENT_TIMESTAMP)", (f"{number}{half}", str(number)))
    connection.execute("COMMIT")
print(number)
"""


def test_an_sqlite_backup_while_another_process_writes_is_consistent(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    schema.upgrade(url)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "clinic.sqlite3"), "4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)  # the writer is well under way
        made = backup.backup(url, tmp_path / "during.sqlite3")
        backed_up = snapshot(f"sqlite:///{made.path}")
    finally:
        written = int(writer.communicate(timeout=60)[0])
    rows = backed_up["contacts"]
    numbers = sorted(int(row[2]) for row in rows)  # phone: the transaction's number
    assert rows, "the backup was taken before the writer wrote anything"
    assert len(numbers) % 2 == 0 and numbers[::2] == numbers[1::2]  # whole transactions
    assert numbers[::2] == list(range(1, len(numbers) // 2 + 1))  # a prefix, no gaps
    assert len(numbers) // 2 < written  # the writer went on after the copy

    # ...and restoring it gives back exactly what it held.
    backup.restore(url, made.path, force=True)
    assert snapshot(url) == backed_up


def test_backup_and_restore_from_the_command_line(blank: Blank, tmp_path: Path) -> None:
    env = blank.cli_env(tmp_path)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(env, *args)

    assert run("db", "upgrade").returncode == 0
    assert "backup: none recorded yet" in run("check").stdout
    made = run("backup", str(tmp_path / "clinic.backup"))
    assert made.returncode == 0, made.stderr
    assert "backup written to" in made.stdout
    checked = run("check")
    assert "backup: last made 20" in checked.stdout
    assert str(tmp_path / "clinic.backup") in checked.stdout
    _execute(blank.url, "INSERT INTO contacts (name, phone, message, created_at) "
             "VALUES ('After', '1', 'x', CURRENT_TIMESTAMP)")  # fmt: skip
    refused = run("restore", str(tmp_path / "clinic.backup"))
    assert refused.returncode == 1
    assert "add --force" in refused.stderr and "Traceback" not in refused.stderr
    restored = run("restore", "--force", str(tmp_path / "clinic.backup"))
    assert restored.returncode == 0, restored.stderr
    assert snapshot(blank.url, skip=lambda name: name == "hms_meta")["contacts"] == []
