"""`hms-desktop bench NAME`: measurements that print a table of figures (and write JSON).

Each benchmark is a function `run(settings, *, quick) -> Report` in its own module,
imported only when asked for (the UI one needs Qt, the API one a server).
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Callable
from pathlib import Path

from hms_desktop.bench.common import Report
from hms_desktop.config import Settings
from hms_desktop.runtime import tune_garbage_collector

log = logging.getLogger(__name__)

BENCHMARKS: dict[str, str] = {
    "booking": "hms_desktop.bench.booking:run",
    "availability": "hms_desktop.bench.availability:run",
    "search": "hms_desktop.bench.search:run",
    "api": "hms_desktop.bench.api:run",
    "ui": "hms_desktop.bench.ui:run",
    "remote": "hms_desktop.bench.remote:run",
    "reports": "hms_desktop.bench.reports:run",
}


def load(name: str) -> Callable[..., Report]:
    module_name, function_name = BENCHMARKS[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def run_benchmark(
    name: str, settings: Settings, *, json_path: str | None = None, quick: bool = False
) -> int:
    if name not in BENCHMARKS:
        print(f"error: unknown benchmark {name!r}; choose one of {', '.join(BENCHMARKS)}")  # noqa: T201
        return 2
    benchmark = load(name)
    # Measured as the long-running processes run: start-up heap frozen (runtime.py).
    tune_garbage_collector()
    report = benchmark(settings, quick=quick)
    print(report.render())  # noqa: T201
    if json_path:
        Path(json_path).write_text(json.dumps(report.as_json(), indent=2) + "\n")
        print(f"figures written to {json_path}")  # noqa: T201
    return 0
