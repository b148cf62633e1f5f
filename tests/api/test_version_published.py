"""The version gate reaches remote desks too: `db require-version` is published in
`GET /api/version` (within `VERSION_SECONDS`: the server reads it at most once a second),
and a remote desktop older than it refuses at log-in, naming the version and where IT put it."""

from __future__ import annotations

import time
from typing import Any

import pytest

import hms_desktop
from hms_desktop.api.app import VERSION_SECONDS
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
