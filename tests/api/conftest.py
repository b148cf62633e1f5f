"""A real uvicorn server per test (tests/live_server.py) and helpers to act on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import time as clock_time

import httpx
import pytest
from fastapi import FastAPI

from hms_desktop.api.deps import SESSION_COOKIE
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import SYSTEM, PatientRecord, UserInfo, WorkingHours
from hms_desktop.services import accounts, doctors
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.live_server import GENEROUS_LIMIT, ServerThread

# Four slots every six hours, every day: free slots within any day-long window.
FEW_HOURS = [
    WorkingHours(day, clock_time(hour, 0), clock_time(hour, 30), 15)
    for day in range(7)
    for hour in (1, 7, 13, 19)
]


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


@pytest.fixture
def serve(open_store: Callable[..., Clinic]) -> Iterator[Callable[..., LiveServer]]:
    """Start the API (with optional settings overrides) on a free port; stopped afterwards."""
    running: list[ServerThread] = []

    def _start(
        customize: Callable[[FastAPI], None] | None = None, **overrides: object
    ) -> LiveServer:
        overrides.setdefault("rate_limit_default", GENEROUS_LIMIT)
        overrides.setdefault("rate_limit_desk", GENEROUS_LIMIT)
        overrides.setdefault("rate_limit_login", GENEROUS_LIMIT)
        server = ServerThread(open_store(**overrides), customize=customize).start()
        running.append(server)
        return LiveServer(server.url, server.clinic)

    yield _start
    for server in running:
        server.stop()


@pytest.fixture
def api(serve: Callable[..., LiveServer]) -> LiveServer:
    return serve()
