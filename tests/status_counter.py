"""Counts the answers a live test server gives, by status code (installed with
`ServerThread(customize=StatusCounter.install)`)."""

from __future__ import annotations

import threading
from collections import Counter

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class StatusCounter:
    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.paths: Counter[tuple[int, str]] = Counter()
        self._lock = threading.Lock()

    def install(self, app: FastAPI) -> None:
        counter = self

        class _Count:
            def __init__(self, inner: ASGIApp) -> None:
                self.inner = inner

            async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
                if scope["type"] != "http":
                    await self.inner(scope, receive, send)
                    return

                async def counted(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        counter.note(message["status"], f"{scope['method']} {scope['path']}")
                    await send(message)

                await self.inner(scope, receive, counted)

        app.add_middleware(_Count)

    def note(self, status: int, what: str) -> None:
        with self._lock:
            self.statuses[status] += 1
            self.paths[(status, what)] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self.statuses.values())
