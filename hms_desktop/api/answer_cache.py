"""Encoded answers of hot read-only endpoints, reused until the next change on any desk.

A week of a busy speciality is thousands of free slots; encoding them costs far more than
sending bytes. An answer is reused only while nothing has changed (every hold, release,
booking, reschedule, cancel and status change publishes an event that empties the cache)
and for at most `max_age` seconds, which bounds what no event announces: a hold expiring,
a slot starting.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Annotated, Protocol

from fastapi import Depends, Request

from hms_desktop.domain.models import ChangeEvent
from hms_desktop.services.backend import Subscription


class ChangeSource(Protocol):
    """Where every change of the clinic is announced (the clinic's event bus): the cache
    only learns that something changed, never hands an event to anyone."""

    def subscribe(self, listener: Callable[[ChangeEvent], None]) -> Subscription: ...


class AnswerCache:
    def __init__(
        self,
        events: ChangeSource,
        *,
        max_age: float,
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_age = max_age
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, bytes]] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()
        self._subscription = events.subscribe(self._changed) if max_age > 0 else None

    def _changed(self, _event: ChangeEvent) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def answer(self, key: Hashable, compute: Callable[[], bytes]) -> bytes:
        """The cached answer for `key`, or `compute()`'s (kept unless a change came meanwhile)."""
        if self._subscription is None:
            return compute()
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self._max_age:
                self._entries.move_to_end(key)
                return entry[1]
            generation = self._generation
        body = compute()
        with self._lock:
            # An answer computed while a change happened may already be stale: not kept.
            if generation == self._generation:
                self._entries[key] = (now, body)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
        return body

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.close()


async def get_answer_cache(request: Request) -> AnswerCache:
    return request.app.state.answer_cache


AnswerCacheDep = Annotated[AnswerCache, Depends(get_answer_cache)]
