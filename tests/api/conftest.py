"""A real uvicorn server per test, on a free loopback port, over the test's store."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time as clock_time

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from hms_desktop.api.app import create_app
from hms_desktop.api.deps import SESSION_COOKIE
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, PatientRecord, UserInfo, WorkingHours
from hms_desktop.services import accounts, doctors
from hms_desktop.services.clinic import Clinic
from tests import factories

# Four slots every six hours, every day: free slots within any day-long window.
FEW_HOURS = [
    WorkingHours(day, clock_time(hour, 0), clock_time(hour, 30), 15)
    for day in range(7)
    for hour in (1, 7, 13, 19)
]
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

    def staff(self, role: Role = Role.RECEPTIONIST, **names: str) -> UserInfo:
        """An account without a password (tests use tokens): no bcrypt cost per test."""
        return accounts.create_user(
            self.clinic,
            SYSTEM,
            username=factories.unique(role.value),
            role=role,
            password=None,
            **names,
        )

    def doctor(
        self,
        *,
        specialisation_ids: list[int] | None = None,
        first_name: str = "Grace",
        last_name: str | None = None,
        fee: int | None = 50,
    ) -> factories.DoctorFixture:
        """A doctor seeing patients every day, with a few slots a day (quick to generate)."""
        user = self.staff(
            Role.DOCTOR, first_name=first_name, last_name=last_name or factories.unique("Doc")
        )
        assert user.doctor_id is not None
        doctors.update_doctor(
            self.clinic, SYSTEM, user.doctor_id, fee=fee, specialisation_ids=specialisation_ids
        )
        doctors.set_working_hours(self.clinic, SYSTEM, user.doctor_id, FEW_HOURS)
        return factories.DoctorFixture(user, accounts.actor_for(user), user.doctor_id)

    def patient_user(self, **fields: object) -> tuple[PatientRecord, UserInfo]:
        record = factories.patient(self.clinic, **fields)
        return record, accounts.get_user(self.clinic, SYSTEM, record.user_id)


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
