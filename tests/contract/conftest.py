"""The contract suite's world: a clinic on the test's store and desks on it, each either a
LocalBackend or a RemoteBackend talking to a real uvicorn server on the same store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from hms_desktop.client import RemoteBackend
from hms_desktop.config import Settings
from hms_desktop.domain.enums import Role
from hms_desktop.domain.models import UserInfo
from hms_desktop.services.backend import Backend
from hms_desktop.services.clinic import Clinic
from hms_desktop.services.local import LocalBackend
from tests import factories
from tests.live_server import GENEROUS_LIMIT, ServerThread

LIMITS = {
    "rate_limit_default": GENEROUS_LIMIT,
    "rate_limit_desk": GENEROUS_LIMIT,
    "rate_limit_login": GENEROUS_LIMIT,
}


def remote_settings(url: str, **overrides: object) -> Settings:
    return Settings(mode="remote", api_url=url, **overrides)  # type: ignore[arg-type]


@dataclass
class World:
    kind: str
    clinic: Clinic  # seeds and checks through the service layer
    open_store: Callable[..., Clinic]
    server: ServerThread | None = None
    backends: list[Backend] = field(default_factory=list)

    def backend(self, kind: str | None = None, desk_name: str = "") -> Backend:
        kind = kind or self.kind
        if kind == "remote":
            assert self.server is not None
            settings = remote_settings(self.server.url, desk_name=desk_name)
            backend: Backend = RemoteBackend(settings, backoff=0.05)
        else:
            backend = LocalBackend(self.open_store(**LIMITS, desk_name=desk_name))
        self.backends.append(backend)
        return backend

    def desk(
        self, role: Role = Role.RECEPTIONIST, kind: str | None = None
    ) -> tuple[Backend, UserInfo]:
        user, _ = factories.staff(self.clinic, role)
        backend = self.backend(kind)
        backend.login(user.username, factories.PASSWORD)
        return backend, user

    def doctor_desk(self, doctor: factories.DoctorFixture) -> Backend:
        backend = self.backend()
        backend.login(doctor.user.username, factories.PASSWORD)
        return backend


def make_world(kind: str, open_store: Callable[..., Clinic], *, serve: bool) -> Iterator[World]:
    world = World(kind, open_store(**LIMITS), open_store)
    if serve:
        world.server = ServerThread(open_store(**LIMITS)).start()
    try:
        yield world
    finally:
        for backend in world.backends:
            backend.close()
        if world.server is not None:
            world.server.stop()


@pytest.fixture(params=["local", "remote"])
def world(request: pytest.FixtureRequest, open_store: Callable[..., Clinic]) -> Iterator[World]:
    """Every contract test runs on each backend kind × each store."""
    yield from make_world(request.param, open_store, serve=request.param == "remote")
