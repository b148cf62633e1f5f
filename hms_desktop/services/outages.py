"""Which failures mean that a store is briefly away: the database (a restart, a dropped
connection, a full pool) or Redis (the lock store, the rate-limit counters). The API
answers them 503 with `Retry-After` (api/errors.py) instead of a 500 and a traceback."""

from __future__ import annotations

import redis
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hms_desktop.domain.errors import DatabaseUnavailable, DomainError, RedisUnavailable

# The exception classes to look at; `outage` decides which of their instances are outages.
STORE_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    PoolTimeout,
    redis.ConnectionError,
    redis.TimeoutError,
)


# SQLite's OperationalError also means a wrong statement or schema (a bug); only these
# say that the file is busy or cannot be reached.
_SQLITE_AWAY = ("database is locked", "unable to open database", "disk i/o error")


def _database_away(error: DBAPIError) -> bool:
    if error.connection_invalidated:
        return True
    if not isinstance(error, OperationalError):
        return False
    if type(error.orig).__module__ == "sqlite3":
        return str(error.orig).lower().startswith(_SQLITE_AWAY)
    return True  # psycopg: a refused, dropped or terminated connection, a server starting


def outage(error: BaseException) -> DomainError | None:
    """The domain error for a store that is away, or None when `error` is something else
    (a constraint, a bad statement: a bug, which stays a 500)."""
    if isinstance(error, PoolTimeout):
        return DatabaseUnavailable()
    if isinstance(error, DBAPIError):
        return DatabaseUnavailable() if _database_away(error) else None
    if isinstance(error, redis.ConnectionError | redis.TimeoutError):
        return RedisUnavailable()
    return None
