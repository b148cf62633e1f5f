"""Following the desk API's server-sent change events in a background thread.

After a dropped connection the thread reconnects with backoff and then emits a synthetic
`ChangeEvent(kind="resync")`: events published while it was away are lost, so the desktop
reloads what it shows instead of trusting a stale calendar. When the server cannot be
reached (refused, timed out, two heartbeats missed, a gateway's 5xx) it emits
`ChangeEvent(kind="offline")` at once, so an idle desk shows that it is offline within
seconds, not at its next click.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import threading
from collections.abc import Callable

import httpx

from hms_desktop.client.transport import DESK, Transport
from hms_desktop.domain.errors import BackendUnavailable, DomainError
from hms_desktop.domain.models import RESYNC, ChangeEvent, offline_event

log = logging.getLogger(__name__)

__all__ = ["RESYNC", "EventStream"]

# The server sends a heartbeat every 2 s; two missed ones mean the connection is dead.
READ_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 3.0
FIRST_RETRY_SECONDS = 0.2
# Reconnecting this often at most: a server that is back is noticed within it. Each desk
# adds up to a fifth at random, so desks do not all arrive at a restarted server at once.
MAX_RETRY_SECONDS = 3.0

Listener = Callable[[ChangeEvent], None]


class EventStream:
    """A subscription: `close()` stops the thread (and its connection) promptly."""

    def __init__(self, transport: Transport, listener: Listener, *, wait: float = 5.0) -> None:
        self._transport = transport
        self._listener = listener
        self._http = httpx.Client(
            base_url=transport.base_url,
            timeout=httpx.Timeout(10.0, connect=CONNECT_TIMEOUT_SECONDS, read=READ_TIMEOUT_SECONDS),
        )
        self._stopped = threading.Event()
        self._connected = threading.Event()
        self._response: httpx.Response | None = None
        self._retry_delay = FIRST_RETRY_SECONDS
        self._offline = False  # an OFFLINE event was delivered and nothing since
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
                unreachable = _unreachable(error)
                if unreachable is not None and not self._stopped.is_set():
                    self._went_offline(unreachable)
            finally:
                self._connected.clear()
                self._response = None
            attempts += 1
            delay = self._retry_delay * (1 + random.random() / 5)  # jitter, not a secret
            if self._stopped.wait(delay):
                break
            self._retry_delay = min(self._retry_delay * 2, MAX_RETRY_SECONDS)

    def _went_offline(self, message: str) -> None:
        if not self._offline:
            self._offline = True
            self._transport.mark_offline()
            self._deliver(offline_event(message))

    def _follow(self, *, resync: bool) -> None:
        token = self._transport.access_token()
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        with self._http.stream("GET", f"{DESK}/events", headers=headers) as response:
            if response.status_code == 401:
                response.read()
                self._transport.access_token(force_refresh=True, stale=token)
                return
            if response.status_code >= 500:
                response.read()
                raise self._transport.error_of(response)
            response.raise_for_status()
            self._response = response
            data: list[str] = []
            for line in response.iter_lines():
                if self._stopped.is_set():
                    return
                if not self._connected.is_set():
                    self._connected.set()
                    self._retry_delay = FIRST_RETRY_SECONDS
                    self._transport.mark_online()
                    if resync or self._offline:
                        self._offline = False
                        self._deliver(ChangeEvent(kind=RESYNC))
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    self._deliver(ChangeEvent.from_dict(json.loads("\n".join(data))))
                    data = []

    def close(self) -> None:
        """Stop following; blocks until the thread ends (at most a few seconds): call it
        off the GUI thread."""
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


def _unreachable(error: Exception) -> str | None:
    """What to tell the desk when `error` means the server cannot be reached, else None
    (a stream the server ended, a reset connection: the next attempt tells)."""
    if isinstance(error, httpx.ConnectError | httpx.TimeoutException):
        return BackendUnavailable.message
    if isinstance(error, DomainError) and error.kind == "unavailable":
        return error.message
    return None
