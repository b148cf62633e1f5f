"""`hms-desktop bench remote --quick`: a real `serve` subprocess on PostgreSQL + Redis, the
booking flow through the API beside the local one, and event propagation between desks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests import stores

ROOT = Path(__file__).resolve().parents[2]


def test_remote_bench_reports_booking_latency_and_propagation(tmp_path: Path) -> None:
    if not stores.DATABASE_URL or not stores.REDIS_URL:
        stores.unavailable("HMS_TEST_DATABASE_URL and HMS_TEST_REDIS_URL are not set")
    stores.check_redis()
    config = tmp_path / "config.toml"
    config.touch()
    env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
    env.update(
        HMS_CONFIG=str(config),
        HMS_BENCH_DATABASE_URL=stores.DATABASE_URL,
        HMS_BENCH_REDIS_URL=stores.REDIS_URL,
        HMS_LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    output = tmp_path / "remote.json"
    result = subprocess.run(
        [sys.executable, "-m", "hms_desktop", "bench", "remote", "--quick", "--json", str(output)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hold + confirm latency (ms)" in result.stdout
    assert "change-event propagation" in result.stdout
    figures = json.loads(output.read_text())["figures"]
    for name in ("booking_local", "booking_remote", "propagation_local", "propagation_remote"):
        assert figures[name]["count"] >= 30
        assert 0 < figures[name]["p50_ms"] <= figures[name]["p99_ms"]
