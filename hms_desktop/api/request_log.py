"""One log line per request, with the id `RequestIdMiddleware` gave it, so a desk's "request
<id>" in an error report leads straight to the server's line (and its traceback)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hms_desktop.requests")


class RequestLogMiddleware:
    """Added inside RequestIdMiddleware (it must run after the id is made)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app fails before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # A server logging warnings only (the default) builds no line per request.
            if log.isEnabledFor(logging.INFO):
                self._note(scope, status, started)

    @staticmethod
    def _note(scope: Scope, status: int, started: float) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        client = scope.get("client")
        request_id = scope.get("state", {}).get("request_id", "-")
        log.info(
            "%s %s %s %d %.1f ms request %s",
            client[0] if client else "-",
            scope["method"],
            scope["path"],
            status,
            duration_ms,
            request_id,
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": duration_ms,
                "client": client[0] if client else None,
            },
        )
