"""A desk's request refused with 429 by the request budget is sent again after the server's
`Retry-After` (a read or a write: the server did nothing with it), instead of failing or
showing an empty list; a long wait is reported as the `RateLimited` error it is."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hms_desktop.client import RemoteBackend
from hms_desktop.domain.errors import RateLimited
from hms_desktop.services.clinic import Clinic
from tests import factories
from tests.contract.conftest import remote_settings
from tests.live_server import GENEROUS_LIMIT, ServerThread
from tests.services.support import free_slot_ids
from tests.status_counter import StatusCounter


@pytest.fixture
def throttled(
    open_store: Callable[..., Clinic],
) -> Iterator[Callable[[str], tuple[Clinic, RemoteBackend, StatusCounter]]]:
    servers: list[ServerThread] = []
    backends: list[RemoteBackend] = []

    def _start(desk_limit: str) -> tuple[Clinic, RemoteBackend, StatusCounter]:
        limits = {"rate_limit_login": GENEROUS_LIMIT, "rate_limit_desk": desk_limit}
        counter = StatusCounter()
        server = ServerThread(open_store(**limits), customize=counter.install).start()
        servers.append(server)
        backend = RemoteBackend(remote_settings(server.url), backoff=0.05)
        backends.append(backend)
        return server.clinic, backend, counter

    yield _start
    for backend in backends:
        backend.close()
    for server in servers:
        server.stop()


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_429_is_waited_out_and_the_request_sent_again(throttled) -> None:  # type: ignore[no-untyped-def]
    clinic, backend, counter = throttled("4 per 2 seconds")
    user, _ = factories.staff(clinic)
    doctor = factories.doctor(clinic)
    patient = factories.patient(clinic)
    slots = free_slot_ids(clinic, doctor.doctor_id, 3)
    backend.login(user.username, factories.PASSWORD)
    specialities = [backend.specialisations() for _ in range(8)]
    held = [backend.hold_slot(slot, patient.id) for slot in slots]  # writes, throttled too
    assert all(answer == specialities[0] for answer in specialities)
    assert [hold.slot_id for hold in held] == slots
    assert counter.statuses[429] >= 1, counter.statuses  # the budget was hit, and waited out
    assert not [key for key in counter.paths if key[0] >= 500]


@pytest.mark.parametrize("store", ["sqlite"], indirect=True)
def test_a_long_wait_is_reported_not_shown_as_nothing(throttled) -> None:  # type: ignore[no-untyped-def]
    clinic, backend, counter = throttled("2/minute")
    user, _ = factories.staff(clinic)
    backend.login(user.username, factories.PASSWORD)
    backend.specialisations()
    backend.specialisations()
    with pytest.raises(RateLimited) as raised:
        backend.specialisations()
    assert raised.value.message.startswith("Request was throttled.")
    assert counter.statuses[429] == 1  # a minute is not waited out: asked once
