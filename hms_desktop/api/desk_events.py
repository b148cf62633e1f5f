"""`GET /desk/v1/events`: the desk's live changes as server-sent events.

Each stream carries what its caller may see (services/changes.py). It lasts as long as
the log-in that opened it: the token is checked again every few heartbeats, so a stream
ends within those of a log-out, the token's expiry or the account's deactivation (the desk
reconnects with a fresh token). One account holds at most `max_event_streams_per_user`
streams at once.

The heartbeat's check also tells whether the database (and Redis) answer: while one is
away the stream says so (`store_unavailable`, with the message a request would get as its
503) and checks again every `OUTAGE_PROBE_SECONDS`; once it answers, `store_available`.
The desk shows and clears its banner from these, even when nobody clicks. When the server
is asked to stop, every stream ends at once (the desks reconnect to the next server, or show
that they are offline), so open streams never hold a shutdown up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
import weakref
from collections import Counter
from collections.abc import AsyncIterator
from types import FrameType
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from hms_desktop.domain.errors import (
    DomainError,
    LockStoreUnavailable,
    RateLimited,
    RedisUnavailable,
)
from hms_desktop.domain.models import STORE_AWAY, STORE_BACK, ChangeEvent, to_jsonable
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import accounts, changes, outages
from hms_desktop.services.clinic import Clinic

from .deps import ClinicDep, DeskUser, PresentedToken
from .openapi import access
from .ratelimit import EVERY_REQUEST

log = logging.getLogger(__name__)

# A comment line this often keeps proxies from closing an idle stream and lets the
# desktop notice a dead connection within seconds (it gives up after two missed ones).
HEARTBEAT_SECONDS = 2.0
# The log-in and the stores are asked at every this many heartbeats (a database read each
# time: every 4 s, not every 2), and at every probe while a store is away.
TOKEN_CHECK_HEARTBEATS = 2
# While a store is away, it is asked this often whether it is back.
OUTAGE_PROBE_SECONDS = 2.0

router = APIRouter(dependencies=EVERY_REQUEST)


class TooManyStreams(RateLimited):
    message = "This account has too many live update streams open. Try again in {seconds} s."


def _open_streams(request: Request) -> Counter[int]:
    streams: Counter[int] | None = getattr(request.app.state, "event_streams", None)
    if streams is None:
        streams = request.app.state.event_streams = Counter()
    return streams


def _check(clinic: Clinic, token: str) -> DomainError | bool:
    """True while the log-in holds, False once it does not; the domain error of a store
    that is away (the log-in cannot be checked then, so the stream stays open)."""
    try:
        accounts.verify_token(clinic, token, ("access",))
        if clinic.settings.redis_url:
            try:
                clinic.locks.ping()
            except LockStoreUnavailable:
                return RedisUnavailable()
    except DomainError as error:
        return error if error.kind == "unavailable" else False
    except outages.STORE_ERRORS as error:
        away = outages.outage(error)
        if away is None:
            raise
        return away
    return True


def _frame(event: ChangeEvent) -> str:
    return f"data: {json.dumps(to_jsonable(event))}\n\n"


# None in a stream's queue: the server is stopping, the stream ends.
Queue = asyncio.Queue[ChangeEvent | None]


class _OpenStreams:
    """The queues of the streams one server (one event loop) is sending, so a stop can end
    them all together."""

    def __init__(self) -> None:
        self.queues: set[Queue] = set()
        self.stopping = False

    def end_all(self) -> None:
        self.stopping = True
        for queue in self.queues:
            queue.put_nowait(None)


_servers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _OpenStreams] = (
    weakref.WeakKeyDictionary()
)


def _open_streams_here() -> _OpenStreams:
    return _servers.setdefault(asyncio.get_running_loop(), _OpenStreams())


def end_streams() -> None:
    """End every event stream of the server running on this event loop, now."""
    _open_streams_here().end_all()


def end_streams_on_stop() -> None:
    """Called at the server's start-up: the stop signals (SIGTERM, Ctrl+C) end the event
    streams first, then go on to the server's own handler. uvicorn otherwise waits for the
    streams, which never end by themselves, until its graceful-shutdown timeout cuts them
    (with an ERROR line). Only a server on the main thread receives signals."""
    if threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    streams = _open_streams_here()
    for number in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(number)

        def handler(signum: int, frame: FrameType | None, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(streams.end_all)
            if callable(previous):
                previous(signum, frame)

        signal.signal(number, handler)


async def _event_stream(
    clinic: Clinic, token: str, queue: Queue, release: object
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    away: DomainError | None = None
    beats = 0
    # The next heartbeat is due on time even while events keep coming (a busy clinic is
    # never idle, and its desks still need to know the log-in and the stores hold).
    beat_at = loop.time() + HEARTBEAT_SECONDS
    try:
        # At once, so the desk knows it is subscribed before it relies on the stream.
        yield ": connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), max(0.0, beat_at - loop.time()))
            except TimeoutError:
                pass
            else:
                if event is None:
                    return  # the server is stopping
                yield _frame(event)
                if loop.time() < beat_at:
                    continue
            beats += 1
            if away is not None or beats % TOKEN_CHECK_HEARTBEATS == 0:
                state = await asyncio.to_thread(_check, clinic, token)
                if state is False:
                    return  # logged out, expired or deactivated: the desk reconnects
                if isinstance(state, DomainError):
                    if away is None or type(away) is not type(state):
                        log.info("event stream: %s", type(state).__name__)
                        yield _frame(_store_event(STORE_AWAY, state.message))
                    away = state
                elif away is not None:
                    away = None
                    yield _frame(_store_event(STORE_BACK, ""))
            yield ": heartbeat\n\n"
            wait = OUTAGE_PROBE_SECONDS if away is not None else HEARTBEAT_SECONDS
            beat_at = loop.time() + wait
    finally:
        release()  # type: ignore[operator]


def _store_event(kind: str, message: str) -> ChangeEvent:
    return ChangeEvent(kind=kind, extra={"message": message} if message else {})


@router.get(
    "/events",
    response_class=StreamingResponse,
    summary="Change events as server-sent events",
    description=(
        "A `text/event-stream`: each change the caller may see as `data: <ChangeEvent "
        f"JSON>`, and a `: heartbeat` comment every {HEARTBEAT_SECONDS:.0f} s. The stream "
        "ends with the log-in that opened it, and when the server stops; after a dropped "
        "connection the desk reconnects and reloads what it shows."
    ),
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}}},
    openapi_extra=access(Kind.EVENT, Action.READ),
)
async def events(
    request: Request, clinic: ClinicDep, actor: DeskUser, token: PresentedToken
) -> StreamingResponse:
    assert token is not None and actor.user_id is not None  # DeskUser: logged in
    streams = _open_streams(request)
    if streams[actor.user_id] >= clinic.settings.max_event_streams_per_user:
        raise TooManyStreams.after(int(HEARTBEAT_SECONDS))
    loop = asyncio.get_running_loop()
    queue: Queue = asyncio.Queue()
    open_streams = _open_streams_here()
    if open_streams.stopping:
        queue.put_nowait(None)

    def deliver(event: ChangeEvent) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        except RuntimeError:  # the server's loop is already closed: nobody is listening
            log.debug("change event after the stream closed: %s", event.kind)

    subscription = await asyncio.to_thread(changes.follow, clinic, actor, deliver)
    streams[actor.user_id] += 1
    open_streams.queues.add(queue)
    user_id = actor.user_id

    def release() -> None:
        streams[user_id] -= 1
        open_streams.queues.discard(queue)
        # The desk went away (or the server stops): stop listening, without blocking the loop.
        loop.run_in_executor(None, subscription.close)

    return StreamingResponse(
        _event_stream(clinic, token, queue, release),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
