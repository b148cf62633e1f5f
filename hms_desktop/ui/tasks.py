"""Backend calls off the GUI thread: a small worker pool whose results come back as signals."""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

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


# Said of a change (save, book, move, cancel) the connection failed: only reads are retried.
NOT_REPEATED = (
    "This change was not confirmed and is not repeated by itself: once the connection is "
    "back, check and try again."
)


def write_failure(error: BaseException) -> str:
    """Why a change failed, in the desk's words; a lost connection says it is not retried."""
    if is_unavailable(error):
        return f"{friendly_message(error)} {NOT_REPEATED}"
    return friendly_message(error)


class MessageLabel(Protocol):
    def text(self) -> str: ...

    def show_message(self, text: str) -> None: ...


def show_failure(
    label: MessageLabel, tasks: Tasks, error: BaseException, *, change: bool = True
) -> None:
    """Show why a change (or, `change=False`, a read) failed in `label`; a lost
    connection's message goes away by itself once the connection is back."""
    text = write_failure(error) if change else friendly_message(error)
    label.show_message(text)
    if is_unavailable(error):
        tasks.clear_when_back(label, text)


def _answer(callback: Callable[[Any], None], value: Any) -> None:
    """Hand an answer to the view that asked. A dialog closed while its call ran has had
    its widgets deleted by Qt; the answer is for no one then, and is dropped."""
    try:
        callback(value)
    except RuntimeError as error:
        if "already deleted" not in str(error):
            raise
        log.debug("an answer for a closed view was dropped: %s", error)


class _Job:
    """One backend call and where its answer goes."""

    def __init__(
        self,
        owner: Tasks,
        call: Callable[..., Any],
        args: tuple[Any, ...],
        on_done: Done | None,
        on_error: Failed | None,
        retry: bool,
    ) -> None:
        self.owner = weakref.ref(owner)
        self.call, self.args = call, args
        self.on_done, self.on_error, self.retry = on_done, on_error, retry
        self.attempts = 0

    def run(self) -> None:
        """On a pool thread: make the call and post the answer to the GUI thread."""
        result: Any = None
        error: Exception | None = None
        try:
            result = self.call(*self.args)
        except DomainError as failure:
            error = failure
        except Exception as failure:
            log.exception("backend call %s failed", getattr(self.call, "__name__", self.call))
            error = failure
        _dispatcher().finished.emit(self, result, error)


class _Dispatcher(QObject):
    """Carries answers from pool threads to the GUI thread. It lives as long as the process,
    so a worker never signals through an object a closing window is destroying."""

    finished = Signal(object, object, object)  # job, result, error

    def __init__(self) -> None:
        super().__init__()
        self.finished.connect(self._deliver)

    @Slot(object, object, object)
    def _deliver(self, job: _Job, result: object, error: object) -> None:
        tasks = job.owner()
        if tasks is not None and shiboken6.isValid(tasks):
            tasks._finish(job, result, error)


_the_dispatcher: _Dispatcher | None = None


def _dispatcher() -> _Dispatcher:
    assert _the_dispatcher is not None, "Tasks made before any answer can be dispatched"
    return _the_dispatcher


def _make_dispatcher() -> None:
    """Create it on the GUI thread (the first Tasks is made there)."""
    global _the_dispatcher
    if _the_dispatcher is None:
        _the_dispatcher = _Dispatcher()


class Tasks(QObject):
    """Runs backend calls on the pool; results and errors arrive on the GUI thread.

    It also keeps the desk's connection state. A call that fails because the connection is
    lost raises `connection_lost(message, retrying)` and, when `retry` is set, runs again
    every few seconds (up to `MAX_RETRIES` times) until it works (`connection_back`);
    `retrying` says whether any call is still being retried. The live change stream reports
    through `report_lost` / `report_back`, so an idle desk learns it too."""

    connection_lost = Signal(str, bool)  # message, whether calls are being retried
    connection_back = Signal()
    busy_changed = Signal(bool)
    failed = Signal(str)  # a failure nobody handled: shown in the status bar
    session_expired = Signal(str)  # the server no longer accepts this log-in

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None) -> None:
        super().__init__(parent)
        _make_dispatcher()
        self._pool = pool or shared_pool()
        self._pending: set[_Job] = set()
        self._retrying: set[_Job] = set()
        self._lost: str | None = None  # why the connection is lost, while it is
        self._clear_when_back: list[tuple[weakref.ref[Any], str]] = []
        self._retries_stopped = False
        self.retry_delay_ms = RETRY_DELAY_MS

    @property
    def lost(self) -> bool:
        return self._lost is not None

    @property
    def retrying(self) -> bool:
        return bool(self._retrying)

    def report_lost(self, message: str) -> None:
        """The connection is lost (learnt without a call: the change stream, a probe)."""
        self._lost = message
        self.connection_lost.emit(message, self.retrying)

    def report_back(self) -> None:
        """The connection works again: say so, and retry waiting calls now."""
        if self._lost is None:
            return
        self._lost = None
        self.connection_back.emit()
        labels, self._clear_when_back = self._clear_when_back, []
        for ref, text in labels:
            label = ref()
            if label is not None and shiboken6.isValid(label) and label.text() == text:
                label.show_message("")
        for job in list(self._retrying):
            self._retry(job)

    def stop_retrying(self) -> None:
        """Retry nothing any more: the window is closing."""
        self._retries_stopped = True
        for job in self._retrying:
            self._pending.discard(job)
        self._retrying.clear()
        if not self.busy:
            self.busy_changed.emit(False)

    def clear_when_back(self, label: MessageLabel, text: str) -> None:
        """Empty `label` when the connection is back, if it still says `text`."""
        self._clear_when_back.append((weakref.ref(label), text))

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
        self._start(_Job(self, call, args, on_done, on_error, retry))

    def _start(self, job: _Job) -> None:
        job.attempts += 1
        was_busy = self.busy
        self._pending.add(job)
        if not was_busy:
            self.busy_changed.emit(True)
        self._pool.start(job.run)

    def _finish(self, job: _Job, result: object, error: object) -> None:
        self._pending.discard(job)
        if isinstance(error, BaseException) and is_unavailable(error):
            if job.retry and job.attempts < MAX_RETRIES and not self._retries_stopped:
                self._pending.add(job)
                self._retrying.add(job)
                attempt = job.attempts
                QTimer.singleShot(self.retry_delay_ms, self, lambda: self._retry(job, attempt))
                self.report_lost(friendly_message(error))
                return
            # Given up (or never retried): the banner stops saying "Retrying…" when no
            # other call is.
            self.report_lost(friendly_message(error))
        elif isinstance(error, DomainError) and error.kind == "unauthenticated":
            self.session_expired.emit(friendly_message(error))
        elif error is None:
            self.report_back()
        if not self.busy:
            self.busy_changed.emit(False)
        if isinstance(error, Exception):
            if job.on_error is not None:
                _answer(job.on_error, error)
            else:
                self.failed.emit(friendly_message(error))
        elif job.on_done is not None:
            _answer(job.on_done, result)

    def _retry(self, job: _Job, attempt: int | None = None) -> None:
        if job not in self._retrying or attempt not in (None, job.attempts):
            return  # already started again (the connection came back first)
        self._retrying.discard(job)
        self._pending.discard(job)
        self._start(job)
