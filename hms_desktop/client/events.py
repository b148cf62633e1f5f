"""Following the desk API's server-sent change events in a background thread.

After a dropped connection the thread reconnects with backoff and then emits a synthetic
`ChangeEvent(kind="resync")`: events published while it was away are lost, so the desktop
reloads what it shows instead of trusting a stale calendar.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable

import httpx

from hms_desktop.client.transport import DESK, Transport
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import ChangeEvent

log = logging.getLogger(__name__)

RESYNC = "resync"
# The server sends a heartbeat every 10 s; three missed ones mean the connection is dead.
READ_TIMEOUT_SECONDS = 30.0
FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 5.0

Listener = Callable[[ChangeEvent], None]


class EventStream:
    """A subscription: `close()` stops the thread (and its connection) promptly."""

    def __init__(self, transport: Transport, listener: Listener, *, wait: float = 5.0) -> None:
        self._transport = transport
        self._listener = listener
        self._http = httpx.Client(
            base_url=transport.base_url,
            timeout=httpx.Timeout(10.0, connect=3.0, read=READ_TIMEOUT_SECONDS),
        )
        self._stopped = threading.Event()
        self._connected = threading.Event()
        self._response: httpx.Response | None = None
        self._retry_delay = FIRST_RETRY_SECONDS
        self._thread = threading.Thread(target=self._run, name="hms-remote-events", daemon=True)
        self._thread.start()
        # Bounded: offline at subscription time, the thread keeps trying in the background.
        self._connected.wait(wait)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _deliver(self, event: ChangeEvent) -> None:
        try:
            self._listener(event)
        except Exception:  # a broken listener must not stop the stream
            log.exception("change-event listener failed")

    def _run(self) -> None:
        attempts = 0
        while not self._stopped.is_set():
            try:
                self._follow(resync=attempts > 0)
            except (httpx.HTTPError, DomainError, ValueError) as error:
                log.info("change-event stream interrupted: %s", error)
            finally:
                self._connected.clear()
                self._response = None
            attempts += 1
            if self._stopped.wait(self._retry_delay):
                break
            self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_SECONDS)

    def _follow(self, *, resync: bool) -> None:
        token = self._transport.access_token()
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        with self._http.stream("GET", f"{DESK}/events", headers=headers) as response:
            if response.status_code == 401:
                response.read()
                self._transport.access_token(force_refresh=True, stale=token)
                return
            response.raise_for_status()
            self._response = response
            data: list[str] = []
            for line in response.iter_lines():
                if self._stopped.is_set():
                    return
                if not self._connected.is_set():
                    self._connected.set()
                    self._retry_delay = FIRST_RETRY_SECONDS
                    if resync:
                        self._deliver(ChangeEvent(kind=RESYNC))
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    self._deliver(ChangeEvent.from_dict(json.loads("\n".join(data))))
                    data = []

    def close(self) -> None:
        self._stopped.set()
        response = self._response
        stream = response.extensions.get("network_stream") if response is not None else None
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            # Wakes the thread's blocking read at once instead of at the next heartbeat.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                log.debug("event stream socket already closed")
        self._thread.join(timeout=5)
        self._http.close()
