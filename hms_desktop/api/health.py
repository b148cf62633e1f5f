"""`GET /health`: whether this server can do its work, for a load balancer, systemd or a
monitoring check. No log-in, and nothing in it an outsider could use (no versions, hosts
or error texts): 200 when the database and Redis answer, 503 when either does not."""

from __future__ import annotations

import logging
from typing import Any

import redis
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .openapi import PUBLIC, access

log = logging.getLogger(__name__)

router = APIRouter(tags=["meta"])

PROBE_TIMEOUT_SECONDS = 2.0


def _database_status(request: Request) -> str:
    try:
        with request.app.state.clinic.db.read() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        log.warning("health: database unavailable: %s", error)
        return "unavailable"
    return "ok"


def _redis_status(request: Request) -> str:
    url = request.app.state.settings.redis_url
    if not url:
        return "not configured"
    client = getattr(request.app.state, "health_redis", None)
    if client is None:
        client = redis.Redis.from_url(
            url,
            socket_timeout=PROBE_TIMEOUT_SECONDS,
            socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        )
        request.app.state.health_redis = client
    try:
        client.ping()
    except redis.RedisError as error:
        log.warning("health: Redis unavailable: %s", error)
        return "unavailable"
    return "ok"


@router.get(
    "/health",
    summary="Database and Redis status (200 healthy, 503 not); no log-in",
    responses={503: {"description": "The database or Redis does not answer"}},
    openapi_extra=access(PUBLIC),
)
def health(request: Request) -> JSONResponse:
    checks: dict[str, Any] = {
        "database": _database_status(request),
        "redis": _redis_status(request),
    }
    healthy = "unavailable" not in checks.values()
    body = {"status": "ok" if healthy else "unavailable", **checks}
    return JSONResponse(body, status_code=200 if healthy else 503)
