"""The public's kept answers served in front of FastAPI's router (api/fast_path.py): the same
bytes and headers as the route, the same checks first, never for a caller with a token or a
cookie, and emptied by the same change events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from hms_desktop.api.app import VersionAnswer, create_app
from hms_desktop.api.fast_path import PublicFastPath
from hms_desktop.domain.enums import Role
from hms_desktop.domain.errors import DatabaseUnavailable
from hms_desktop.domain.schedule import iso_millis
from hms_desktop.services import accounts, catalogue
from hms_desktop.services.catalogue import NamedList
from tests import factories
from tests.api.conftest import LiveServer

LONG_AGE = {"answer_cache_seconds": 60}
# What uvicorn adds on the wire and an in-process client does not, and the per-request id.
_NOT_COMPARED = {"date", "server", "x-request-id"}


class RouterCalls:
    """`customize` for `serve`: notes every request that reached FastAPI's router."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, app: FastAPI) -> None:
        inner = app.router.middleware_stack

        async def noted(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                self.paths.append(scope["path"])
            await inner(scope, receive, send)

        app.router.middleware_stack = noted  # type: ignore[method-assign]

    def since(self, mark: int) -> list[str]:
        return self.paths[mark:]


class _WithoutFastPath:
    """The same app over the same clinic with every route answering itself (no fast path),
    called in process."""

    def __init__(self, api: LiveServer) -> None:
        self.app = create_app(clinic=api.clinic)
        self.app.user_middleware = [
            m for m in self.app.user_middleware if m.cls is not PublicFastPath
        ]
        self.url = api.url

    def get(self, path: str) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(self.app, client=("127.0.0.1", 50000))
            async with httpx.AsyncClient(transport=transport, base_url=self.url) as client:
                return await client.get(path)

        return asyncio.run(call())


def _compared(response: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _NOT_COMPARED}
    return response.status_code, response.content, headers


def _public_paths(api: LiveServer) -> list[str]:
    cardio = factories.speciality(api.clinic, "Cardiology")
    doctor = api.doctor(specialisation_ids=[cardio])
    _, admin = factories.staff(api.clinic, Role.ADMIN)
    catalogue.create_named(api.clinic, admin, NamedList.DESIGNATIONS, "Consultant")
    catalogue.save_service(api.clinic, admin, name="X-ray", description="Chest")
    now = api.clinic.now()
    window = httpx.QueryParams(
        {"startTime": iso_millis(now), "endTime": iso_millis(now + timedelta(days=2))}
    )
    return [
        "/specialisations/",
        "/designations/",
        "/services/",
        "/doctors",
        f"/doctors/{doctor.doctor_id}",
        f"/doctors/specialities/Cardiology?{window}",
    ]


def test_the_fast_path_answers_byte_for_byte_as_the_route(
    serve: Callable[..., LiveServer],
) -> None:
    calls = RouterCalls()
    api = serve(calls, **LONG_AGE)
    paths = _public_paths(api)
    routed = _WithoutFastPath(api)
    with api.client() as public:
        for path in paths:
            first = public.get(path)  # the route answers and keeps it
            assert first.status_code == 200, (path, first.text)
            mark = len(calls.paths)
            fast = public.get(path)
            assert calls.since(mark) == [], f"{path}: not answered by the fast path"
            expected = routed.get(path)
            assert _compared(fast) == _compared(expected) == _compared(first), path
            assert fast.headers["x-request-id"] != first.headers["x-request-id"]
            assert fast.headers["content-security-policy"]
            assert fast.headers["x-content-type-options"] == "nosniff"

        mark = len(calls.paths)
        version = public.get("/api/version")
        assert calls.since(mark) == []
        assert _compared(version) == _compared(routed.get("/api/version"))
        assert len(version.headers["x-request-id"]) == 32


def test_a_caller_with_a_token_or_a_cookie_is_answered_by_the_route(
    serve: Callable[..., LiveServer],
) -> None:
    calls = RouterCalls()
    api = serve(calls, **LONG_AGE)
    paths = _public_paths(api)
    _, patient = api.patient_user()
    with (
        api.client() as public,
        api.client(api.token_for(patient)) as with_token,
        api.client(cookie=api.session_for(patient)) as with_cookie,
    ):
        for path in paths:
            assert public.get(path).status_code == 200  # kept for the public
            for own in (with_token, with_cookie):
                mark = len(calls.paths)
                answer = own.get(path)
                assert answer.status_code == 200, (path, answer.text)
                assert calls.since(mark) == [path.split("?")[0]]
                assert answer.json() == public.get(path).json()
        # A patient's own reads are theirs, not the public's.
        mine = with_token.get("/appointments")
        assert mine.status_code == 200 and mine.json() == []
        assert public.get("/appointments").status_code == 401
        # A bad token is still refused, kept answer or not.
        with api.client("not-a-token") as forged:
            assert forged.get("/specialisations/").status_code == 401


def test_the_fast_path_counts_the_shared_request_budget(
    serve: Callable[..., LiveServer],
) -> None:
    calls = RouterCalls()
    api = serve(calls, rate_limit_default="5/minute", **LONG_AGE)
    limit = api.clinic.throttle.parse("5/minute")
    with api.client() as public:
        for _ in range(4):
            assert public.get("/specialisations/").status_code == 200
        assert calls.paths.count("/specialisations/") == 1  # three from the fast path
        assert api.clinic.throttle.hit(limit, "default", "addr:127.0.0.1")  # the fifth
        refused = public.get("/specialisations/")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert refused.headers["x-request-id"]
        assert public.get("/designations/").status_code == 429


def test_a_change_event_empties_what_the_fast_path_serves(
    serve: Callable[..., LiveServer],
) -> None:
    calls = RouterCalls()
    api = serve(calls, **LONG_AGE)
    factories.speciality(api.clinic, "Cardiology")
    admin = accounts.actor_for(api.staff(Role.ADMIN))
    with api.client() as public:
        assert [row["name"] for row in public.get("/specialisations/").json()] == ["Cardiology"]
        mark = len(calls.paths)
        assert [row["name"] for row in public.get("/specialisations/").json()] == ["Cardiology"]
        assert calls.since(mark) == []  # kept, and answered in front of the router
        catalogue.create_named(api.clinic, admin, NamedList.SPECIALISATIONS, "Dermatology")
        # The change event reaches the server's process through Redis on PostgreSQL: at
        # once, but not before the next line can ask (test_public_cache waits the same way).
        deadline = time.monotonic() + 5
        while {row["name"] for row in public.get("/specialisations/").json()} != {
            "Cardiology",
            "Dermatology",
        }:
            assert time.monotonic() < deadline, "the kept answer outlived the change"
            time.sleep(0.02)


def test_version_unreadable_is_answered_by_the_route_and_its_error_handlers(
    serve: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = RouterCalls()
    api = serve(calls)

    async def away(self: VersionAnswer) -> bytes:
        raise DatabaseUnavailable()

    monkeypatch.setattr(VersionAnswer, "body", away)
    with api.client() as public:
        mark = len(calls.paths)
        answer = public.get("/api/version")
        assert calls.since(mark) == ["/api/version"]
        assert answer.status_code == 503, answer.text
        assert DatabaseUnavailable.message in answer.text
        assert answer.headers["x-request-id"]
