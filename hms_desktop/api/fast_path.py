"""The public's kept answers, served in front of FastAPI's router.

Profiling `serve` under wrk (README, "Measured: hms-desktop bench api") showed that once an
answer is kept, most of a public read is FastAPI itself: matching the path against every
route, resolving the dependencies, building a Request. This middleware sits inside the
request-id, edge and log middlewares (so every answer still carries its X-Request-ID and
security headers and gets its log line) and answers two kinds of request itself:

- `GET /api/version`: the route's own `VersionAnswer` (read again at most once a second);
  the route asks neither a token nor the budget, and neither does this.
- an anonymous `GET` (no Authorization header, no cookie) whose answer the route itself
  kept for exactly this path, query and server address (`AnswerCache.kept`). The same
  checks as the route run first, in the same order: the access policy is asked with the
  entry the route asked for it (never assumed), then one hit is counted against the
  caller's request budget under the same keys as `api/ratelimit.py` (one budget, whichever
  path answers). The bytes are the kept ones, in the same `Response` the route builds.

Anything else goes to FastAPI unchanged: a token or a cookie, a method other than GET, an
answer not kept (a miss, an invalid query, an error: only a route's success is kept), a
refusal by the policy, a spent budget (the route counts it again, refused, and answers the
429 with its Retry-After) or Redis unavailable (the route answers the 503).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hms_desktop.domain import policy
from hms_desktop.domain.errors import DomainError, RedisUnavailable
from hms_desktop.domain.models import ANONYMOUS
from hms_desktop.services import outages
from hms_desktop.services.clinic import Clinic

from .answer_cache import AnswerCache, answer_key
from .ratelimit import RequestBudget, budget_of

if TYPE_CHECKING:
    from .app import VersionAnswer

VERSION_PATH = "/api/version"
_PRIVATE = (b"authorization", b"cookie")
# What FastAPI's error handlers turn into an answer (api/errors.py): left to the route.
_ROUTE_ANSWERS: tuple[type[Exception], ...] = (DomainError, *outages.STORE_ERRORS)


class PublicFastPath:
    def __init__(
        self,
        app: ASGIApp,
        *,
        clinic: Clinic,
        answers: AnswerCache,
        budget: RequestBudget,
        version: VersionAnswer,
    ) -> None:
        self.app = app
        self._clinic = clinic
        self._answers = answers
        self._budget = budget
        self._version = version

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if scope["path"] == VERSION_PATH:
            try:
                body = await self._version.body()
            except _ROUTE_ANSWERS:
                # What IT published could not be read (the database is away): the route
                # reads it again and FastAPI's error handlers answer, as without this path.
                await self.app(scope, receive, send)
                return
            await Response(body, media_type="application/json")(scope, receive, send)
            return
        kept = await self._kept_for_the_public(scope)
        if kept is None:
            await self.app(scope, receive, send)
            return
        await Response(kept, media_type="application/json")(scope, receive, send)

    async def _kept_for_the_public(self, scope: Scope) -> bytes | None:
        """The kept answer once the route's checks passed, else None (FastAPI answers)."""
        for name, _ in scope["headers"]:
            if name in _PRIVATE:
                return None
        kept = self._answers.kept(answer_key(ANONYMOUS.role, scope))
        if kept is None:
            return None
        body, entry = kept
        if not isinstance(entry, tuple):
            return None  # kept without its policy entry: only the route may answer
        if not policy.allows(ANONYMOUS, *entry):  # what the route's policy.require asks
            return None
        client = scope.get("client")
        limit, bucket, key = budget_of(self._clinic, ANONYMOUS, client[0] if client else "unknown")
        try:
            if not await self._budget.hit(limit, bucket, key):
                return None
        except RedisUnavailable:
            return None
        return body
