"""Which failures mean that a store is briefly away: the database (a restart, a dropped
connection, a full pool) or Redis (the lock store, the rate-limit counters). The API
answers them 503 with `Retry-After` (api/errors.py) instead of a 500 and a traceback."""

from __future__ import annotations

import redis
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hms_desktop.domain.errors import DatabaseUnavailable, DomainError, RedisUnavailable

# The exception classes to look at; `outage` decides which of their instances are outages.
STORE_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    PoolTimeout,
    redis.ConnectionError,
    redis.TimeoutError,
)


def outage(error: BaseException) -> DomainError | None:
    """The domain error for a store that is away, or None when `error` is something else
    (a constraint, a bad statement: a bug, which stays a 500)."""
    if isinstance(error, PoolTimeout):
        return DatabaseUnavailable()
    if isinstance(error, DBAPIError):
        lost = isinstance(error, OperationalError | InterfaceError) or error.connection_invalidated
        return DatabaseUnavailable() if lost else None
    if isinstance(error, redis.ConnectionError | redis.TimeoutError):
        return RedisUnavailable()
    return None
