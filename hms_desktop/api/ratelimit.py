"""The per-caller request budget every endpoint shares. Patients (and the anonymous) get
`rate_limit_default`: per user with a token, per client address without. The clinic's own
people (staff and doctors, whose desks work all day) get `rate_limit_desk`, counted per
account and desk address: one shared reception account on five desks is five budgets.
Counters live where the clinic's throttle keeps them (Redis when configured, so every
server process shares them).

Every request counts one hit, so the hit is asked from the event loop over an asyncio Redis
client (the same `limits` moving window, the same keys as the clinic's throttle: one
counter per caller whichever process or host counts it) instead of a worker thread per
request; without Redis the clinic's in-memory counters are asked directly (no I/O)."""

from __future__ import annotations

import asyncio
import math
import time

import redis
from fastapi import Depends, Request
from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import Scope

from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import RateLimited, RedisUnavailable
from hms_desktop.domain.models import Actor
from hms_desktop.services.clinic import Clinic

from .deps import ClinicDep, CurrentUser, refuse_the_public_first

# The Redis URLs the asyncio client takes; any other (a socket path) is counted by the
# clinic's own throttle in a worker thread.
_ASYNC_SCHEMES = ("redis://", "rediss://")


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


DESK_ROLES = frozenset({Role.ADMIN, Role.RECEPTIONIST, Role.DOCTOR})


class RequestBudget:
    """The clinic's request counters, asked from the event loop (one per app)."""

    def __init__(self, clinic: Clinic) -> None:
        self._clinic = clinic
        settings = clinic.settings
        self._url = settings.redis_url if settings.redis_url.startswith(_ASYNC_SCHEMES) else ""
        self._prefix = f"{settings.redis_prefix}limits"  # as store/throttle.py keys them
        self._loop: asyncio.AbstractEventLoop | None = None
        self._limiter: MovingWindowRateLimiter | None = None

    def _async_limiter(self) -> MovingWindowRateLimiter:
        # An asyncio client belongs to the loop it was made on (one per server process).
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._loop is not loop:
            storage = RedisStorage(
                f"async+{self._url}", implementation="redispy", key_prefix=self._prefix
            )
            self._limiter, self._loop = MovingWindowRateLimiter(storage), loop
        return self._limiter

    async def hit(self, limit: RateLimitItem, *keys: str) -> bool:
        """Count one request; False when it went over the limit."""
        if not self._url:
            return self._clinic.throttle.hit(limit, *keys)
        try:
            return await self._async_limiter().hit(limit, *keys)
        except redis.RedisError as error:
            raise RedisUnavailable() from error

    async def admits(self, user: Actor, scope: Scope) -> bool:
        """One hit counted for `user` calling from the scope's client, under the keys
        `default_rate_limit` counts (for the paths that answer before FastAPI's router);
        False when the budget is spent or Redis is unavailable: the route answers then."""
        client = scope.get("client")
        limit, bucket, key = budget_of(self._clinic, user, client[0] if client else "unknown")
        try:
            return await self.hit(limit, bucket, key)
        except RedisUnavailable:
            return False

    async def retry_after(self, limit: RateLimitItem, *keys: str) -> int:
        if not self._url:
            return self._clinic.throttle.retry_after(limit, *keys) or 1
        try:
            stats = await self._async_limiter().get_window_stats(limit, *keys)
        except redis.RedisError as error:
            raise RedisUnavailable() from error
        return max(1, math.ceil(stats.reset_time - time.time()))


def budget_of(clinic: Clinic, user: Actor, host: str) -> tuple[RateLimitItem, str, str]:
    """The limit and the counter keys (bucket, key) of `user` calling from `host`."""
    settings, address = clinic.settings, f"addr:{host}"
    if user.role in DESK_ROLES:
        bucket, setting, key = "desk", settings.rate_limit_desk, f"user:{user.user_id}:{address}"
    else:
        bucket, setting = "default", settings.rate_limit_default
        key = f"user:{user.user_id}" if user.user_id is not None else address
    return clinic.throttle.parse(setting), bucket, key


async def default_rate_limit(request: Request, clinic: ClinicDep, user: CurrentUser) -> None:
    limit, bucket, key = budget_of(clinic, user, client_address(request))
    budget: RequestBudget = request.app.state.request_budget
    if not await budget.hit(limit, bucket, key):
        raise RateLimited.after(await budget.retry_after(limit, bucket, key))


# What every route of the three APIs runs first: the public refused where the policy keeps
# it out (before the body is read), then the caller's request budget.
EVERY_REQUEST = [Depends(refuse_the_public_first), Depends(default_rate_limit)]
