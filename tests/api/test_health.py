"""`GET /health` (no log-in: database and Redis status, nothing more) and the request log:
one line per request carrying the id the client got in X-Request-ID, as text or JSON."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from sqlalchemy.exc import OperationalError

from hms_desktop.store.locks import RedisLockStore
from tests.api.conftest import LiveServer


def test_health_answers_without_log_in_and_says_nothing_sensitive(api: LiveServer) -> None:
    with api.client() as client:
        response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    expected_redis = "ok" if api.clinic.settings.redis_url else "not configured"
    assert body == {"status": "ok", "database": "ok", "redis": expected_redis}


def test_health_is_503_when_redis_does_not_answer(
    serve: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve()
    nowhere = "redis://127.0.0.1:1/0"
    # The server's own Redis client (its lock store), pointed where nothing answers.
    monkeypatch.setattr(
        server.clinic, "settings", server.clinic.settings.with_overrides(redis_url=nowhere)
    )
    monkeypatch.setattr(server.clinic, "locks", RedisLockStore(nowhere, "health-test:"))
    with server.client() as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "redis": "unavailable"}
    assert "127.0.0.1:1" not in response.text


def test_health_is_503_when_the_database_does_not_answer(
    serve: Callable[..., LiveServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = serve()

    def unreachable() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused by db.clinic.lan"))

    monkeypatch.setattr(server.clinic.db, "read", unreachable)
    with server.client() as client:
        response = client.get("/health")
    assert response.status_code == 503 and response.headers["Retry-After"] == "3"
    assert response.json()["database"] == "unavailable"
    assert "db.clinic.lan" not in response.text


def test_every_request_is_logged_once_with_its_id(
    api: LiveServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="hms_desktop.requests"), api.client() as client:
        response = client.get("/api/version")
        missing = client.get("/no/such/path")
    lines = [record for record in caplog.records if record.name == "hms_desktop.requests"]
    assert len(lines) == 2
    first, second = lines
    assert first.request_id == response.headers["X-Request-ID"]
    assert (first.method, first.path, first.status) == ("GET", "/api/version", 200)
    assert "GET /api/version 200" in first.getMessage()
    assert response.headers["X-Request-ID"] in first.getMessage()
    assert (second.status, second.request_id) == (404, missing.headers["X-Request-ID"])


def test_json_log_lines_carry_the_request_fields() -> None:
    from hms_desktop.logs import JsonFormatter

    record = logging.makeLogRecord(
        {
            "name": "hms_desktop.requests",
            "levelname": "INFO",
            "msg": "GET /health 200",
            "request_id": "abc123",
            "status": 200,
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /health 200"
    assert line["request_id"] == "abc123" and line["status"] == 200
    assert line["level"] == "INFO" and line["time"].endswith("+00:00")
