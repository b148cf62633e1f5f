"""Rate limits with the `limits` library: Redis counters when the clinic has Redis (several
server processes share them), memory otherwise."""

from __future__ import annotations

import math
import time
from typing import Annotated

import jwt
from fastapi import Depends, Request
from limits import parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from hms_desktop.config import Settings
from hms_desktop.services.accounts import ALGORITHM

from .deps import BearerDep, presented_token
from .errors import RateLimited


class RateLimits:
    def __init__(self, settings: Settings) -> None:
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage(settings.redis_url, key_prefix=f"{settings.redis_prefix}limits")
        else:
            storage = MemoryStorage()
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)
        self._secret = settings.secret_key
        self.login = parse(settings.rate_limit_login)
        self.default = parse(settings.rate_limit_default)

    def _retry_after(self, item: object, *keys: str) -> int:
        stats = self._limiter.get_window_stats(item, *keys)  # type: ignore[arg-type]
        return max(1, math.ceil(stats.reset_time - time.time()))

    def hit_default(self, key: str) -> None:
        if not self._limiter.hit(self.default, "default", key):
            raise RateLimited(self._retry_after(self.default, "default", key))

    def check_login(self, address: str, username: str) -> None:
        """Refuse a log-in or registration after too many failures from this address+name."""
        keys = ("login", address, username.strip().lower())
        if not self._limiter.test(self.login, *keys):
            raise RateLimited(self._retry_after(self.login, *keys))

    def record_login_failure(self, address: str, username: str) -> None:
        self._limiter.hit(self.login, "login", address, username.strip().lower())

    def client_key(self, token: str | None, address: str) -> str:
        """Per user when a valid token is presented, else per client address."""
        if token:
            try:
                claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM])
            except jwt.PyJWTError:
                claims = {}
            if "sub" in claims:
                return f"user:{claims['sub']}"
        return f"addr:{address}"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_rate_limits(request: Request) -> RateLimits:
    return request.app.state.rate_limits


RateLimitsDep = Annotated[RateLimits, Depends(get_rate_limits)]


def default_rate_limit(request: Request, limits: RateLimitsDep, bearer: BearerDep) -> None:
    """The per-user (or per-address) request budget every endpoint shares."""
    limits.hit_default(limits.client_key(presented_token(request, bearer), client_address(request)))
