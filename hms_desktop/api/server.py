"""`hms-desktop serve`: the API under uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import sys

import uvicorn
from fastapi import FastAPI

from hms_desktop.api.app import create_app
from hms_desktop.config import Settings, load_settings
from hms_desktop.runtime import tune_garbage_collector

log = logging.getLogger(__name__)

# Desks' event streams (GET /desk/v1/events) never end by themselves: on a stop or restart,
# give requests in flight this long, then close the streams (the desks reconnect).
GRACEFUL_SHUTDOWN_SECONDS = 5


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def server_app() -> FastAPI:
    """The app of one server process, built from the configuration, its start-up heap
    frozen out of garbage collection."""
    app = create_app(settings=load_settings())
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
    log_level = settings.log_level.lower()
    if workers > 1:
        # Each worker process builds its own app (and clinic) from the same configuration.
        uvicorn.run(
            "hms_desktop.api.server:server_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level=log_level,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    else:
        app = create_app(settings=settings)
        tune_garbage_collector()
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
    return 0
