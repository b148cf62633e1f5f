"""The one live-server helper of the tests: a real uvicorn server in a thread on a loopback
port, over a test's store. It can be stopped and started again on the same port (a server
restart while remote desks stay open)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable

import uvicorn
from fastapi import FastAPI

from hms_desktop.api.app import create_app
from hms_desktop.api.desk_events import end_streams
from hms_desktop.services.clinic import Clinic

# Desks in these tests make far more than the default 100 requests a minute.
GENEROUS_LIMIT = "100000/minute"


class _Server(uvicorn.Server):
    _wake: asyncio.Event | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    def install_signal_handlers(self) -> None:  # the test thread is not the main thread
        pass

    async def main_loop(self) -> None:
        """uvicorn's loop (a tick every 0.1 s), woken at once by `exit_now` so that stopping
        a test's server does not wait for the next tick."""
        self._wake, self._loop = asyncio.Event(), asyncio.get_running_loop()
        counter = 0
        while not await self.on_tick(counter):
            counter = (counter + 1) % 864000
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.1)

    def exit_now(self) -> None:
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended
                self._loop.call_soon_threadsafe(self._wake.set)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        # What a stop signal does for `hms-desktop serve` (no signals reach this thread).
        end_streams()
        await super().shutdown(sockets)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ServerThread:
    def __init__(
        self,
        clinic: Clinic,
        port: int | None = None,
        customize: Callable[[FastAPI], None] | None = None,
    ) -> None:
        self.clinic = clinic
        self._customize = customize
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ServerThread:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        app = create_app(self.clinic)
        if self._customize is not None:
            self._customize(app)
        config = uvicorn.Config(
            app,
            log_level="warning",
            lifespan="on",
            # Event streams end at the stop; anything else still running is cut after a second.
            timeout_graceful_shutdown=1,
        )
        server = _Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.exit_now()
        self._thread.join(timeout=10)
        if self._thread.is_alive():
            raise RuntimeError("the API server did not stop")
        self._server = self._thread = None
