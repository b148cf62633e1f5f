"""`hms-desktop serve` as a process: one JSON line per request on standard error, carrying
the request id the client got; more than one worker without Redis is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from hms_desktop.api import server
from hms_desktop.config import Settings
from hms_desktop.store import schema
from tests.live_server import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_serve_logs_one_json_line_per_request_with_its_id(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    schema.upgrade(url)
    config = tmp_path / "config.toml"
    config.write_text('log_format = "json"\n')
    env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
    env.update(HMS_CONFIG=str(config), HMS_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "hms_desktop", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert len(lines) == len(stderr.splitlines()), stderr  # every line is JSON
    requests = [line for line in lines if line["logger"] == "hms_desktop.requests"]
    assert len(requests) == 1
    assert requests[0]["request_id"] == response.headers["X-Request-ID"]
    assert (requests[0]["path"], requests[0]["status"]) == ("/health", 200)


def test_more_workers_on_postgresql_need_redis() -> None:
    # The embedded store serves several workers (tests/remote/test_embedded_workers.py).
    central = Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert server.serve(central, workers=2) == 2
