"""Backend calls off the GUI thread: a small worker pool whose results come back as signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from hms_desktop.domain.errors import DomainError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[Exception], None]

RETRY_DELAY_MS = 2000
MAX_RETRIES = 30


def shared_pool() -> QThreadPool:
    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(pool.maxThreadCount(), 4))
    return pool


def is_unavailable(error: BaseException) -> bool:
    return isinstance(error, DomainError) and error.kind == "unavailable"


def friendly_message(error: BaseException) -> str:
    if isinstance(error, DomainError):
        return error.message
    return (
        "Something went wrong and the action was not completed. Try again; if it keeps "
        "happening, tell IT (details are in the log)."
    )


class _Relay(QObject):
    """Lives on the GUI thread; the worker emits, Qt queues the call back to the GUI."""

    finished = Signal(object, object)  # result, error

    def __init__(self, tasks: Tasks, job: _Job) -> None:
        super().__init__(tasks)
        self.job = job
        self.finished.connect(self._deliver)

    @Slot(object, object)
    def _deliver(self, result: object, error: object) -> None:
        tasks = self.parent()
        if isinstance(tasks, Tasks):
            tasks._finish(self, result, error)
        self.deleteLater()


class _Job(QRunnable):
    def __init__(
        self,
        call: Callable[..., Any],
        args: tuple[Any, ...],
        on_done: Done | None,
        on_error: Failed | None,
        retry: bool,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.call, self.args = call, args
        self.on_done, self.on_error, self.retry = on_done, on_error, retry
        self.attempts = 0
        self.relay: _Relay | None = None

    def run(self) -> None:
        relay = self.relay
        try:
            result, error = self.call(*self.args), None
        except DomainError as failure:
            result, error = None, failure
        except Exception as failure:
            log.exception("backend call %s failed", getattr(self.call, "__name__", self.call))
            result, error = None, failure
        try:
            if relay is not None:
                relay.finished.emit(result, error)
        except RuntimeError:
            log.debug("result of %s arrived after its window closed", self.call)


class Tasks(QObject):
    """Runs backend calls on the pool; results and errors arrive on the GUI thread.

    A call that fails because the connection is lost raises `connection_lost` and, when
    `retry` is set, runs again every few seconds until it works (`connection_back`)."""

    connection_lost = Signal(str)
    connection_back = Signal()
    busy_changed = Signal(bool)
    failed = Signal(str)  # a failure nobody handled: shown in the status bar
    session_expired = Signal(str)  # the server no longer accepts this log-in

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        self._pool = pool or shared_pool()
        self._pending: set[_Job] = set()
        self._lost = False
        self.retry_delay_ms = RETRY_DELAY_MS

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def run(
        self,
        call: Callable[..., Any],
        *args: Any,
        on_done: Done | None = None,
        on_error: Failed | None = None,
        retry: bool = False,
    ) -> None:
        self._start(_Job(call, args, on_done, on_error, retry))

    def _start(self, job: _Job) -> None:
        job.attempts += 1
        job.relay = _Relay(self, job)
        was_busy = self.busy
        self._pending.add(job)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(job)

    def _finish(self, relay: _Relay, result: object, error: object) -> None:
        job = relay.job
        self._pending.discard(job)
        if isinstance(error, BaseException) and is_unavailable(error):
            self._lost = True
            self.connection_lost.emit(friendly_message(error))
            if job.retry and job.attempts < MAX_RETRIES:
                QTimer.singleShot(self.retry_delay_ms, self, lambda: self._start(job))
                return
        elif isinstance(error, DomainError) and error.kind == "unauthenticated":
            self.session_expired.emit(friendly_message(error))
        elif error is None and self._lost:
            self._lost = False
            self.connection_back.emit()
        if not self.busy:
            self.busy_changed.emit(False)
        if isinstance(error, Exception):
            if job.on_error is not None:
                job.on_error(error)
            else:
                self.failed.emit(friendly_message(error))
        elif job.on_done is not None:
            job.on_done(result)
