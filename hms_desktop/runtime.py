"""Process-wide tuning for the long-running processes (desktop app, API server)."""

from __future__ import annotations

import gc

# Young-generation collections after this many net allocations (Python's default is 700).
_YOUNG_THRESHOLD = 10_000


def tune_garbage_collector() -> None:
    """A free-slot listing or a calendar week makes thousands of short-lived objects. With
    the default thresholds Python then runs full collections over everything start-up
    loaded (SQLAlchemy, Qt, FastAPI: tens of ms each, measured with `bench availability`)
    several times a second. Start-up objects are frozen out of collection and young
    objects are collected less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(_YOUNG_THRESHOLD, 20, 50)
