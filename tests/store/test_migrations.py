"""`db upgrade` is safe: a populated database upgrades from the first revision without
losing a row; a migration that fails half-way leaves the database exactly as it was; the
embedded database is copied first; two upgrades never run at once on PostgreSQL."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, pool, text

from hms_desktop.store import schema
from hms_desktop.store.schema import UPGRADE_LOCK_KEY, SchemaAhead, UpgradeInProgress
from tests.store.conftest import FIRST_REVISION, Blank, snapshot

NEW_TABLES = {
    "hms_meta",
    "clinic_settings",
    "time_blocks",
    "change_events",
    "waitlist_entries",
    "messages",  # reminders' outbox (0009_outbox)
}  # made by revisions after 0001
# Columns added by revisions after 0001, with the value every existing row gets (no account
# must change its password just because the database was upgraded).
NEW_COLUMNS = {
    "doctors": {"is_active": True},
    "contacts": {"handled_at": None},
    "users": {"must_change_password": False},
    "patients": {"messages_opt_out": False},  # nobody is opted out by the upgrade
}
# Columns a revision after 0001 fills from the audit trail (0010: when each visit arrived
# and started): checked against what the desk's own use case wrote into them.
BACKFILLED_COLUMNS = {"appointments": {"arrived_at", "in_progress_at"}}


def _all_but(url: str, table: str, column: str) -> dict[str, set[str]]:
    """`without` that keeps only `column` of `table`."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()
    return {table: columns - {column}}


def _naive_utc(value: object) -> datetime | None:
    if value is None:
        return None
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when


def _rows(url: str, sql: str) -> list:
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).all())
    finally:
        engine.dispose()


def _status_times(url: str) -> dict[int, tuple[datetime | None, datetime | None]]:
    rows = _rows(url, "SELECT id, arrived_at, in_progress_at FROM appointments")
    return {row[0]: (_naive_utc(row[1]), _naive_utc(row[2])) for row in rows}


def _assert_status_times_as_the_desk_wrote_them(upgraded_url: str, desk_url: str) -> None:
    """The upgrade stamps the visits the status use case stamped when the demo clinic was
    made (and no others), with the time of the first audit entry of that status (the demo's
    desk runs on a clock two weeks back; the audit trail on the real one)."""
    found, written = _status_times(upgraded_url), _status_times(desk_url)
    first_entry: dict[tuple[int, str], datetime] = {}
    for entity_id, detail, at in _rows(
        upgraded_url,
        "SELECT entity_id, detail, at FROM audit_entries "
        "WHERE action = 'status' AND entity = 'appointment'",
    ):
        key = (int(entity_id), json.loads(detail)["status"])
        when = _naive_utc(at)
        assert when is not None
        first_entry[key] = min(first_entry.get(key, when), when)
    assert set(found) == set(written)
    assert sum(times[0] is not None for times in written.values()) > 10
    assert sum(times[1] is not None for times in written.values()) > 10
    for appointment_id, (arrived, started) in written.items():
        expected = (
            arrived and first_entry[(appointment_id, "arrived")],
            started and first_entry[(appointment_id, "in_progress")],
        )
        assert found[appointment_id] == expected, appointment_id


def test_a_populated_database_upgrades_from_the_first_revision_without_loss(
    demo_at_first_revision: Blank,
) -> None:
    url = demo_at_first_revision.url
    before = snapshot(url)
    assert len(before["users"]) > 200 and len(before["appointments"]) > 100

    result = schema.upgrade(url)

    assert (result.before, result.after) == (FIRST_REVISION, schema.head_revision())
    without = {table: set(columns) for table, columns in NEW_COLUMNS.items()}
    for table, columns in BACKFILLED_COLUMNS.items():
        without.setdefault(table, set()).update(columns)
    after = snapshot(url, skip=lambda name: name in NEW_TABLES, without=without)
    assert after == before
    for table, columns in NEW_COLUMNS.items():
        for column, value in columns.items():
            added = snapshot(url, without=_all_but(url, table, column))[table]
            assert {row[0] for row in added} == {value}
    _assert_status_times_as_the_desk_wrote_them(url, demo_at_first_revision.scratch_url)
    if demo_at_first_revision.kind == "sqlite":
        assert result.copy is not None and result.copy.is_file()
        assert FIRST_REVISION in result.copy.name
        assert schema.current_revision(f"sqlite:///{result.copy}") == FIRST_REVISION
        assert snapshot(f"sqlite:///{result.copy}") == before
    else:
        assert result.copy is None


FAILING_MIGRATION = '''"""a migration that fails half-way (test only)

Revision ID: 9001
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("DELETE FROM appointments")
    op.execute("UPDATE users SET first_name = 'changed'")
    op.execute("INSERT INTO no_such_table VALUES (1)")


def downgrade() -> None:
    pass
'''


@pytest.fixture
def with_failing_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """This build's migrations plus one after the head that changes data, then fails."""
    migrations = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS, migrations, ignore=shutil.ignore_patterns("__pycache__"))
    head = schema.head_revision()
    (migrations / "versions" / "9001_fails.py").write_text(FAILING_MIGRATION.format(head=head))
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    schema._scripts.cache_clear()
    yield
    schema._scripts.cache_clear()


def test_a_migration_failing_half_way_leaves_the_database_as_it_was(
    demo_at_first_revision: Blank, with_failing_migration: None
) -> None:
    url = demo_at_first_revision.url
    before = snapshot(url)

    with pytest.raises(Exception, match="no_such_table"):
        schema.upgrade(url)

    # Not one step of the upgrade stayed: none of 0002 onwards, not the failing one's first steps.
    assert schema.current_revision(url) == FIRST_REVISION
    assert snapshot(url) == before


def test_an_upgrade_refuses_a_database_newer_than_it_knows(blank: Blank) -> None:
    schema.upgrade(blank.url)
    engine = create_engine(blank.url, poolclass=pool.NullPool)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SchemaAhead, match="9999"):
        schema.upgrade(blank.url)


def test_a_second_upgrade_on_postgresql_refuses_while_one_holds_the_lock(blank: Blank) -> None:
    if blank.kind != "postgres":
        pytest.skip("SQLite admits one writer by itself (BEGIN IMMEDIATE)")
    schema.upgrade(blank.url, FIRST_REVISION)
    engine = create_engine(blank.url, poolclass=pool.NullPool)
    try:
        with engine.connect() as other, other.begin():
            other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            with pytest.raises(UpgradeInProgress, match="another `hms-desktop db upgrade`"):
                schema.upgrade(blank.url)
        assert schema.current_revision(blank.url) == FIRST_REVISION
        assert schema.upgrade(blank.url).after == schema.head_revision()
    finally:
        engine.dispose()
