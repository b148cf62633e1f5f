"""Encoded answers of hot read-only endpoints, reused until the next change on any desk.

A week of a busy speciality is thousands of free slots; encoding them costs far more than
sending bytes; a catalogue list or a doctor's profile costs a worker thread, SQL and
validation for a few kilobytes that change once a week. Only the public's answers are kept
(`public_answer`): the same for every anonymous caller and patient, never one user's own.

An answer is reused only while nothing has changed (every hold, release,
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

from fastapi import Depends, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from hms_desktop.domain import policy
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import Actor, ChangeEvent
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
        # key -> (when computed, body, the policy entry the route asked for it)
        self._entries: OrderedDict[Hashable, tuple[float, bytes, Hashable]] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()
        self._subscription = events.subscribe(self._changed) if max_age > 0 else None

    def _changed(self, _event: ChangeEvent) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()

    def kept(self, key: Hashable) -> tuple[bytes, Hashable] | None:
        """The answer kept for `key` and the policy entry its route asked before computing
        it, or None (nothing kept, or too old): never computes (api/fast_path.py)."""
        if self._subscription is None:
            return None
        now = self._clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and now - entry[0] < self._max_age:
                self._entries.move_to_end(key)
                return entry[1], entry[2]
        return None

    def answer(
        self, key: Hashable, compute: Callable[[], bytes], entry_of: Hashable = None
    ) -> bytes:
        """The cached answer for `key`, or `compute()`'s (kept unless a change came meanwhile,
        with `entry_of`: the policy entry the route asked for it)."""
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
                self._entries[key] = (now, body, entry_of)
                self._entries.move_to_end(key)
                while len(self._entries) > self._max_entries:
                    self._entries.popitem(last=False)
        return body

    async def served(
        self, key: Hashable, compute: Callable[[], bytes], entry_of: Hashable = None
    ) -> bytes:
        """`answer` from the event loop: a kept answer at once, without a worker thread;
        only a computation (SQL, encoding) runs in one."""
        if self._subscription is not None:
            now = self._clock()
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and now - entry[0] < self._max_age:
                    self._entries.move_to_end(key)
                    return entry[1]
        return await run_in_threadpool(self.answer, key, compute, entry_of)

    def close(self) -> None:
        if self._subscription is not None:
            self._subscription.close()


async def get_answer_cache(request: Request) -> AnswerCache:
    return request.app.state.answer_cache


AnswerCacheDep = Annotated[AnswerCache, Depends(get_answer_cache)]


def answer_key(role: Role, scope: Scope) -> Hashable:
    """What a public answer is kept under: role, path, query and server address."""
    server = scope.get("server")  # a tuple from uvicorn, a list from some test clients
    return (role, scope["path"], scope["query_string"], tuple(server) if server else None)


# Whose answers are kept: the public's view of public records (the desk's view of a
# doctor or the catalogue may show more, e.g. a deactivated doctor, and is never cached).
PUBLIC_ROLES = frozenset({Role.ANONYMOUS, Role.PATIENT})


async def public_answer(
    request: Request,
    answers: AnswerCache,
    user: Actor,
    allowed: tuple[policy.Kind, policy.Action],
    compute: Callable[[], bytes],
) -> Response:
    """The JSON answer `compute()` encodes for this request, kept for the public per role,
    path, query and server address (links in it are built from that). The policy is asked
    first, cached or not: a kept answer never skips a check."""
    policy.require(user, *allowed)
    if user.role in PUBLIC_ROLES:
        scope = request.scope
        key = answer_key(user.role, scope)
        body = await answers.served(key, compute, allowed)
    else:
        body = await run_in_threadpool(compute)
    return Response(body, media_type="application/json")
