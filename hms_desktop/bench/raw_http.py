"""A keep-alive HTTP/1.1 client for the booking flow of `bench api`, as lean as a load
generator written in Python can be: one socket, the request's bytes written whole, the answer
read by its Content-Length.

Why not httpx: the load generator shares the server's two cores, and httpx spent about 0.8 ms
of CPU a request there (1.6 ms a booking, a fifth of the server's own), which the server's
figures then paid for. wrk cannot make a booking (a hold, then a confirm of that hold by the
same patient), so the clients stay Python and spend about a tenth of that here.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

_HEAD_END = b"\r\n\r\n"
# A connection unused this long may have been closed by the server (uvicorn's keep-alive
# timeout is 5 s); one that closes unanswered sooner means the server failed.
IDLE_SECONDS = 1.0
_MAX_HEAD = 64 * 1024


class _Unanswered(RuntimeError):
    """The connection closed before any byte of the answer came."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class Connection:
    """One client's connection; `cookie` is sent with every request. Not thread-safe: one
    connection per client thread, as a browser's tab would have."""

    def __init__(self, base_url: str, cookie: str, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or parts.hostname is None or parts.port is None:
            raise ValueError(f"an http://host:port address, not {base_url!r}")
        self._address = (parts.hostname, parts.port)
        self._timeout = timeout
        self._fixed = (
            f"Host: {parts.hostname}:{parts.port}\r\nCookie: {cookie}\r\n"
            "Content-Type: application/json\r\nAccept: application/json\r\n"
        ).encode("ascii")
        self._socket: socket.socket | None = None
        self._buffer = b""
        self._used_at = 0.0

    def _connected(self) -> socket.socket:
        if self._socket is None:
            connection = socket.create_connection(self._address, timeout=self._timeout)
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socket, self._buffer = connection, b""
        return self._socket

    def request(self, method: str, path: str, body: object = None) -> Answer:
        """`body` as JSON, or no body when None."""
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        message = (
            f"{method} {path} HTTP/1.1\r\n".encode("ascii")
            + self._fixed
            + f"Content-Length: {len(payload)}\r\n\r\n".encode("ascii")
            + payload
        )
        idle = self._socket is not None and time.monotonic() - self._used_at >= IDLE_SECONDS
        connection = self._connected()
        try:
            connection.sendall(message)
            return self._answer(connection)
        except _Unanswered:
            if not idle:
                raise  # a busy connection closed unanswered: the server failed, say so
        # The server had closed the idle connection (uvicorn's keep-alive timeout) before
        # reading this request, as HTTP/1.1 lets it: sent again on a new one, once.
        connection = self._connected()
        connection.sendall(message)
        return self._answer(connection)

    def _answer(self, connection: socket.socket) -> Answer:
        while (end := self._buffer.find(_HEAD_END)) < 0:
            self._receive(connection)
            if len(self._buffer) > _MAX_HEAD:
                raise RuntimeError("an answer's head over 64 KiB")
        head = self._buffer[:end].decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:])
        }
        if "content-length" not in headers:
            # The server answers JSON with a length; anything else is a failure to report.
            raise RuntimeError(f"an answer without Content-Length: {head[0]}")
        start, length = end + len(_HEAD_END), int(headers["content-length"])
        while len(self._buffer) < start + length:
            self._receive(connection)
        body = self._buffer[start : start + length]
        self._buffer = self._buffer[start + length :]
        self._used_at = time.monotonic()
        if headers.get("connection", "").lower() == "close":
            self.close()
        return Answer(status, body)

    def _receive(self, connection: socket.socket) -> None:
        try:
            chunk = connection.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            unanswered = not self._buffer
            self.close()
            if unanswered:
                raise _Unanswered("the server closed the connection before answering")
            raise RuntimeError("the server closed the connection mid-answer")
        self._buffer += chunk

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None
