"""A patient's hold and booking (`POST` and `PUT /appointments/me`) answered in front of
FastAPI's router.

Profiling `serve` under the booking flow (README, "Measured: hms-desktop bench api", round
5) showed FastAPI's own per-request work (matching the path, wrapping the request, solving
the dependencies, validating and serializing the response model) taking about half of the
server's time on these two writes, against a fifth in the use cases themselves. This
middleware sits where api/fast_path.py sits (inside the edge, request-id and log
middlewares) and answers the two writes itself only when it can make every check the
route makes, the same way and in the same order:

- the caller: a token this server keeps a check of (api/sign_ins.py), confirmed in Redis in
  one round trip (a log-out or deactivation on any host is seen at once);
- the body: `application/json` of a known small length, parsed and validated as FastAPI
  validates a body parameter (`json.loads`, then `SlotChoice` in Python mode);
- the request budget: one hit under the same keys as api/ratelimit.py.

Then the route's own work (`booking.hold_for`, `booking.booking_for`: the use case asks the
access policy) in a worker thread, its answer rendered as FastAPI renders the route's
response model, and a failure answered by the app's own error handlers
(`errors.answer_for`). Anything else goes to FastAPI with the body handed on unchanged: no
token or one not kept, a changed account, Redis away, another content type, a body FastAPI
would refuse (it answers the 400), a spent budget (the route counts it again and answers
the 429 with its Retry-After).
"""

from __future__ import annotations

import asyncio
import json
import weakref
from collections.abc import Callable

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hms_desktop.domain.models import Actor
from hms_desktop.services.clinic import Clinic

from .booking import SlotChoice, booking_for, hold_for
from .errors import answer_for
from .fast_path import presented_token
from .ratelimit import RequestBudget
from .sign_ins import SignIns

PATH = "/appointments/me"
# A slot choice is a few dozen bytes; anything longer (or of no stated length) is FastAPI's.
MAX_BODY_BYTES = 1024
_KINDS = ("access", "session")  # the booking API takes its session cookie too
_WORK: dict[str, tuple[Callable[[Clinic, Actor, SlotChoice], BaseModel], int]] = {
    "POST": (hold_for, 201),
    "PUT": (booking_for, 200),
}
# The writes' use cases run on this many worker threads per process, not on the default
# pool's 40: with every request of a burst in a thread of its own, the threads' turns at the
# GIL (each round trip to PostgreSQL or Redis gives it up and waits for it again) cost a
# worker more CPU per booking and queued the bookings behind each other. `bench api`, 16
# patients paced at half the in-process rate: p99 57-150 ms on 40 threads, 15-18 ms on 8
# (README, "Measured: hms-desktop bench api", round 6).
WRITE_THREADS = 8


class _Threads:
    """The writes' own few worker threads (see WRITE_THREADS), one limiter per event loop."""

    def __init__(self, tokens: int) -> None:
        self._tokens = tokens
        # Weakly: a host that runs each request in a loop of its own keeps none alive.
        self._limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = (
            weakref.WeakKeyDictionary()
        )

    def limiter(self) -> CapacityLimiter:
        loop = asyncio.get_running_loop()
        found = self._limiters.get(loop)
        if found is None:
            found = self._limiters[loop] = CapacityLimiter(self._tokens)
        return found


class BookingWrites:
    def __init__(
        self,
        app: ASGIApp,
        *,
        clinic: Clinic,
        budget: RequestBudget,
        sign_ins: SignIns,
    ) -> None:
        self.app = app
        self._clinic = clinic
        self._budget = budget
        self._sign_ins = sign_ins
        self._threads = _Threads(WRITE_THREADS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        work = _WORK.get(scope["method"]) if scope["type"] == "http" else None
        if work is None or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        actor = await self._confirmed_caller(headers) if _small_json(headers) else None
        if actor is None:
            await self.app(scope, receive, send)
            return
        messages = await _body_messages(receive)
        replay = _replaying(messages, receive)
        choice = _slot_choice(messages)
        if choice is None or not await self._budget.admits(actor, scope):
            await self.app(scope, replay, send)
            return
        answer = await self._answer(scope, actor, choice, *work)
        await answer(scope, replay, send)

    async def _confirmed_caller(self, headers: Headers) -> Actor | None:
        token = presented_token(headers)
        return await self._sign_ins.confirmed_actor(token, _KINDS) if token else None

    async def _answer(
        self,
        scope: Scope,
        actor: Actor,
        choice: SlotChoice,
        work: Callable[[Clinic, Actor, SlotChoice], BaseModel],
        status: int,
    ) -> Response:
        try:
            model = await anyio.to_thread.run_sync(
                work, self._clinic, actor, choice, limiter=self._threads.limiter()
            )
        except Exception as error:  # answered as the app's handlers answer it, else raised
            answer = await answer_for(Request(scope), error)
            if answer is None:
                raise
            return answer
        # FastAPI's rendering of `response_model`: the model in JSON mode, by alias.
        return JSONResponse(model.model_dump(mode="json", by_alias=True), status_code=status)


def _small_json(headers: Headers) -> bool:
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    length = headers.get("content-length", "")
    return media_type == "application/json" and length.isdigit() and int(length) <= MAX_BODY_BYTES


async def _body_messages(receive: Receive) -> list[Message]:
    """The request's messages up to its last body part (or a disconnect), as received."""
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            return messages


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive` for whoever answers: the messages already read, then the client's."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay


def _slot_choice(messages: list[Message]) -> SlotChoice | None:
    """The body as FastAPI validates a body parameter, or None for anything it would refuse
    (or a request the client left before its body ended)."""
    if messages[-1]["type"] != "http.request":
        return None
    body = b"".join(message.get("body", b"") for message in messages)
    try:
        return SlotChoice.model_validate(json.loads(body))
    except (ValueError, ValidationError):  # not JSON (JSONDecodeError), or not a choice
        return None
