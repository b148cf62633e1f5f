"""`hms-desktop serve`: the API under uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import sys

import uvicorn
from fastapi import FastAPI

from hms_desktop.api.app import create_app
from hms_desktop.config import Settings, load_settings
from hms_desktop.logs import log_to_stderr
from hms_desktop.runtime import tune_garbage_collector
from hms_desktop.services.version_gate import require_compatible

log = logging.getLogger(__name__)

# Desks' event streams (GET /desk/v1/events) never end by themselves: on a stop or restart,
# give requests in flight this long, then close the streams (the desks reconnect).
GRACEFUL_SHUTDOWN_SECONDS = 5


# Logging is set up by hms-desktop (hms_desktop.logs: text or JSON on standard error); uvicorn
# keeps its hands off it, and its access log gives way to RequestLogMiddleware's line, which
# carries the request id.
_LOGGING: dict[str, object] = {"log_config": None, "access_log": False}


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_app() -> FastAPI:
    """The app of one server process, built from the configuration, its start-up heap
    frozen out of garbage collection. A worker process starts afresh (spawned), so it sets
    up its own logging."""
    settings = load_settings()
    log_to_stderr(settings)
    app = create_app(settings=settings)
    tune_garbage_collector()
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> int:
    if settings.has_default_secret and not is_loopback(host):
        print(  # noqa: T201
            f"error: refusing to serve on {host}: no secret key is configured. Set "
            "HMS_SECRET_KEY (or secret_key in the config file) to a long random value, "
            "or serve on 127.0.0.1 only.",
            file=sys.stderr,
        )
        return 2
    if workers > 1 and not settings.redis_url:
        print(  # noqa: T201
            f"error: --workers {workers} needs Redis (redis_url): without it holds and change "
            "events stay inside one process, and desks on different workers would not see "
            "each other. Serve the embedded store with one worker.",
            file=sys.stderr,
        )
        return 2
    if workers > 1:
        # Each worker process builds its own app (and clinic) from the same configuration;
        # the version gate is asked here first, so a refusal is one line, not N tracebacks.
        require_compatible(settings)
        uvicorn.run(
            "hms_desktop.api.server:server_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            **_LOGGING,
        )
    else:
        app = create_app(settings=settings)
        tune_garbage_collector()
        uvicorn.run(
            app,
            host=host,
            port=port,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            **_LOGGING,
        )
    return 0
