"""A real `hms-desktop serve` process on a test's store, on a given port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.stores import StoreSpec

ROOT = Path(__file__).resolve().parents[2]


def start_serve(
    store: StoreSpec,
    tmp_path: Path,
    port: int,
    log: Path | None = None,
    level: str = "WARNING",
    workers: int = 1,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """`env`: more settings as HMS_* variables (e.g. a low rate limit), over the store's."""
    settings = store.settings()
    config = tmp_path / "config.toml"
    config.touch()
    environ = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
    environ.update(
        HMS_CONFIG=str(config),
        HMS_DATABASE_URL=settings.database_url,
        HMS_REDIS_URL=settings.redis_url,
        HMS_REDIS_PREFIX=settings.redis_prefix,
        HMS_SECRET_KEY=settings.secret_key,
        HMS_LOG_LEVEL=level,
        PYTHONPATH=str(ROOT),
    )
    environ.update(env or {})
    command = [sys.executable, "-m", "hms_desktop", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    stderr = log.open("wb") if log is not None else None
    process = subprocess.Popen(command, env=environ, cwd=ROOT, stderr=stderr)
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, "hms-desktop serve exited"
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/version", timeout=1).raise_for_status()
            return process
        except httpx.HTTPError:
            assert time.monotonic() < deadline, "hms-desktop serve did not start"
            time.sleep(0.1)
