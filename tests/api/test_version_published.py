"""The version gate reaches remote desks too: `db require-version` is published in
`GET /api/version` (within `VERSION_SECONDS`: the server reads it at most once a second),
and a remote desktop older than it refuses at log-in, naming the version and where IT put it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import hms_desktop
from hms_desktop.api import app as app_module
from hms_desktop.api.app import VERSION_SECONDS, VersionAnswer
from hms_desktop.client import IncompatibleServer, RemoteBackend
from hms_desktop.store import meta
from tests.api.conftest import LiveServer
from tests.contract.conftest import remote_settings


def _published(api: LiveServer, minimum: str) -> dict[str, Any]:
    """GET /api/version once it names `minimum` (at most VERSION_SECONDS after it was set)."""
    deadline = time.monotonic() + VERSION_SECONDS + 2
    with api.client() as client:
        while True:
            published: dict[str, Any] = client.get("/api/version").json()
            if published.get("min_desktop_version") == minimum:
                return published
            assert time.monotonic() < deadline, published
            time.sleep(0.05)


def test_a_remote_desk_older_than_required_is_refused_at_log_in(api: LiveServer) -> None:
    url = api.clinic.settings.effective_database_url
    meta.write_meta(
        url, **{meta.MIN_DESKTOP_VERSION: "99.0.0", meta.UPDATE_LOCATION: "https://it/hms"}
    )
    published = _published(api, "99.0.0")
    assert published["update_location"] == "https://it/hms"

    remote = RemoteBackend(remote_settings(api.url), retries=0)
    try:
        with pytest.raises(IncompatibleServer) as refused:
            remote.login("anyone", "any-password")
    finally:
        remote.close()
    assert refused.value.message == (
        f"This hms-desktop (version {hms_desktop.__version__}) is too old for the clinic "
        "server: it needs version 99.0.0 or newer. IT puts it here: https://it/hms"
    )

    meta.write_meta(url, **{meta.MIN_DESKTOP_VERSION: hms_desktop.__version__})
    _published(api, hms_desktop.__version__)
    remote = RemoteBackend(remote_settings(api.url), retries=0)
    try:
        assert remote.transport.check_version()["server_version"] == hms_desktop.__version__
    finally:
        remote.close()


def test_one_request_at_a_time_reads_what_was_published(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twenty requests at once when the answer is due to be read again: one reads it, the
    rest answer at once with the last answer (they all read it once, one at a time: 0.1-1.2 s
    stalls under load); a read that fails fails only its request, and the next reads again."""
    reads: list[float] = []
    fail = [False]

    def slow_read(clinic: object) -> dict[str, str]:
        reads.append(time.monotonic())
        time.sleep(0.2)
        if fail[0]:
            raise RuntimeError("the database is away")
        return {"min_desktop_version": f"1.0.{len(reads)}"}

    monkeypatch.setattr(app_module, "published_requirements", slow_read)
    now = [0.0]
    answer = VersionAnswer(clinic=None, clock=lambda: now[0])  # type: ignore[arg-type]

    async def at_once(count: int) -> list[bytes]:
        return await asyncio.gather(*(answer.body() for _ in range(count)))

    first = asyncio.run(at_once(1))  # the first answer is read by whoever asks
    assert len(reads) == 1 and b"1.0.1" in first[0]
    assert asyncio.run(at_once(20)) == first * 20 and len(reads) == 1  # within the second
    now[0] += VERSION_SECONDS
    started = time.monotonic()
    again = asyncio.run(at_once(20))
    assert len(reads) == 2
    assert again.count(first[0]) == 19 and sum(b"1.0.2" in body for body in again) == 1
    assert time.monotonic() - started < 0.4  # one read's time, not twenty in turn
    now[0] += VERSION_SECONDS
    fail[0] = True

    async def failing_then_last() -> list[bytes | BaseException]:
        return await asyncio.gather(*(answer.body() for _ in range(3)), return_exceptions=True)

    results = asyncio.run(failing_then_last())
    assert [type(result) for result in results].count(RuntimeError) == 1
    fail[0] = False
    assert b"1.0.4" in asyncio.run(answer.body())  # read again at once, not a second later
