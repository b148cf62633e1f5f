"""What every endpoint shares: rate limits, JSON errors with request ids, CORS, versions,
and the server's refusal to listen publicly without a secret key."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fastapi import FastAPI

import hms_desktop
from hms_desktop.api import server
from hms_desktop.config import Settings
from tests.api.conftest import LiveServer


def test_version_handshake(api: LiveServer) -> None:
    with api.client() as client:
        assert client.get("/api/version").json() == {
            "api_version": hms_desktop.API_VERSION,
            "server_version": hms_desktop.__version__,
        }


def test_login_failures_are_limited_per_address_and_username(serve) -> None:  # type: ignore[no-untyped-def]
    api: LiveServer = serve(rate_limit_login="3/minute")
    with api.client() as client:
        registered = client.post(
            "/api/user/register/",
            json={
                "username": "eve",
                "first_name": "Eve",
                "password": "s3cret-pass",
                "confirm_password": "s3cret-pass",
            },
        )
        assert registered.status_code == 201
        for _ in range(3):
            wrong = client.post("/api/user/login/", json={"username": "eve", "password": "bad"})
            assert wrong.status_code == 401
        blocked = client.post("/api/user/login/", json={"username": "eve", "password": "bad"})
        assert blocked.status_code == 429
        assert 1 <= int(blocked.headers["Retry-After"]) <= 60
        assert "Try again in" in blocked.json()["detail"]
        # Even the right password waits now, through either API.
        assert (
            client.post(
                "/api/user/login/", json={"username": "eve", "password": "s3cret-pass"}
            ).status_code
            == 429
        )
        booking = client.post("/sessions", json={"username": "EVE", "password": "s3cret-pass"})
        assert booking.status_code == 429 and "error" in booking.json()
        assert "Retry-After" in booking.headers
        # Another username from the same address is not held up.
        other = client.post("/api/user/login/", json={"username": "mallory", "password": "x"})
        assert other.status_code == 401


def test_requests_are_limited_per_user(serve) -> None:  # type: ignore[no-untyped-def]
    api: LiveServer = serve(rate_limit_default="5/minute")
    _, first = api.patient_user()
    _, second = api.patient_user()
    with api.client(api.token_for(first)) as one, api.client(api.token_for(second)) as two:
        for _ in range(5):
            assert one.get("/appointments/").status_code == 200
        limited = one.get("/doctors")
        assert limited.status_code == 429 and limited.json()["error"].startswith("Request was")
        assert int(limited.headers["Retry-After"]) >= 1
        assert two.get("/appointments/").status_code == 200


def test_unexpected_errors_are_json_with_a_logged_request_id(
    serve, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    def add_failing_route(app: FastAPI) -> None:
        @app.get("/boom")
        def boom() -> None:
            raise RuntimeError("database exploded")

    api: LiveServer = serve(customize=add_failing_route)
    with caplog.at_level(logging.ERROR, logger="hms_desktop.api.errors"), api.client() as client:
        response = client.get("/boom")
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "Internal server error" and set(body) == {"error", "request_id"}
    assert "database exploded" not in response.text and "Traceback" not in response.text
    assert response.headers["X-Request-ID"] == body["request_id"]
    assert any(body["request_id"] in record.getMessage() for record in caplog.records)


def test_malformed_bodies_and_wrong_types_are_4xx_json(api: LiveServer) -> None:
    with api.client() as client:
        for method, path, kwargs in (
            ("POST", "/api/user/login/", {"content": b"{oops"}),
            ("POST", "/api/user/login/", {"json": {"username": 5}}),
            ("POST", "/contacts/", {"json": ["not", "an", "object"]}),
            ("POST", "/sessions", {"content": b"\xff\xfe"}),
            ("GET", "/media/abc", {}),
            ("GET", "/doctors/abc/", {}),
        ):
            headers = {"content-type": "application/json"} if "content" in kwargs else {}
            response = client.request(method, path, headers=headers, **kwargs)
            assert 400 <= response.status_code < 500, (path, response.status_code)
            assert response.headers["content-type"].startswith("application/json")
        missing_image = client.get("/media/999999")
        assert missing_image.status_code == 404 and missing_image.json() == {
            "error": "Image not found."
        }


def test_cors_origins_come_from_settings(serve) -> None:  # type: ignore[no-untyped-def]
    api: LiveServer = serve(cors_origins=("https://portal.example",))
    with api.client() as client:
        allowed = client.options(
            "/doctors/",
            headers={
                "Origin": "https://portal.example",
                "Access-Control-Request-Method": "GET",
            },
        )
        assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
        other = client.get("/doctors/", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_a_server_never_signs_with_the_default_or_a_short_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The default key is in this source: tokens signed with it could be forged by anyone,
    proxy in front or not. A server without a key makes its own and keeps it."""
    monkeypatch.setattr(server, "data_dir", lambda: tmp_path)
    made = server.with_server_secret(Settings())
    assert not made.has_default_secret and len(made.secret_key) >= 64
    assert server.with_server_secret(Settings()).secret_key == made.secret_key  # kept
    assert (tmp_path / server.SECRET_FILE).stat().st_mode & 0o777 == 0o600
    assert server.serve(Settings(secret_key="short"), port=1) == 2
    assert "too short" in capsys.readouterr().err
