"""Smoke runs of every benchmark (`--quick`) on the PostgreSQL + Redis test services:
each prints its table and writes JSON with the figures the README quotes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hms_desktop.bench import BENCHMARKS
from tests import stores

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_env(tmp_path: Path) -> dict[str, str]:
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
    return env


def run_bench(env: dict[str, str], name: str, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    output = tmp_path / f"{name}.json"
    result = subprocess.run(
        [sys.executable, "-m", "hms_desktop", "bench", name, "--quick", "--json", str(output)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(output.read_text())
    assert report["benchmark"] == name
    assert report["quick"] is True
    assert f"benchmark {name}" in result.stdout
    assert "targets" in result.stdout
    for target in report["targets"]:
        assert target["measured"] > 0
        assert isinstance(target["met"], bool)
    return result.stdout, report


def test_booking_bench_books_every_slot_and_measures_the_floor(
    bench_env: dict[str, str], tmp_path: Path
) -> None:
    from hms_desktop.bench.booking import BOOKINGS, WARM_UP

    stdout, report = run_bench(bench_env, "booking", tmp_path)
    figures = report["figures"]
    for workers in (1, 8, 32):
        level = figures[f"workers_{workers}"]
        for side in ("service", "floor"):
            assert level[side]["count"] == BOOKINGS[workers][1]
            assert 0 < level[side]["p50_ms"] <= level[side]["p99_ms"]
            assert level[side]["bookings_per_s"] > 0
        assert level["p50_ratio"] > 0
    # Every hold + confirm of both sides (and the warm-ups) left exactly one appointment.
    expected = 2 * (sum(counts[1] for counts in BOOKINGS.values()) + WARM_UP)
    assert figures["appointments_in_database"] == expected
    assert "service p50" in stdout and "floor p50" in stdout
    targets = {target["description"]: target for target in report["targets"]}
    assert "bookings/s with 8 workers" in targets
    # Issue 14's target: the service's bookings/s at 8 workers against the floor's, same run.
    share = targets["bookings/s with 8 workers, share of the floor's (same run)"]
    level = figures["workers_8"]
    expected_share = level["service"]["bookings_per_s"] / level["floor"]["bookings_per_s"]
    assert share["measured"] == pytest.approx(expected_share, rel=0.01)
    assert share["limit"] == 0.60
    assert level["bookings_per_s_share_of_floor"] == pytest.approx(share["measured"], abs=0.001)


def test_availability_bench_reports_latency_and_an_indexed_plan(
    bench_env: dict[str, str], tmp_path: Path
) -> None:
    stdout, report = run_bench(bench_env, "availability", tmp_path)
    figures = report["figures"]
    assert 0 < figures["latency"]["p50_ms"] <= figures["latency"]["p95_ms"]
    assert figures["latency"]["p95_ms"] <= figures["latency"]["p99_ms"]
    assert figures["rows"]["doctors"] == 40
    assert figures["rows"]["slots"] > 1000 and figures["rows"]["appointments"] > 0
    assert figures["free_slots_returned_mean"] > 0
    # The same SQL alone, measured in the same run, and the service's p95 against it.
    assert 0 < figures["sql_alone_latency"]["p50_ms"] <= figures["sql_alone_latency"]["p95_ms"]
    assert figures["sql_alone_latency"]["count"] == figures["latency"]["count"]
    assert figures["p95_ratio_to_sql_alone"] > 0
    assert "Index" in figures["plan"] and "Seq Scan on slots" not in figures["plan"]
    assert "free slots by speciality (ms)" in stdout


def test_search_bench_reports_name_and_phone_latency(
    bench_env: dict[str, str], tmp_path: Path
) -> None:
    stdout, report = run_bench(bench_env, "search", tmp_path)
    figures = report["figures"]
    for kind in ("name", "phone"):
        assert 0 < figures[kind]["p50_ms"] <= figures[kind]["p95_ms"] <= figures[kind]["p99_ms"]
        assert figures[kind]["answers_mean"] > 0
    assert figures["patients"] == 5000
    assert figures["name_plan_uses_trigram_index"] is True
    assert figures["name_plan_uses_prefix_index"] is True
    assert "patient search (ms)" in stdout


def test_unknown_benchmark_is_refused(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("HMS_")}
    (tmp_path / "config.toml").touch()
    result = subprocess.run(
        [sys.executable, "-m", "hms_desktop", "bench", "nonsense"],
        capture_output=True,
        text=True,
        env={**env, "PYTHONPATH": str(ROOT), "HMS_CONFIG": str(tmp_path / "config.toml")},
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "unknown benchmark 'nonsense'" in result.stdout
    assert set(BENCHMARKS) >= {"booking", "availability", "search", "api", "ui", "remote"}


API_READS = (
    "GET /api/version",
    "GET /doctors",
    "GET /doctors/{id}",
    "GET /doctors/specialities/{name} (one week)",
    "GET /specialisations/",
    "GET /designations/",
    "GET /services/",
    "GET /appointments (a patient's)",
)


def test_api_bench_reports_a_ratio_to_the_floor_per_path(
    bench_env: dict[str, str], tmp_path: Path
) -> None:
    stdout, report = run_bench(bench_env, "api", tmp_path)
    figures = report["figures"]
    for request in API_READS:
        figure = figures[request]
        assert figure["bytes"] > 0
        assert figure["requests_per_second"] > 0 and figure["floor_requests_per_second"] > 0
        assert figure["ratio"] == pytest.approx(
            figure["floor_requests_per_second"] / figure["requests_per_second"], rel=0.01
        )
        assert request in stdout
    flows = ("in process", "over HTTP", "over HTTP, paced")
    for how in flows:
        assert figures[f"hold + confirm, {how}"]["count"] == 16 * 8  # quick: 8 per client
        assert figures[f"hold + confirm, {how}"]["bookings_per_second"] > 0
    assert figures["http_share_of_in_process"] == pytest.approx(
        figures["hold + confirm, over HTTP"]["bookings_per_second"]
        / figures["hold + confirm, in process"]["bookings_per_second"],
        abs=0.02,
    )
    # Paced at half the in-process rate: it cannot book faster than it was offered.
    offered = figures["hold + confirm, in process"]["bookings_per_second"] / 2
    assert figures["hold + confirm, over HTTP, paced"]["bookings_per_second"] <= offered * 1.05
    assert "project beside the floor" in stdout


def test_remote_bench_reports_booking_latency_and_propagation(
    bench_env: dict[str, str], tmp_path: Path
) -> None:
    stdout, report = run_bench(bench_env, "remote", tmp_path)
    assert "hold + confirm latency (ms)" in stdout
    assert "change-event propagation" in stdout
    figures = report["figures"]
    for name in ("booking_local", "booking_remote", "propagation_local", "propagation_remote"):
        assert figures[name]["count"] >= 30
        assert 0 < figures[name]["p50_ms"] <= figures[name]["p99_ms"]
    # serve --workers 2 on the embedded store: every change reached the other desk's window.
    shown, floor = figures["embedded_workers_desk_to_desk"], figures["embedded_workers_floor"]
    assert shown["count"] == floor["count"] == 12
    assert 0 < floor["p50_ms"] < shown["p50_ms"] <= shown["p99_ms"]


def test_ui_bench_reports_the_desk_timings(bench_env: dict[str, str], tmp_path: Path) -> None:
    stdout, report = run_bench(bench_env, "ui", tmp_path)
    figures = report["figures"]
    for name in ("startup", "search", "week_switch", "side_by_side_week", "longest_stall"):
        assert figures[name]["count"] >= 1 and figures[name]["p50_ms"] > 0, name
    # Every change was shown on the second desk's window (a miss would have ended the run).
    assert figures["desk_to_desk"]["count"] == figures["desk_to_desk_floor"]["count"] == 12
    assert 0 < figures["desk_to_desk_floor"]["p50_ms"] < figures["desk_to_desk"]["p50_ms"]
    assert len(report["targets"]) == 6
    assert "search keystroke to results" in stdout
    assert "a week of all doctors side by side (8 doctors, 56 columns)" in stdout


def test_reports_bench_times_each_report(bench_env: dict[str, str], tmp_path: Path) -> None:
    stdout, report = run_bench(bench_env, "reports", tmp_path)
    figures = report["figures"]
    assert figures["counts"]["appointments"] > 0
    for key in ("all/doctor", "all/speciality", "month/doctor", "month/speciality"):
        measured = figures["reports"][key]
        assert measured["rows"] > 0 and measured["booked"] > 0
        assert 0 < measured["p50_ms"] <= measured["max_ms"]
    assert figures["reports"]["all/doctor"]["rows"] == 5
    assert figures["reports"]["all/speciality"]["rows"] == 3
    assert "one report (ms)" in stdout
