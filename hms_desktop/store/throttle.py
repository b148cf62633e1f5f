"""Counters of attempts in a moving window (the `limits` library): Redis when the clinic has
Redis, so every server process and desk shares them; otherwise this process's memory,
shared by every Clinic opened on the same database in it."""

from __future__ import annotations

import functools
import math
import threading
import time

import redis
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from hms_desktop.domain.errors import RedisUnavailable

_memories: dict[str, MemoryStorage] = {}
# How long a name's generation is kept: longer than any sensible throttle window.
GENERATION_SECONDS = 90 * 24 * 3600
_memories_lock = threading.Lock()


def _memory(channel: str) -> MemoryStorage:
    if not channel:
        return MemoryStorage()
    with _memories_lock:
        return _memories.setdefault(channel, MemoryStorage())


class Throttle:
    def __init__(self, redis_url: str = "", prefix: str = "hms:", channel: str = "") -> None:
        storage: Storage
        if redis_url:
            storage = RedisStorage(redis_url, key_prefix=f"{prefix}limits")
        else:
            storage = _memory(channel)
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    @staticmethod
    @functools.lru_cache(maxsize=64)
    def parse(limit: str) -> RateLimitItem:
        return parse(limit)

    def retry_after(self, limit: RateLimitItem, *keys: str) -> int | None:
        """Seconds until another attempt is allowed, or None when one is allowed now."""
        try:
            if self._limiter.test(limit, *keys):
                return None
            stats = self._limiter.get_window_stats(limit, *keys)
        except redis.RedisError as error:
            raise RedisUnavailable() from error
        return max(1, math.ceil(stats.reset_time - time.time()))

    def hit(self, limit: RateLimitItem, *keys: str) -> bool:
        """Count one attempt; False when it went over the limit."""
        try:
            return self._limiter.hit(limit, *keys)
        except redis.RedisError as error:
            raise RedisUnavailable() from error

    def clear(self, limit: RateLimitItem, *keys: str) -> None:
        try:
            self._limiter.clear(limit, *keys)
        except redis.RedisError as error:
            raise RedisUnavailable() from error

    def generation(self, name: str) -> str:
        """The current generation of a name's counters: part of their keys, so `forget`
        sets every counter kept under the name back to zero at once, wherever it was made."""
        try:
            return str(self._storage.get(f"generation/{name}"))
        except redis.RedisError as error:
            raise RedisUnavailable() from error

    def forget(self, name: str) -> None:
        """Start a new generation for `name` (its old counters lapse with their windows)."""
        try:
            self._storage.incr(f"generation/{name}", GENERATION_SECONDS)
        except redis.RedisError as error:
            raise RedisUnavailable() from error
