"""The log-in window: username and password; the main window then adapts to the role.

Its status line says "Connecting…" until the clinic (server, or database) has answered,
then where it is connected, or why it is not (unreachable, not a clinic server); while
not connected it asks again every few seconds."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.errors import BackendUnavailable
from hms_desktop.domain.models import UserInfo
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import ErrorLabel, primary
from hms_desktop.ui.password import ChangePasswordDialog
from hms_desktop.ui.tasks import Tasks, friendly_message

Opener = Callable[[], Backend]

# While the clinic does not answer, the form asks again this often.
RECONTACT_MS = 5000

# Set on this workstation once the demo hint was used (a log-in with its account) or
# dismissed: from then on the form is the clinic's, not a demo's.
DEMO_HINT_DONE = "login/demo_hint_done"


class LoginWindow(QWidget):
    logged_in = Signal(object, object)  # Backend, UserInfo
    backend_ready = Signal(object)

    def __init__(
        self,
        backend: Backend | None = None,
        *,
        opener: Opener | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("LoginWindow")
        self.setWindowTitle("hms-desktop — log in")
        self.setWindowIcon(theme.icon("app"))
        self.backend = backend
        self._opener = opener
        self.tasks = Tasks(self)
        self._demo: tuple[str, str] | None = None
        self._opening = False
        self._pending: tuple[str, str] | None = None
        self.connected = False  # the clinic has answered this backend
        self._contact_error = ""
        self._recontact = QTimer(self)
        self._recontact.setSingleShot(True)
        self._recontact.setInterval(RECONTACT_MS)
        self._recontact.timeout.connect(self._contact_again)

        card = self._build_card()
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(card)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        self.setTabOrder(self.username, self.password)
        self.setTabOrder(self.password, self.submit)
        self.setTabOrder(self.submit, self.use_demo)
        self.setTabOrder(self.use_demo, self.dismiss_demo)
        self.resize(760, 520)
        self.username.setFocus()
        if backend is not None:
            self._on_backend(backend)

    def _build_card(self) -> QFrame:
        """The card in the middle: title, the form, messages, buttons, connection status."""
        card = QFrame(self)
        card.setObjectName("Card")
        card.setFixedWidth(420)
        title = QLabel("Clinic reception", card)
        title.setObjectName("Title")
        subtitle = QLabel("Log in with your clinic account.", card)
        subtitle.setObjectName("Subtitle")
        form = self._build_form(card)
        self.message = ErrorLabel(card, name="FormError")
        self.hint = QLabel(card)
        self.hint.setObjectName("Hint")
        self.hint.setWordWrap(True)
        self.hint.hide()
        self.dismiss_demo = QToolButton(card)
        self.dismiss_demo.setText("✕")
        self.dismiss_demo.setToolTip("Hide this hint on this workstation for good")
        self.dismiss_demo.setAccessibleName("Hide the demo hint")
        self.dismiss_demo.setAutoRaise(True)
        self.dismiss_demo.hide()
        self.dismiss_demo.clicked.connect(self._dismiss_demo)
        hint_row = QHBoxLayout()
        hint_row.addWidget(self.hint, 1)
        hint_row.addWidget(self.dismiss_demo, 0, Qt.AlignmentFlag.AlignTop)
        buttons = self._build_buttons(card)
        self.status = QLabel("", card)
        self.status.setObjectName("Subtitle")
        self.status.setWordWrap(True)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(28, 24, 28, 24)
        inner.setSpacing(10)
        inner.addWidget(title)
        inner.addWidget(subtitle)
        inner.addLayout(form)
        inner.addWidget(self.message)
        inner.addLayout(hint_row)
        inner.addLayout(buttons)
        inner.addWidget(self.status)
        return card

    def _build_form(self, card: QFrame) -> QFormLayout:
        self.username = QLineEdit(card)
        self.username.setPlaceholderText("username")
        self.password = QLineEdit(card)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("password")
        # Enter in the username moves on; Enter in the password logs in.
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.log_in)
        form = QFormLayout()
        form.addRow("&Username", self.username)
        form.addRow("&Password", self.password)
        return form

    def _build_buttons(self, card: QFrame) -> QHBoxLayout:
        self.use_demo = QPushButton("Use the demo account", card)
        self.use_demo.hide()
        self.use_demo.clicked.connect(self._fill_demo)
        self.submit = primary(QPushButton("Log in", card))
        self.submit.setDefault(True)
        self.submit.clicked.connect(self.log_in)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_demo)
        buttons.addStretch(1)
        buttons.addWidget(self.submit)
        return buttons

    def set_backend(self, backend: Backend) -> None:
        self.backend = backend
        self._on_backend(backend)

    def _on_backend(self, backend: Backend) -> None:
        self.connected = False
        self._contact()
        self.tasks.run(backend.demo_login_hint, on_done=self._show_hint, on_error=lambda _e: None)
        self.backend_ready.emit(backend)

    def _contact(self) -> None:
        """Ask the clinic once whether it answers; the status line says what it found."""
        backend = self.backend
        if backend is None or self.connected:
            return
        if not self.status.text().startswith("Not connected"):
            self.status.setText(f"Connecting… ({backend.description})")
        self.tasks.run(
            backend.contact,
            on_done=lambda where: self._contacted(backend, where),
            on_error=lambda error: self._not_contacted(backend, error),
        )

    def _contact_again(self) -> None:
        if self.isVisible():  # a hidden form (the desk is logged in) asks nothing
            self._contact()

    def _contacted(self, backend: Backend, where: str) -> None:
        if backend is self.backend:
            self.connected = True
            self.status.setText(f"Connected: {where}")
            if self._contact_error and self.message.text() == self._contact_error:
                self.message.show_message("")  # the reason it was not connected is gone

    def _not_contacted(self, backend: Backend, error: Exception) -> None:
        if backend is not self.backend or self.connected:
            return
        self.status.setText(f"Not connected ({backend.description}).")
        self._contact_error = friendly_message(error)
        self.message.show_message(self._contact_error)
        if self.isVisible():
            self._recontact.start()

    def _show_hint(self, hint: tuple[str, str] | None) -> None:
        self._demo = hint
        if hint is None or QSettings().value(DEMO_HINT_DONE, False, type=bool):
            self._hide_hint()
            return
        self.hint.setText(
            f"This is a fresh demo clinic. Log in as “{hint[0]}” with the password "
            f"“{hint[1]}” to try it."
        )
        self.hint.show()
        self.use_demo.show()
        self.dismiss_demo.show()

    def _hide_hint(self) -> None:
        for widget in (self.hint, self.use_demo, self.dismiss_demo):
            widget.hide()

    def _dismiss_demo(self) -> None:
        QSettings().setValue(DEMO_HINT_DONE, True)
        self._hide_hint()
        self.username.setFocus()

    def _fill_demo(self) -> None:
        if self._demo:
            self.username.setText(self._demo[0])
            self.password.setText(self._demo[1])
            self.submit.setFocus()

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.submit.setEnabled(not busy)
        self.submit.setText("Logging in…" if busy else "Log in")
        if text:
            self.status.setText(text)

    def log_in(self) -> None:
        if not self.submit.isEnabled():
            return
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self.message.show_message("Enter your username and password.")
            (self.username if not username else self.password).setFocus()
            return
        self.message.show_message("")
        if self.backend is None:
            # Typed before the clinic answered: log in as soon as it does.
            self._pending = (username, password)
            self._set_busy(True, "Connecting to the clinic…")
            self.connect_backend()
            return
        self._set_busy(True)
        self._log_in_with(self.backend, username, password)

    def connect_backend(self) -> None:
        """Open the backend in the background; the form stays usable meanwhile."""
        if self.backend is not None or self._opening:
            return
        if self._opener is None:
            self._open_failed(BackendUnavailable())
            return
        self._opening = True
        self.status.setText("Connecting to the clinic…")
        self.tasks.run(self._opener, on_done=self._opened, on_error=self._open_failed)

    def _opened(self, backend: Backend) -> None:
        self._opening = False
        self.set_backend(backend)
        pending, self._pending = self._pending, None
        if pending is not None:
            self._log_in_with(backend, *pending)

    def _open_failed(self, error: Exception) -> None:
        self._opening = False
        self._pending = None
        self._set_busy(False)
        self.status.setText("Not connected. Log in to try again.")
        self.message.show_message(friendly_message(error))

    def _log_in_with(self, backend: Backend, username: str, password: str) -> None:
        self.tasks.run(
            backend.login,
            username,
            password,
            on_done=lambda user: self._logged_in(backend, user, password),
            on_error=self._failed,
        )

    def _logged_in(self, backend: Backend, user: UserInfo, password: str = "") -> None:
        self._contacted(backend, backend.description)
        self._set_busy(False)
        self.password.clear()
        if self._demo is not None and user.username == self._demo[0]:
            QSettings().setValue(DEMO_HINT_DONE, True)  # used: the next start is plain
            self._hide_hint()
        if user.must_change_password:
            self._ask_new_password(backend, password)
            return
        self.logged_in.emit(backend, user)

    def _ask_new_password(self, backend: Backend, password: str) -> None:
        """A password an admin reset: the desk opens only once its owner chose a new one."""
        self.password_dialog = ChangePasswordDialog(
            backend, self.tasks, current=password, parent=self
        )
        self.password_dialog.changed.connect(lambda user: self.logged_in.emit(backend, user))
        self.password_dialog.rejected.connect(lambda: self._new_password_declined(backend))
        self.password_dialog.open()

    def _new_password_declined(self, backend: Backend) -> None:
        self.tasks.run(backend.logout, on_error=lambda _error: None)
        self.message.show_message("Choose a new password to log in.")
        self.password.setFocus()

    def _failed(self, error: Exception) -> None:
        self._set_busy(False)
        self.message.show_message(friendly_message(error))
        self.password.setFocus()
        self.password.selectAll()
