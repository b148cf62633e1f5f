"""A real uvicorn server per test, on a free loopback port, over the test's store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from hms_desktop.api.app import create_app
from hms_desktop.api.deps import SESSION_COOKIE
from hms_desktop.domain.models import PatientRecord, UserInfo
from hms_desktop.services import accounts
from hms_desktop.services.clinic import Clinic
from tests import factories

# Most tests make more than the default 100 requests a minute from one address.
GENEROUS_LIMIT = "100000/minute"


@dataclass
class LiveServer:
    url: str
    clinic: Clinic

    def client(self, token: str | None = None, *, cookie: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        client = httpx.Client(base_url=self.url, headers=headers, timeout=30)
        if cookie:
            client.cookies.set(SESSION_COOKIE, cookie)
        return client

    def token_for(self, user: UserInfo) -> str:
        return accounts.issue_tokens(self.clinic, user).access

    def session_for(self, user: UserInfo) -> str:
        return accounts.issue_session_token(self.clinic, user)

    def patient_user(self, **fields: object) -> tuple[PatientRecord, UserInfo]:
        record = factories.patient(self.clinic, **fields)
        return record, accounts.get_user(self.clinic, record.user_id)


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test thread is not the main thread
        pass


@pytest.fixture
def serve(open_store: Callable[..., Clinic]) -> Iterator[Callable[..., LiveServer]]:
    """Start the API (with optional settings overrides) on a free port; stopped afterwards."""
    running: list[tuple[_Server, threading.Thread]] = []

    def _start(
        customize: Callable[[FastAPI], None] | None = None, **overrides: object
    ) -> LiveServer:
        overrides.setdefault("rate_limit_default", GENEROUS_LIMIT)
        overrides.setdefault("rate_limit_login", GENEROUS_LIMIT)
        clinic = open_store(**overrides)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        app = create_app(clinic)
        if customize is not None:
            customize(app)
        config = uvicorn.Config(app, log_level="warning", lifespan="on")
        server = _Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 15
        while not server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError("the API server did not start")
            time.sleep(0.01)
        running.append((server, thread))
        return LiveServer(f"http://127.0.0.1:{port}", clinic)

    yield _start
    for server, thread in running:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def api(serve: Callable[..., LiveServer]) -> LiveServer:
    return serve()
