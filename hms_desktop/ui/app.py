"""The desktop app's life: open the backend (with progress), log in, the main window.

Which backend is opened is the application assembly's choice (`hms_desktop.app`), handed
in as `open_backend`: the UI knows only the `Backend` interface."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QtMsgType, Signal, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from hms_desktop.config import Settings
from hms_desktop.domain.models import UserInfo
from hms_desktop.runtime import tune_garbage_collector
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.gui_gc import collect_on_gui_thread_only
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

FRIENDLY_CRASH = (
    "Something unexpected went wrong. Your last action may not have been saved; "
    "check it and try again. If it happens again, tell IT — the details are in the log."
)


# The message boxes the hook has shown. A box that only a local variable owns is deleted
# as soon as the hook returns, before anyone could read it; this list keeps it on screen.
_crash_boxes: list[QMessageBox] = []


def install_excepthook() -> None:
    """Log an unexpected error and tell the desk in plain words, never with a traceback."""

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, error, trace)))
        # Shown on every platform (offscreen too), so the tests see what the desk sees.
        if QApplication.instance() is None:
            return
        _crash_boxes[:] = [box for box in _crash_boxes if box.isVisible()]  # closed ones go
        box = QMessageBox(QMessageBox.Icon.Warning, "hms-desktop", FRIENDLY_CRASH)
        box.show()
        _crash_boxes.append(box)

    sys.excepthook = hook


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def log_qt_messages() -> None:
    """Qt's own warnings (a platform plugin that will not load, a missing library) go to
    the desktop's log file too, not only to a terminal no one at the desk sees."""
    qt_log = logging.getLogger("qt")

    def handler(kind: QtMsgType, _context: object, message: str) -> None:
        qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)

    qInstallMessageHandler(handler)


# Backend calls run Python on worker threads; a short GIL switch interval lets the GUI
# thread in promptly, so it never waits long behind a worker (default: 5 ms).
GIL_SWITCH_INTERVAL_S = 0.001


def application() -> QApplication:
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("hms-desktop")
    app.setOrganizationName("hms-desktop")
    theme.apply(app)
    collect_on_gui_thread_only()
    return app


# Progress steps that take long enough to deserve a progress dialog (see bootstrap).
SLOW_STEP_PREFIX = "Setting up the demo clinic"

# Opens the configured backend, reporting each step's words as it goes.
BackendOpener = Callable[[Callable[[str], None]], Backend]


class _Progress(QObject):
    text = Signal(str)


class DeskApp(QObject):
    """Opens the backend without freezing (a progress dialog while the demo loads), then
    alternates between the log-in window and the main window."""

    login_ready = Signal(object)  # LoginWindow, shown and interactive

    def __init__(self, settings: Settings, open_backend: BackendOpener) -> None:
        super().__init__()
        self.settings = settings
        self._opener = open_backend
        self.backend: Backend | None = None
        self.login: LoginWindow | None = None
        self.main: MainWindow | None = None
        self._progress = _Progress(self)
        self.splash: QProgressDialog | None = None
        self._progress.text.connect(self._on_progress)

    def _open_backend(self) -> Backend:
        return self._opener(self._progress.text.emit)

    def start(self) -> None:
        """Show the log-in form at once and connect behind it; a first start that loads
        the demo clinic shows its progress instead of a frozen window."""
        self.login = LoginWindow(None, opener=self._open_backend)
        self.login.backend_ready.connect(self._opened)
        self.login.logged_in.connect(self._logged_in)
        self.login.show()
        self.login.raise_()
        self.login.connect_backend()
        self.login_ready.emit(self.login)

    def _on_progress(self, text: str) -> None:
        if self.login is not None:
            self.login.status.setText(text)
        if self.backend is None and text.startswith(SLOW_STEP_PREFIX):
            # Made only when needed: a QProgressDialog shows itself once created.
            self.splash = QProgressDialog(text, "", 0, 0, self.login)
            self.splash.setWindowTitle("hms-desktop")
            self.splash.setCancelButton(None)
            self.splash.setMinimumDuration(0)
            self.splash.setMinimumWidth(380)
            self.splash.setWindowModality(Qt.WindowModality.ApplicationModal)
            self.splash.show()

    def _opened(self, backend: Backend) -> None:
        self.backend = backend
        if self.splash is not None:
            self.splash.reset()
            self.splash.deleteLater()
            self.splash = None

    def _logged_in(self, backend: Backend, user: UserInfo) -> None:
        self.backend = backend
        self.main = MainWindow(backend, user, self.settings.tz)
        self.main.logged_out.connect(self._logged_out)
        self.main.show()
        if self.login is not None:
            self.login.hide()

    def _logged_out(self) -> None:
        if self.main is not None:
            self.main.deleteLater()
            self.main = None
        if self.login is not None:
            self.login.show()
            self.login.username.setFocus()

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()
            self.backend = None


def refuse_to_start(message: str) -> int:
    """The version gate said no: tell the desk why (and IT's words on where to get the
    right version), then exit without opening anything."""
    log.error("not starting: %s", message)
    print(f"hms-desktop cannot start: {message}", file=sys.stderr)  # noqa: T201
    log_qt_messages()
    app = application()
    if QApplication.platformName() != "offscreen":
        QMessageBox.critical(None, "hms-desktop cannot start", message)
    del app
    return 3


def run_app(settings: Settings, open_backend: BackendOpener) -> int:
    log_qt_messages()
    app = application()
    install_excepthook()
    desk = DeskApp(settings, open_backend)
    desk.start()
    tune_garbage_collector()
    try:
        return app.exec()
    finally:
        desk.close()
