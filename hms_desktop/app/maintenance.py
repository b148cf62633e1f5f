"""IT's maintenance commands: `db upgrade`, `db require-version`, `backup`, `restore`,
`config init`. Each prints what it did in one or two lines; a failure raises an error whose
message is the line the command line prints (see cli.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from hms_desktop.config import Settings, config_template
from hms_desktop.store import backup, meta, schema
from hms_desktop.store.schema import UpgradeResult


def _say(text: str) -> None:
    print(text)  # noqa: T201 - a command's own output


def _report_upgrade(result: UpgradeResult) -> None:
    if result.copy is not None:
        _say(f"copied the database to {result.copy} before upgrading it")
    if result.before == result.after:
        _say(f"database at revision {result.after} (already the newest)")
    else:
        _say(f"database at revision {result.after} (was {result.before or 'empty'})")


def db_upgrade(settings: Settings) -> int:
    _report_upgrade(
        schema.upgrade(settings.effective_database_url, phone_region=settings.default_phone_region)
    )
    return 0


def require_version(settings: Settings, version: str, update_location: str | None) -> int:
    """Record the oldest desktop version allowed (and where new builds are) in the database."""
    from hms_desktop.services.version_gate import parse_version

    parse_version(version)  # ValueError: "'x' is not a version number such as 1.4.2"
    url = settings.effective_database_url
    if schema.current_revision(url) != schema.head_revision():
        raise schema.SchemaError("run `hms-desktop db upgrade` first")
    values = {meta.MIN_DESKTOP_VERSION: version}
    if update_location is not None:
        values[meta.UPDATE_LOCATION] = update_location
    meta.write_meta(url, **values)
    where = meta.read_meta(url).get(meta.UPDATE_LOCATION) or settings.update_url or "(not set)"
    _say(f"desktops older than {version} now refuse to start; they are told: {where}")
    return 0


def make_backup(settings: Settings, target: Path) -> int:
    url = settings.effective_database_url
    made = backup.backup(url, target)
    size_mb = made.path.stat().st_size / 1_000_000
    # Recorded in the database itself, so `check` on any machine can say when it was.
    meta.try_write_meta(
        url,
        **{
            meta.LAST_BACKUP_AT: datetime.now(UTC).isoformat(timespec="seconds"),
            meta.LAST_BACKUP_FILE: str(made.path),
        },
    )
    _say(
        f"backup written to {made.path} ({made.kind}, schema revision "
        f"{made.revision or 'none'}, {size_mb:.1f} MB)"
    )
    return 0


def restore_backup(settings: Settings, source: Path, *, force: bool) -> int:
    url = settings.effective_database_url
    result = backup.restore(url, source, force=force, phone_region=settings.default_phone_region)
    restored = source.expanduser().resolve()
    # The database now is that backup: it is also its last backup (made when the file was).
    made_at = datetime.fromtimestamp(restored.stat().st_mtime, UTC)
    meta.try_write_meta(
        url,
        **{
            meta.LAST_BACKUP_AT: made_at.isoformat(timespec="seconds"),
            meta.LAST_BACKUP_FILE: str(restored),
        },
    )
    _say(f"restored {restored}")
    _report_upgrade(result)
    return 0


def config_init(target: Path, *, central: bool, force: bool) -> int:
    if target.exists() and not force:
        raise FileExistsError(f"{target} already exists (add --force to replace it)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(config_template(central=central), encoding="utf-8")
    if central:
        target.chmod(0o600)  # it holds the secret key and the database password
        _say(f"wrote {target}: set the database and Redis addresses (secret key generated)")
    else:
        _say(f"wrote {target}: every setting at its default, commented out")
    return 0
