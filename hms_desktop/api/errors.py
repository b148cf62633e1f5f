"""Every error leaves the server as JSON. Domain error kinds map to status codes here, once.

Each API document has its own error body: the booking API `{"error": ...}`, the hospital
API DRF-style `{"detail": ...}` (plus `{field: [message]}` for a field's error), the desk
API `{"error", "kind", "field", "type"}` (and `fields`, every wrong field's message, when a
form has several) so the remote client can rebuild the domain exception (`type`: its class
name, when a domain error raised it). Each document answers
only with the status codes it lists (plus 429 and 503, which any server may send): the
hospital API has no 409 or 422, so a taken name is its field's 400, as its clients expect.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hms_desktop.domain.errors import DomainError, RateLimited
from hms_desktop.services import outages

log = logging.getLogger(__name__)

# A store that is away answers 503 with this `Retry-After`: a database or Redis restart
# takes a few seconds, and a desk retries its reads on its own every two.
OUTAGE_RETRY_SECONDS = 3
# An outage fails every request at once: one WARNING line per store this often, not a
# traceback per request.
OUTAGE_LOG_SECONDS = 10.0

STATUS_BY_KIND: dict[str, int] = {
    "invalid": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "conflict": 409,
    "unprocessable": 422,
    "rate_limited": 429,
    "unavailable": 503,
}
KIND_BY_STATUS = {status: kind for kind, status in STATUS_BY_KIND.items()}

# Where a document lists no code for a kind of failure, the code it uses instead.
_DOCUMENT_STATUS: dict[str, dict[str, int]] = {
    "booking": {"conflict": 400},
    "hospital": {"conflict": 400, "unprocessable": 400},
    "desk": {},
}
# What each document's operations may answer besides success.
DOCUMENT_ERROR_CODES: dict[str, tuple[int, ...]] = {
    "booking": (400, 401, 403, 404, 422, 429, 503),
    "hospital": (400, 401, 403, 404, 429, 503),
    "desk": (400, 401, 403, 404, 409, 422, 429, 503),
}

DESK_PREFIX = "/desk/"


def status_for(path: str, kind: str) -> int:
    """The status a failure of this kind gets in the document `path` belongs to."""
    return _DOCUMENT_STATUS[document_of(path)].get(kind) or STATUS_BY_KIND.get(kind, 400)


def document_of(path: str) -> str:
    """Which API a path belongs to: "desk", "hospital" (trailing slash) or "booking"."""
    if path.startswith(DESK_PREFIX):
        return "desk"
    if path.endswith("/") or path.startswith("/api/"):
        return "hospital"
    return "booking"


def error_body(
    path: str,
    message: str,
    *,
    kind: str,
    field: str | None = None,
    error_type: str | None = None,
    fields: dict[str, str] | None = None,
) -> dict[str, Any]:
    document = document_of(path)
    if document == "desk":
        body: dict[str, Any] = {"error": message, "kind": kind, "field": field, "type": error_type}
        if fields and len(fields) > 1:
            body["fields"] = fields
        return body
    if document == "hospital":
        body = {"detail": message}
        for name, text in (fields or ({field: message} if field else {})).items():
            body[name] = [text]
        return body
    return {"error": message}


def error_response(
    request: Request,
    status: int,
    message: str,
    *,
    kind: str,
    field: str | None = None,
    error_type: str | None = None,
    fields: dict[str, str] | None = None,
) -> JSONResponse:
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(
            request.url.path,
            message,
            kind=kind,
            field=field,
            error_type=error_type,
            fields=fields,
        ),
        status_code=status,
        headers=headers,
    )


async def _domain_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    status = status_for(request.url.path, error.kind)
    response = error_response(
        request,
        status,
        error.message,
        kind=error.kind,
        field=error.field,
        error_type=type(error).__name__,
        fields=error.fields,
    )
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    elif status == 503:
        response.headers["Retry-After"] = str(OUTAGE_RETRY_SECONDS)
    return response


class _OutageLog:
    """Says once per `OUTAGE_LOG_SECONDS` and store that it is away, with how many answers
    it cost since the last line."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def note(self, away: DomainError, error: Exception, request: Request) -> None:
        what = type(away).__name__
        now = time.monotonic()
        if now - self._last.get(what, -OUTAGE_LOG_SECONDS) < OUTAGE_LOG_SECONDS:
            self._quiet[what] = self._quiet.get(what, 0) + 1
            return
        self._last[what] = now
        quiet = self._quiet.pop(what, 0)
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()
        log.warning(
            "%s: answering 503 (%s %s: %s)%s",
            what,
            request.method,
            request.url.path,
            f"{type(error).__name__}: {cause[0] if cause else ''}",
            f"; {quiet} more since the last line" if quiet else "",
        )


_outage_log = _OutageLog()


async def _store_error(request: Request, error: Exception) -> JSONResponse:
    """A store that is briefly away is the domain's "unavailable" (503 + Retry-After); any
    other database or Redis failure stays an unexpected error (500, logged in full)."""
    away = outages.outage(error)
    if away is None:
        raise error
    _outage_log.note(away, error, request)
    return await _domain_error(request, away)


def _describe(error: dict[str, Any]) -> tuple[str | None, str]:
    location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
    field = location[-1] if location else None
    if error.get("type") == "json_invalid":
        return None, "Malformed JSON in the request body."
    where = ".".join(location)
    text = str(error.get("msg", "Invalid value.")).removeprefix("Value error, ")
    return field, f"{where}: {text}" if where else text


async def _validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = list(error.errors())
    field, message = _describe(problems[0]) if problems else (None, "Invalid request.")
    return error_response(request, 400, message, kind="invalid", field=field)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    kind = KIND_BY_STATUS.get(error.status_code, "invalid")
    response = error_response(request, error.status_code, str(error.detail), kind=kind)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    if error.status_code == 405:
        from .openapi import methods_at  # the document is built from the routers (below)

        response.headers["Allow"] = ", ".join(methods_at(request.app, request.url.path))
    return response


async def answer_for(request: Request, error: Exception) -> Response | None:
    """What the handlers `install_error_handlers` installs answer for `error` (a store that is
    not briefly away is raised again, as there); None for what they leave to the 500."""
    if isinstance(error, DomainError):
        return await _domain_error(request, error)
    if isinstance(error, outages.STORE_ERRORS):
        return await _store_error(request, error)
    return None


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for store_error in outages.STORE_ERRORS:
        app.add_exception_handler(store_error, _store_error)


class RequestIdMiddleware:
    """Gives each request an id (`X-Request-ID`); an unexpected failure becomes a JSON 500
    naming that id, and the traceback goes to the server log under the same id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "unhandled error in %s %s (request %s)", scope["method"], scope["path"], request_id
            )
            if started:
                raise
            response = JSONResponse(
                {"error": "Internal server error", "request_id": request_id},
                status_code=500,
                headers={"X-Request-ID": request_id},
            )
            await response(scope, receive, send)
