"""`hms-desktop serve`: the API under uvicorn."""

from __future__ import annotations

import logging
import os
import secrets
import sys
import time
from typing import Any

import uvicorn
from fastapi import FastAPI

from hms_desktop.api.app import create_app
from hms_desktop.config import Settings, data_dir, load_settings
from hms_desktop.logs import log_to_stderr
from hms_desktop.runtime import tune_garbage_collector
from hms_desktop.services.version_gate import require_compatible

log = logging.getLogger(__name__)

# On a stop or restart the desks' event streams end at once (api/desk_events); requests in
# flight get this long to finish.
GRACEFUL_SHUTDOWN_SECONDS = 5


# Logging is set up by hms-desktop (hms_desktop.logs: text or JSON on standard error); uvicorn
# keeps its hands off it, and its access log gives way to RequestLogMiddleware's line, which
# carries the request id.
_LOGGING: dict[str, Any] = {"log_config": None, "access_log": False}

# Shorter keys can be found from one token by trying keys offline.
MIN_SECRET_LENGTH = 32
SECRET_FILE = "server-secret.key"


class WeakSecret(ValueError):
    pass


def with_server_secret(settings: Settings) -> Settings:
    """A server signs tokens with the configured `secret_key`, or, when none is set, with
    one it made for itself on its first start and keeps (readable by its user only) in
    its data folder, which every worker on this machine reads: never with a key anyone
    can read in this source. Several servers sharing a clinic need the same key set."""
    if not settings.has_default_secret:
        if len(settings.secret_key) < MIN_SECRET_LENGTH:
            raise WeakSecret(
                f"secret_key is too short ({len(settings.secret_key)} characters): use a "
                f"random value of at least {MIN_SECRET_LENGTH}, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_hex(32))'`."
            )
        return settings
    path = data_dir() / SECRET_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier start, or by another worker just now
    else:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
        log.info("made a secret key for this server in %s", path)
    for _ in range(50):  # another worker may be writing it this very moment
        key = path.read_text().strip()
        if key:
            return settings.with_overrides(secret_key=key)
        time.sleep(0.02)
    raise WeakSecret(f"{path} is empty: delete it, or set secret_key")


def server_app() -> FastAPI:
    """The app of one server process, built from the configuration, its start-up heap
    frozen out of garbage collection. A worker process starts afresh (spawned), so it sets
    up its own logging."""
    settings = load_settings()
    log_to_stderr(settings)
    app = create_app(settings=with_server_secret(settings), keep_slots=True)
    tune_garbage_collector()
    return app


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> int:
    try:
        settings = with_server_secret(settings)
    except WeakSecret as error:
        print(f"error: {error}", file=sys.stderr)  # noqa: T201
        return 2
    # Client addresses (log-in throttling) come from X-Forwarded-For only when the request
    # came through one of these proxies; anyone else could write that header.
    proxies: dict[str, Any] = {
        "proxy_headers": True,
        "forwarded_allow_ips": ",".join(settings.trusted_proxies),
    }
    if workers > 1 and not settings.redis_url and not settings.is_embedded:
        # The embedded file carries holds and change events between its processes; a
        # central database without Redis keeps change events inside each process.
        print(  # noqa: T201
            f"error: --workers {workers} on PostgreSQL needs Redis (redis_url): without it "
            "change events stay inside one process, and desks on different workers would "
            "not see each other. Set redis_url, or serve with one worker.",
            file=sys.stderr,
        )
        return 2
    if workers > 1:
        # Each worker process builds its own app (and clinic) from the same configuration;
        # the version gate is asked here first, so a refusal is one line, not N tracebacks.
        require_compatible(settings)
        # The supervisor's own heap too: frozen, the interpreter's exit skips collecting it
        # (about a second of a stop on a busy machine).
        tune_garbage_collector()
        uvicorn.run(
            "hms_desktop.api.server:server_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            **proxies,
            **_LOGGING,
        )
    else:
        app = create_app(settings=settings, keep_slots=True)
        tune_garbage_collector()
        uvicorn.run(
            app,
            host=host,
            port=port,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
            **proxies,
            **_LOGGING,
        )
    return 0
