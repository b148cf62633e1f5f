"""A process that tops up slots, for the test of several processes doing it at once. A spawned
child imports this module, so it imports only what the top-up needs."""

from __future__ import annotations

from typing import Any

from hms_desktop.config import Settings
from hms_desktop.services import hours
from hms_desktop.services.clinic import open_clinic


def top_up(settings: Settings, barrier: Any, results: Any) -> None:
    clinic = open_clinic(settings, migrate=False)
    try:
        barrier.wait(timeout=120)
        results.put(hours.top_up(clinic))
    finally:
        clinic.close()
