"""Keeping every doctor's slots `booking_horizon_days` ahead from a background thread: the
server does it at start and hourly, a desktop on the database once at log-in."""

from __future__ import annotations

import logging
import threading

from hms_desktop.services import hours
from hms_desktop.services.clinic import Clinic

log = logging.getLogger(__name__)

HOURLY = 3600.0


class SlotKeeper:
    """Tops up once at `start()`, then every `interval` seconds until `stop()`, which returns
    as soon as the doctor being topped up is done (each doctor is one short transaction)."""

    def __init__(self, clinic: Clinic, interval: float = HOURLY, *, repeat: bool = True) -> None:
        self.clinic = clinic
        self.interval = interval
        self.repeat = repeat
        self.runs = 0
        self.made = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slot-keeper", daemon=True)

    def start(self) -> SlotKeeper:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.made += hours.top_up(self.clinic, stop=self._stop)
            except Exception:
                # A database that is away for a moment must not end the keeping for good.
                log.exception("could not top up the doctors' slots; trying again later")
            self.runs += 1
            if not self.repeat or self._stop.wait(self.interval):
                return

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the slot keeper did not stop within %.0f s", timeout)


def top_up_in_background(clinic: Clinic) -> SlotKeeper:
    """A desktop's log-in: one top-up in the background. It first reads whether any doctor's
    newest slot is short of the horizon, so most log-ins write nothing."""
    return SlotKeeper(clinic, repeat=False).start()
