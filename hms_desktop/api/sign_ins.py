"""Token checks kept per server process, each checked again in Redis on every use.

Profiling a patient's `GET /appointments` (README, "Measured: hms-desktop bench api")
showed the token check's SQL, in a worker thread, on every call. A server keeps the
acting user a token named (`accounts.verify_token`'s answer) with the values the account's
keys held in Redis before that check read SQL (services/account_versions.py: every write of
an account on any desk, server or command gives them new values). A kept check is used
only while:

- the token has not expired (its `exp`, as the check reads it), its type is one this API
  takes, and it was kept less than `MAX_KEPT_SECONDS` ago;
- both keys still hold those values: one Redis round trip on the event loop per request,
  so a log-out, a deactivation or a reset password on any host is refused here at once.

Anything else checks the token again in SQL (in a worker thread), as without this: a kept
check that cannot be confirmed (Redis unavailable) is never trusted. Without Redis (an
embedded clinic, whose desks and workers write accounts in other processes) nothing is kept.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import redis
import redis.asyncio
from starlette.concurrency import run_in_threadpool

from hms_desktop.domain.errors import RedisUnavailable
from hms_desktop.domain.models import Actor
from hms_desktop.services import accounts
from hms_desktop.services.account_versions import KEY_SECONDS, account_key
from hms_desktop.services.clinic import Clinic

# Even confirmed, a check is read again from SQL this often: the one moment it could be
# kept wrongly (Redis lost between a change's two key writes, services/account_versions.py)
# lasts no longer than this.
MAX_KEPT_SECONDS = 60.0
MAX_KEPT_TOKENS = 8192
_ASYNC_SCHEMES = ("redis://", "rediss://")

Values = tuple[bytes | None, ...]


class RedisKeys:
    """Reads of version keys over an asyncio Redis client (one per event loop)."""

    def __init__(self, url: str) -> None:
        self._url = url if url.startswith(_ASYNC_SCHEMES) else ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: redis.asyncio.Redis | None = None

    @property
    def enabled(self) -> bool:
        return bool(self._url)

    def _redis(self) -> redis.asyncio.Redis:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = redis.asyncio.Redis.from_url(
                self._url, socket_connect_timeout=2, socket_timeout=2
            )
            self._loop = loop
        return self._client

    async def read(self, keys: tuple[str, ...]) -> Values:
        try:
            # bytes (no decode_responses), or None for a missing key
            return cast(Values, tuple(await self._redis().mget(keys)))
        except redis.RedisError as error:
            raise RedisUnavailable() from error

    async def settle(self, keys: tuple[str, ...]) -> Values:
        """The keys' values, each first set to a fresh value when missing: a value read here
        and kept is never None, so a key that later disappears reads as a change."""
        pipeline = self._redis().pipeline(transaction=False)
        for key in keys:
            pipeline.set(key, uuid.uuid4().hex, nx=True, ex=KEY_SECONDS)
        pipeline.mget(keys)
        try:
            answers = await pipeline.execute()
        except redis.RedisError as error:
            raise RedisUnavailable() from error
        return tuple(answers[-1])


@dataclass(frozen=True)
class KeptCheck:
    actor: Actor
    token_type: str
    expires: float  # the token's `exp`
    kept_at: float
    keys: tuple[str, ...]  # the clinic's and the account's keys
    values: Values  # what they held before the check read SQL


class SignIns:
    """The token checks this server process keeps (api/deps.get_current_user asks it)."""

    def __init__(
        self,
        clinic: Clinic,
        keys: RedisKeys,
        *,
        max_entries: int = MAX_KEPT_TOKENS,
        clock: Callable[[], float] = time.time,  # the clock PyJWT checks `exp` with
    ) -> None:
        self._clinic = clinic
        self.keys = keys
        self._prefix = clinic.settings.redis_prefix
        self._max_entries = max_entries
        self._clock = clock
        self._kept: OrderedDict[str, KeptCheck] = OrderedDict()

    def kept(self, token: str, kinds: tuple[str, ...]) -> KeptCheck | None:
        """The kept check of `token` while it may still be used, once confirmed in Redis."""
        check = self._kept.get(token)
        if check is None:
            return None
        now = self._clock()
        if now >= check.expires or now - check.kept_at >= MAX_KEPT_SECONDS:
            del self._kept[token]
            return None
        return check if check.token_type in kinds else None

    @staticmethod
    def confirmed(check: KeptCheck, values: Values) -> bool:
        """Whether the account's keys, read now (`values`), still hold what `check` read."""
        return None not in values and values == check.values

    async def confirmed_actor(self, token: str, kinds: tuple[str, ...]) -> Actor | None:
        """The acting user of `token`'s kept check once Redis confirms it, else None (no
        check kept, the account changed, or Redis unavailable: never trusted unconfirmed)."""
        check = self.kept(token, kinds)
        if check is None:
            return None
        try:
            values = await self.keys.read(check.keys)
        except RedisUnavailable:
            return None
        return check.actor if self.confirmed(check, values) else None

    async def actor(self, token: str, kinds: tuple[str, ...]) -> Actor:
        """The acting user `token` names: a kept check confirmed in Redis, else SQL's."""
        if not self.keys.enabled:
            return await run_in_threadpool(accounts.verify_token, self._clinic, token, kinds)
        kept = await self.confirmed_actor(token, kinds)
        return kept if kept is not None else await self._checked(token, kinds)

    async def _checked(self, token: str, kinds: tuple[str, ...]) -> Actor:
        claims = accounts.token_claims(self._clinic, token, kinds)  # a bad one is a 401 here
        keys = (account_key(self._prefix, None), account_key(self._prefix, int(claims["sub"])))
        try:
            values: Values | None = await self.keys.settle(keys)  # before SQL is read
        except RedisUnavailable:
            values = None
        actor = await run_in_threadpool(accounts.verify_token, self._clinic, token, kinds)
        if values is not None and None not in values:
            self._kept[token] = KeptCheck(
                actor, str(claims["type"]), float(claims["exp"]), self._clock(), keys, values
            )
            self._kept.move_to_end(token)
            while len(self._kept) > self._max_entries:
                self._kept.popitem(last=False)
        return actor

    def forget(self) -> None:
        self._kept.clear()
