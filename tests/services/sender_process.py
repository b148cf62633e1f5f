"""A sender process, for the test of several processes sending one outbox at once. A spawned
child imports this module, so it imports only what sending needs."""

from __future__ import annotations

from typing import Any

from hms_desktop.config import Settings
from hms_desktop.services.clinic import open_clinic
from hms_desktop.services.delivery import transports_for
from hms_desktop.services.sender import send_due, sender_name


def send(settings: Settings, barrier: Any, results: Any) -> None:
    clinic = open_clinic(settings, migrate=False)
    try:
        barrier.wait(timeout=120)
        # Small batches, so the two processes' claims interleave many times.
        done = send_due(clinic, transports_for(settings), sender_name(), limit=5)
        results.put(done.ids)
    finally:
        clinic.close()
