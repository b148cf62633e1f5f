"""Whether a desk on the database can work right now: its database and its Redis answer.

A desk that talks to the stores directly has no event stream whose silence would tell it
they are gone, so a small thread asks them every few seconds and tells the desk's listener
what it finds: `offline` (with what is away) at every probe while one does not answer,
`resync` once both answer again (change events published meanwhile may be lost: reload
what is shown).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from hms_desktop.domain.errors import LockStoreUnavailable
from hms_desktop.domain.models import RESYNC, ChangeEvent, offline_event
from hms_desktop.services.clinic import Clinic

log = logging.getLogger(__name__)

PROBE_SECONDS = 2.0

DATABASE_AWAY = "The clinic database cannot be reached. Check the network or ask IT."
REDIS_AWAY = (
    "The clinic's lock store (Redis) cannot be reached: slots cannot be held or booked. "
    "Check the network or ask IT."
)


def problem(clinic: Clinic) -> str | None:
    """What is away, in the desk's words, or None when the database and Redis answer."""
    try:
        with clinic.db.read() as session:
            session.execute(select(1))
    except SQLAlchemyError as error:
        log.debug("database probe failed: %s", error)
        return DATABASE_AWAY
    if clinic.settings.redis_url:
        try:
            clinic.locks.ping()
        except LockStoreUnavailable:
            return REDIS_AWAY
    return None


class StoreWatch:
    """Probes the stores every `interval` seconds on its own thread until `close()`."""

    def __init__(
        self,
        clinic: Clinic,
        listener: Callable[[ChangeEvent], None],
        interval: float = PROBE_SECONDS,
    ) -> None:
        self._clinic = clinic
        self._listener = listener
        self._interval = interval
        self._stopped = threading.Event()
        self._away: str | None = None
        self._thread = threading.Thread(target=self._run, name="hms-store-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval):
            found = problem(self._clinic)
            if self._stopped.is_set() or (found is None and self._away is None):
                continue
            if found != self._away:
                log.warning("clinic stores: %s", found or "answer again")
            self._away = found
            # Said again at every probe while a store is away: a call that got through
            # meanwhile (one that needs only the database) may have cleared the banner.
            event = ChangeEvent(kind=RESYNC) if found is None else offline_event(found)
            try:
                self._listener(event)
            except Exception:  # a broken listener must not stop the watch
                log.exception("store-watch listener failed")

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)
