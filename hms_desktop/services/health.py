"""Whether this process can do its work: its database and its Redis answer. Only the
words "ok", "unavailable" or "not configured" leave here, never an address or an error."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hms_desktop.domain.errors import LockStoreUnavailable
from hms_desktop.services.clinic import Clinic

log = logging.getLogger(__name__)

OK, UNAVAILABLE, NOT_CONFIGURED = "ok", "unavailable", "not configured"


def _database_ping(clinic: Clinic) -> None:
    with clinic.db.read() as session:
        session.execute(select(1))


def _status(what: str, ping: Callable[[], None]) -> str:
    try:
        ping()
    except (SQLAlchemyError, LockStoreUnavailable) as error:
        log.warning("health: %s unavailable: %s", what, error)
        return UNAVAILABLE
    return OK


def health(clinic: Clinic) -> dict[str, str]:
    """The database's and Redis's state. Redis is asked through the clinic's own lock store
    (the client every hold goes through), with its short socket timeouts."""
    return {
        "database": _status("database", lambda: _database_ping(clinic)),
        "redis": _status("Redis", clinic.locks.ping)
        if clinic.settings.redis_url
        else NOT_CONFIGURED,
    }


def is_healthy(checks: dict[str, str]) -> bool:
    return UNAVAILABLE not in checks.values()
