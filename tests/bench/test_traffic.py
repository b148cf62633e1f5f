"""bench api's load generator: wrk's report read right, a failed answer never counted."""

from __future__ import annotations

import pytest

from hms_desktop.bench.traffic import parse_wrk

WRK_REPORT = """Running 2s test @ http://127.0.0.1:8000/specialisations/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.02ms  412.00us   9.87ms   88.10%
    Req/Sec     7.91k   512.33     8.70k    70.00%
  Latency Distribution
     50%  0.95ms
     75%    1.12ms
     90%    1.40ms
     99%   2.50ms
  31480 requests in 2.00s, 19.61MB read
Requests/sec:  15740.12
Transfer/sec:      9.80MB
"""


def test_wrk_report_gives_rate_and_latency() -> None:
    load = parse_wrk(WRK_REPORT)
    assert load.requests == 31480
    assert load.requests_per_second == 15740.12
    assert load.p50_ms == 0.95 and load.p99_ms == 2.5


def test_wrk_report_in_microseconds_and_seconds() -> None:
    report = WRK_REPORT.replace("50%  0.95ms", "50%  950.00us").replace("99%   2.50ms", "99% 1.20s")
    load = parse_wrk(report)
    assert load.p50_ms == 0.95 and load.p99_ms == 1200.0


def test_non_2xx_answers_fail_the_run() -> None:
    with pytest.raises(RuntimeError, match="not 2xx"):
        parse_wrk(WRK_REPORT + "  Non-2xx or 3xx responses: 12\n")
