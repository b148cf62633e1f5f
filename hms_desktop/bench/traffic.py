"""The load generator of `bench api`: `wrk` when it is installed (a C load generator leaves
the two shared cores to the servers), else Python threads with keep-alive connections,
which saturate long before the server does (the report says which one ran)."""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass

import httpx

from hms_desktop.bench.common import latency_summary

WRK_THREADS = 2

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_RATE = re.compile(r"Requests/sec:\s+([\d.]+)")
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", re.MULTILINE)
_REQUESTS = re.compile(r"(\d+) requests in")
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_ERRORS = re.compile(r"Socket errors: .*")


@dataclass(frozen=True)
class Load:
    requests: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def generator() -> str:
    """ "wrk" when it is on the PATH, else "threads"."""
    return "wrk" if shutil.which("wrk") else "threads"


def measure(url: str, seconds: int, clients: int, headers: dict[str, str]) -> Load:
    """Requests per second and latency of GET `url` from `clients` concurrent connections."""
    if generator() == "wrk":
        return _wrk(url, seconds, clients, headers)
    return _threads(url, seconds, clients, headers)


def parse_wrk(output: str) -> Load:
    """wrk's `--latency` report as figures; a non-2xx answer or no answer fails the run."""
    rate = _RATE.search(output)
    count = _REQUESTS.search(output)
    if rate is None or count is None:
        raise RuntimeError(f"wrk printed no rate:\n{output}")
    non_2xx = _NON_2XX.search(output)
    if non_2xx is not None:
        raise RuntimeError(f"{non_2xx.group(1)} answers were not 2xx:\n{output}")
    percentiles = {
        name: float(value) * _UNITS_MS[unit] for name, value, unit in _PERCENTILE.findall(output)
    }
    return Load(
        requests=int(count.group(1)),
        requests_per_second=float(rate.group(1)),
        p50_ms=round(percentiles.get("50", 0.0), 3),
        p99_ms=round(percentiles.get("99", 0.0), 3),
    )


def _wrk(url: str, seconds: int, clients: int, headers: dict[str, str]) -> Load:
    command = ["wrk", f"-t{WRK_THREADS}", f"-c{clients}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    return parse_wrk(result.stdout)


def _threads(url: str, seconds: int, clients: int, headers: dict[str, str]) -> Load:
    samples: list[list[float]] = [[] for _ in range(clients)]
    failures: list[BaseException] = []
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def loop(index: int) -> None:
        with httpx.Client(headers=headers, timeout=30) as client:
            start.wait()
            own = samples[index]
            try:
                while time.perf_counter() < stop_at[0]:
                    began = time.perf_counter()
                    client.get(url).raise_for_status()
                    own.append(time.perf_counter() - began)
            except Exception as error:  # noqa: BLE001 - reported after the run
                failures.append(error)

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + seconds
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} clients failed; first: {failures[0]!r}")
    flat = [value for own in samples for value in own]
    summary = latency_summary(flat)
    return Load(
        requests=len(flat),
        requests_per_second=round(len(flat) / elapsed, 1),
        p50_ms=summary["p50_ms"],
        p99_ms=summary["p99_ms"],
    )
