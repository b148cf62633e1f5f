"""Following the backend's live changes without ever waiting on the GUI thread.

Subscribing may wait for a server or Redis that is away (seconds), and closing a
subscription waits for its thread: both run on the worker pool. The listener is called
from other threads; hand it a Qt signal's `emit` (`main_window.EventRelay`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import ChangeEvent, offline_event
from hms_desktop.services.backend import Backend, Subscription
from hms_desktop.ui.tasks import shared_pool

log = logging.getLogger(__name__)

Listener = Callable[[ChangeEvent], None]


class Listening:
    """One subscription, opened in the background at once and closed in the background;
    closing before it is open closes it as soon as it opens. Once `close()` has returned
    the listener is never called again, though the subscription may still be closing: the
    window it feeds may be gone by then."""

    def __init__(self, backend: Backend, listener: Listener) -> None:
        self._backend = backend
        self._listener = listener
        # Held while the listener runs, and to close: no call starts or is still running
        # once `close()` returns.
        self._lock = threading.Lock()
        self._subscription: Subscription | None = None
        self._closed = False
        self.opened = threading.Event()  # the subscribe call returned (tests wait on it)
        shared_pool().start(self._open)

    def _open(self) -> None:
        try:
            subscription = self._backend.subscribe(self._deliver)
        except DomainError as error:
            # Not subscribed: the desk shows why; F5 and every retried call still work.
            log.warning("could not follow live changes: %s", error)
            self._deliver(offline_event(error.message))
            self.opened.set()
            return
        except Exception:
            log.exception("could not follow live changes")
            self.opened.set()
            return
        with self._lock:
            close_now = self._closed
            if not close_now:
                self._subscription = subscription
        if close_now:
            subscription.close()
        self.opened.set()

    def _deliver(self, event: ChangeEvent) -> None:
        with self._lock:
            if not self._closed:
                self._listener(event)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            subscription, self._subscription = self._subscription, None
        if subscription is not None:
            shared_pool().start(subscription.close)
