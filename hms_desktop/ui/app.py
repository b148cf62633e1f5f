"""Start the desktop app: open the backend (with progress), log in, the main window."""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from hms_desktop.config import Settings
from hms_desktop.domain.models import UserInfo
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.login import LoginWindow
from hms_desktop.ui.main_window import MainWindow
from hms_desktop.ui.tasks import Tasks, friendly_message

log = logging.getLogger(__name__)

FRIENDLY_CRASH = (
    "Something unexpected went wrong. Your last action may not have been saved; "
    "check it and try again. If it happens again, tell IT — the details are in the log."
)


def install_excepthook() -> None:
    """Log an unexpected error and tell the desk in plain words, never with a traceback."""

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        log.error("unexpected error:\n%s", "".join(traceback.format_exception(kind, error, trace)))
        app = QApplication.instance()
        if app is not None and QApplication.platformName() != "offscreen":
            box = QMessageBox(QMessageBox.Icon.Warning, "hms-desktop", FRIENDLY_CRASH)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.show()

    sys.excepthook = hook


def application() -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("hms-desktop")
    app.setOrganizationName("hms-desktop")
    theme.apply(app)
    return app


class _Progress(QObject):
    text = Signal(str)


class DeskApp(QObject):
    """Opens the backend without freezing (a progress dialog while the demo loads), then
    alternates between the log-in window and the main window."""

    login_ready = Signal(object)  # LoginWindow, shown and interactive

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.tasks = Tasks(self)
        self.backend: Backend | None = None
        self.login: LoginWindow | None = None
        self.main: MainWindow | None = None
        self._progress = _Progress(self)
        self.splash = QProgressDialog("Starting…", "", 0, 0)
        self.splash.setWindowTitle("hms-desktop")
        self.splash.setCancelButton(None)
        self.splash.setMinimumDuration(0)
        self.splash.setMinimumWidth(380)
        self._progress.text.connect(self.splash.setLabelText)

    def _open_backend(self) -> Backend:
        from hms_desktop.services.bootstrap import open_backend

        return open_backend(self.settings, self._progress.text.emit)

    def start(self) -> None:
        self.splash.show()
        self.tasks.run(self._open_backend, on_done=self._opened, on_error=self._not_opened)

    def _opened(self, backend: Backend) -> None:
        self.backend = backend
        self._show_login()

    def _not_opened(self, error: Exception) -> None:
        self._show_login()
        assert self.login is not None
        self.login.message.show_message(friendly_message(error))

    def _show_login(self) -> None:
        self.splash.hide()
        self.login = LoginWindow(self.backend, opener=self._open_backend)
        self.login.backend_ready.connect(self._remember_backend)
        self.login.logged_in.connect(self._logged_in)
        self.login.show()
        self.login.raise_()
        self.login_ready.emit(self.login)

    def _remember_backend(self, backend: Backend) -> None:
        self.backend = backend

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


def run_app(settings: Settings, screenshot_dir: str | None = None) -> int:
    if screenshot_dir:
        from hms_desktop.ui.screenshots import render_screens

        return render_screens(settings, screenshot_dir)
    app = application()
    install_excepthook()
    desk = DeskApp(settings)
    desk.start()
    try:
        return app.exec()
    finally:
        desk.tasks.deleteLater()
        desk.close()
