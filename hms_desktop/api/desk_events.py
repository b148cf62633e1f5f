"""`GET /desk/v1/events`: the desk's live changes as server-sent events.

Each stream carries what its caller may see (services/changes.py). It lasts as long as
the log-in that opened it: the token is checked again at every heartbeat, so a stream
ends within one of a log-out, the token's expiry or the account's deactivation (the desk
reconnects with a fresh token). One account holds at most `max_event_streams_per_user`
streams at once.

The heartbeat's check also tells whether the database (and Redis) answer: while one is
away the stream says so (`store_unavailable`, with the message a request would get as its
503) and checks again every `OUTAGE_PROBE_SECONDS`; once it answers, `store_available`.
The desk shows and clears its banner from these, even when nobody clicks.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator

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
# desktop notice a dead connection (it gives up after a few missed heartbeats).
HEARTBEAT_SECONDS = 10.0
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


async def _event_stream(
    clinic: Clinic, token: str, queue: asyncio.Queue[ChangeEvent], release: object
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    away: DomainError | None = None
    # Checked on time even while events keep coming (a busy clinic is never idle).
    check_at = loop.time() + HEARTBEAT_SECONDS
    try:
        # At once, so the desk knows it is subscribed before it relies on the stream.
        yield ": connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), max(0.0, check_at - loop.time()))
            except TimeoutError:
                pass
            else:
                yield _frame(event)
                if loop.time() < check_at:
                    continue
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
            check_at = loop.time() + wait
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
        "ends with the log-in that opened it; after a dropped connection the desk "
        "reconnects and reloads what it shows."
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
    queue: asyncio.Queue[ChangeEvent] = asyncio.Queue()

    def deliver(event: ChangeEvent) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, event)
        except RuntimeError:  # the server's loop is already closed: nobody is listening
            log.debug("change event after the stream closed: %s", event.kind)

    subscription = await asyncio.to_thread(changes.follow, clinic, actor, deliver)
    streams[actor.user_id] += 1
    user_id = actor.user_id

    def release() -> None:
        streams[user_id] -= 1
        # The desk went away (or the server stops): stop listening, without blocking the loop.
        loop.run_in_executor(None, subscription.close)

    return StreamingResponse(
        _event_stream(clinic, token, queue, release),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
