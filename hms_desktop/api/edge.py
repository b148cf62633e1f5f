"""What every request passes at the edge: a body size limit (refused before the body is
read whole), the usual security headers on every answer, and absolute links built from
the configured public address, never from the client's Host header."""

from __future__ import annotations

import json

from fastapi import Request
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hms_desktop.config import Settings

from .errors import error_body, status_for

# Everything but the interactive docs, which load their scripts and styles from a CDN.
_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
_DOCS_PATHS = ("/docs", "/redoc")
_UPLOAD_OVERHEAD = 64 * 1024  # multipart framing and the form's other fields


class _TooLarge(HTTPException):
    """Raised while the body is read; FastAPI answers it as the document's 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(400, _too_large(limit))


def _too_large(limit: int) -> str:
    return f"The request body is too large (at most {limit // 1024} KiB)."


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.json_limit = settings.max_json_bytes
        self.upload_limit = settings.image_max_bytes + _UPLOAD_OVERHEAD
        self.https = settings.public_url.startswith("https://")
        # Built once: every answer carries them.
        self._docs_headers = self._build_headers(docs=True)
        self._plain_headers = self._build_headers(docs=False)

    def _limit(self, headers: dict[bytes, bytes]) -> int:
        content_type = headers.get(b"content-type", b"")
        return self.upload_limit if content_type.startswith(b"multipart/") else self.json_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        limit = self._limit(headers)
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, send, limit)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge(limit)
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), *self._headers(scope)]
            await send(message)

        try:
            await self.app(scope, counted_receive, send_with_headers)
        except _TooLarge:
            if started:
                raise
            await self._refuse(scope, send, limit)

    def _headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        return self._docs_headers if scope["path"].startswith(_DOCS_PATHS) else self._plain_headers

    def _build_headers(self, *, docs: bool) -> list[tuple[bytes, bytes]]:
        headers = [
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if not docs:
            headers.append((b"content-security-policy", _CSP.encode()))
        if self.https:
            headers.append((b"strict-transport-security", b"max-age=31536000"))
        return headers

    async def _refuse(self, scope: Scope, send: Send, limit: int) -> None:
        path = scope["path"]
        body = json.dumps(error_body(path, _too_large(limit), kind="invalid")).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status_for(path, "invalid"),
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                    *self._headers(scope),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def public_url(request: Request, path: str, **query: object) -> str:
    """An absolute link to `path` on this server: the configured `public_url`, else the
    address the request came in on (the server's own socket), never the Host header."""
    settings: Settings = request.app.state.settings
    if settings.public_url:
        base = settings.public_url.rstrip("/")
    else:
        host, port = request.scope.get("server") or ("127.0.0.1", 80)
        host = f"[{host}]" if ":" in str(host) else host
        base = f"{request.url.scheme}://{host}:{port}"
    url = URL(base + path)
    return str(url.include_query_params(**query)) if query else str(url)
