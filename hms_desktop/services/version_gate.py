"""Whether this hms-desktop may use the configured database: the database names the oldest
desktop version allowed (`hms-desktop db require-version`) and its schema revision must be
the one this build migrates to. A desktop that fails the gate says which version it needs and
where IT put it, and does not start half-working."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from alembic.runtime.migration import MigrationContext
from packaging.version import InvalidVersion, Version
from sqlalchemy import create_engine, inspect, pool, select
from sqlalchemy.exc import SQLAlchemyError

import hms_desktop
from hms_desktop.config import Settings
from hms_desktop.domain.errors import DomainError
from hms_desktop.store import meta, schema
from hms_desktop.store.db import ensure_sqlite_folder
from hms_desktop.store.tables import MetaEntry

if TYPE_CHECKING:  # clinic.py asks this module at open; no import cycle at run time
    from hms_desktop.services.clinic import Clinic

log = logging.getLogger(__name__)


class IncompatibleDatabase(DomainError):
    """This program and the database do not fit; the message says what IT must do."""

    kind = "unavailable"
    message = "The database schema is not up to date. Run `hms-desktop db upgrade` first."


def parse_version(text: str) -> Version:
    """A release number such as 1.4.2; ValueError names the bad text."""
    try:
        return Version(text)
    except InvalidVersion as error:
        raise ValueError(f"{text!r} is not a version number such as 1.4.2") from error


def _read_state(url: str) -> tuple[str | None, dict[str, str]]:
    """The schema revision and the hms_meta entries, over one connection."""
    ensure_sqlite_folder(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            revision = MigrationContext.configure(connection).get_current_revision()
            if not inspect(connection).has_table(MetaEntry.__tablename__):
                return revision, {}
            rows = connection.execute(select(MetaEntry.key, MetaEntry.value))
            return revision, {key: value for key, value in rows}
    finally:
        engine.dispose()


def gate_problem(
    settings: Settings, *, version: str = hms_desktop.__version__, migrates: bool = False
) -> str | None:
    """What stops this version from using the database, in words for the desk and IT; None
    when nothing does. `migrates`: the caller upgrades a schema that is behind (embedded)."""
    revision, entries = _read_state(settings.effective_database_url)
    where = entries.get(meta.UPDATE_LOCATION) or settings.update_url
    get_it = f"IT puts it here: {where}" if where else "Ask IT to install it."
    required = entries.get(meta.MIN_DESKTOP_VERSION)
    too_old = bool(required) and _older(version, required or "")
    if too_old or (revision is not None and revision not in schema.known_revisions()):
        needed = f"version {required} or newer" if too_old else "a newer version"
        return (
            f"This hms-desktop (version {version}) is too old for the clinic database: it "
            f"needs {needed}. {get_it}"
        )
    if revision != schema.head_revision() and not migrates:
        return (
            f"The clinic database has not been upgraded for hms-desktop {version} (schema "
            f"{revision or 'none'}, this version needs {schema.head_revision()}). Ask IT to "
            "run `hms-desktop db upgrade`."
        )
    return None


def _older(version: str, required: str) -> bool:
    try:
        return parse_version(version) < parse_version(required)
    except ValueError:
        log.warning("unreadable min_desktop_version %r in the database; ignored", required)
        return False


def require_compatible(settings: Settings, *, migrates: bool = False) -> None:
    """Raise IncompatibleDatabase with the gate's message when this version may not start."""
    problem = gate_problem(settings, migrates=migrates)
    if problem is not None:
        raise IncompatibleDatabase(problem)


def startup_problem(settings: Settings) -> str | None:
    """The gate at a local desktop's start; an unreachable database is not a version
    problem (the desk shows its connection banner and keeps retrying)."""
    if settings.is_remote:
        return None  # the API version handshake at log-in is remote mode's gate
    try:
        return gate_problem(settings, migrates=settings.is_embedded)
    except SQLAlchemyError as error:
        log.warning("version gate skipped, database unreachable: %s", error)
        return None


def published_requirements(clinic: Clinic) -> dict[str, str]:
    """What IT set with `db require-version`, for the server's `GET /api/version`: remote
    desks cannot read the database, so they learn the minimum (and where it is) there."""
    with clinic.db.read() as session:
        rows = session.execute(
            select(MetaEntry.key, MetaEntry.value).where(
                MetaEntry.key.in_([meta.MIN_DESKTOP_VERSION, meta.UPDATE_LOCATION])
            )
        )
        return {key: value for key, value in rows}
