"""Real local receivers for the reminders' tests: an SMTP server (aiosmtpd) that keeps what it
is sent, or refuses every message with a temporary error; and an HTTP receiver standing in
for an SMS gateway's webhook."""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

# Below the sender's SMTP timeout (20 s): a wait that runs out never fails a delivery.
RENDEZVOUS_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class MailSink:
    """An aiosmtpd handler: keeps each message, or answers DATA with `refuse` (e.g. "451
    4.3.0 Try again later") and counts the tries."""

    refuse: str = ""
    # The first message waits (up to RENDEZVOUS_SECONDS) until this many are being handed
    # over at once: senders that each send one at a time are then proven to overlap.
    rendezvous: int = 0
    received: list[Message] = field(default_factory=list)
    envelopes: list[list[str]] = field(default_factory=list)  # each message's RCPT TO
    tries: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: int = 0
    _met: asyncio.Event | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.rendezvous:
            await self._meet()
        with self.lock:
            self.tries += 1
            if self.refuse:
                return self.refuse
            self.received.append(email.message_from_bytes(envelope.content))
            self.envelopes.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    async def _meet(self) -> None:
        if self._met is None:
            self._met = asyncio.Event()
        if self._met.is_set():
            return
        self._arrived += 1
        if self._arrived >= self.rendezvous:
            self._met.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._met.wait(), RENDEZVOUS_SECONDS)

    @property
    def met(self) -> bool:
        return self._met is not None and self._met.is_set()

    def ids(self) -> list[int]:
        with self.lock:
            return [int(message["X-HMS-Message-Id"]) for message in self.received]


@contextmanager
def smtp_server(refuse: str = "", rendezvous: int = 0) -> Iterator[tuple[MailSink, int]]:
    sink = MailSink(refuse=refuse, rendezvous=rendezvous)
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server: Any = self.server
        server.calls.append((dict(self.headers), json.loads(body)))
        self.send_response(server.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: pytest shows failures


@contextmanager
def webhook_receiver(status: int = 200) -> Iterator[tuple[list[tuple[dict, Any]], str]]:
    """(calls, url): each POST's headers and JSON body, answered with `status`."""
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    server.calls, server.status = [], status
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.calls, f"http://127.0.0.1:{server.server_address[1]}/sms"
    finally:
        server.shutdown()
        server.server_close()
