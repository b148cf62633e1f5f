"""A bounded schemathesis run against a live server, as an admin, a patient and anonymous:
all its checks (valid and invalid requests, stateful sequences through the document's
links), and none may fail: no 5xx, no status or header the document does not declare, no
answer that breaks its schema, authentication exactly where the document says.

One check is left out: `positive_data_acceptance` expects every request the schema allows
to succeed, and some rules cannot be written in JSON Schema (a window's start before its
end, a password confirmed twice, a username not yet taken); they answer with the
document's own 400 and message, which the bad-input sweep checks.

Longer runs (tens of thousands of cases) are a `schemathesis run` away; see the README.
On one store: the answers checked here are the API's; both stores run the matrix and the
bad-input sweep."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from tests import stores
from tests.api.conftest import LiveServer
from tests.api.permission_world import build_world
from tests.stores import StoreSpec

# Seconds of generated requests per caller; the run stops early when its cases are done.
BUDGET_SECONDS = 25
# Logging out would end the very log-in the run calls with.
ENDS_THE_SESSION = ("/sessions", "/api/user/logout/", "/desk/v1/session/logout")


@pytest.fixture(params=["sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[StoreSpec]:
    yield from stores.provide(request, request.param)


def _run(url: str, token: str | None, seed: int) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{url}/openapi.json",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--mode",
        "all",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        "5",
        "--max-time",
        str(BUDGET_SECONDS),
        "--seed",
        str(seed),
        # One worker: with two, CPython 3.11 trips over its own AST recursion check
        # while schemathesis compiles its generators ("AST constructor recursion depth").
        "--workers",
        "1",
        "--no-shrink",
        # The event stream never ends by design; its own tests cover it.
        "--exclude-path",
        "/desk/v1/events",
    ]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
        for path in ENDS_THE_SESSION:
            command += ["--exclude-path", path]
    return subprocess.run(command, capture_output=True, text=True, timeout=BUDGET_SECONDS * 4)


@pytest.mark.slow
def test_schemathesis_finds_nothing_as_admin_patient_or_anonymous(
    serve: Callable[..., LiveServer],
) -> None:
    api = serve(max_holds_per_patient=100_000, max_online_bookings_per_patient=100_000)
    world = build_world(api)
    for seed, role in enumerate(("admin", "patient", "anonymous"), start=1):
        result = _run(api.url, world.people[role].token, seed)
        # The failures themselves, not only the closing warnings, so a red run says why.
        failures = result.stdout.find("= FAILURES =")
        start = failures if failures >= 0 else max(0, len(result.stdout) - 4000)
        summary = result.stdout[start : start + 6000]
        assert result.returncode == 0, f"as {role}:\n{summary}\n{result.stderr[-2000:]}"
        assert " passed" in result.stdout and "generated" in result.stdout, summary
