"""The public's kept answers, served in front of FastAPI's router.

Profiling `serve` under wrk (README, "Measured: hms-desktop bench api") showed that once an
answer is kept, most of a public read is FastAPI itself: matching the path against every
route, resolving the dependencies, building a Request. This middleware sits inside the
request-id, edge and log middlewares (so every answer still carries its X-Request-ID and
security headers and gets its log line) and answers three kinds of request itself:

- `GET /api/version`: the route's own `VersionAnswer` (read again at most once a second);
  the route asks neither a token nor the budget, and neither does this.
- an anonymous `GET` (no Authorization header, no cookie) whose answer the route itself
  kept for exactly this path, query and server address (`AnswerCache.kept`). The same
  checks as the route run first, in the same order: the access policy is asked with the
  entry the route asked for it (never assumed), then one hit is counted against the
  caller's request budget under the same keys as `api/ratelimit.py` (one budget, whichever
  path answers). The bytes are the kept ones, in the same `Response` the route builds.

- a patient's `GET /appointments` (no query) with a token this server's kept check names
  (api/sign_ins.py) and a list kept for that patient (api/patient_answers.py): one Redis
  read confirms both (the account's keys unchanged since the check, and neither the
  account's nor the patient's nor the clinic's change keys since the list was read), then
  the policy is asked what the route's query asks (`APPOINTMENT`, `READ`), then the budget.

Anything else goes to FastAPI unchanged: a token or a cookie (but on the patient's read),
a method other than GET, an answer not kept (a miss, an invalid query, an error: only a
route's success is kept), a changed key, a refusal by the policy, a spent budget (the
route counts it again, refused, and answers the 429 with its Retry-After) or Redis
unavailable (the route checks the token in SQL and answers the 503).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Response
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from hms_desktop.domain import policy
from hms_desktop.domain.errors import DomainError, RedisUnavailable
from hms_desktop.domain.models import ANONYMOUS
from hms_desktop.domain.policy import Action, Kind
from hms_desktop.services import outages
from hms_desktop.services.clinic import Clinic

from .answer_cache import AnswerCache, answer_key
from .deps import SESSION_COOKIE
from .patient_answers import PatientAnswers
from .ratelimit import RequestBudget
from .sign_ins import SignIns

if TYPE_CHECKING:
    from .app import VersionAnswer

VERSION_PATH = "/api/version"
PATIENT_PATH = "/appointments"  # the booking API's: its session cookie counts
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
        sign_ins: SignIns,
        patients: PatientAnswers,
    ) -> None:
        self.app = app
        self._sign_ins = sign_ins
        self._patients = patients
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
        if scope["path"] == PATIENT_PATH:
            kept = await self._kept_for_a_patient(scope)
        else:
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
        return body if await self._budget.admits(ANONYMOUS, scope) else None

    async def _kept_for_a_patient(self, scope: Scope) -> bytes | None:
        """The patient's kept list once the route's checks passed, else None."""
        if scope["query_string"]:
            return None
        token = presented_token(Headers(scope=scope))
        check = self._sign_ins.kept(token, ("access", "session")) if token else None
        if check is None:
            return None
        actor = check.actor
        kept = self._patients.kept(actor) if self._patients.keeps(actor) else None
        if kept is None or not policy.allows(actor, Kind.APPOINTMENT, Action.READ):
            return None
        try:
            values = await self._sign_ins.keys.read(self._patients.version_keys(actor))
        except RedisUnavailable:
            return None
        if not self._sign_ins.confirmed(check, values[:2]):
            return None  # the account changed: FastAPI checks the token in SQL
        if not self._patients.confirmed(kept, values):
            return None
        return kept.body if await self._budget.admits(actor, scope) else None


def presented_token(headers: Headers) -> str | None:
    """What api/deps.presented_token takes on the booking API: `Authorization: Bearer`'s
    credentials (HTTPBearer's parsing), else the session cookie."""
    scheme, credentials = get_authorization_scheme_param(headers.get("authorization"))
    if scheme.lower() == "bearer" and credentials:
        return credentials
    return cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE) or None
