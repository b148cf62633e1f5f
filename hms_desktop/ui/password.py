"""Changing one's own password: from the header at any time, and at log-in when an admin
reset it (the desk opens only once it is changed)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import UserInfo
from hms_desktop.domain.validation import PASSWORD_INPUT_MAX
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import button_row, primary
from hms_desktop.ui.fields import FieldErrors
from hms_desktop.ui.tasks import Tasks

MIN_LENGTH = 8  # the API's rule (domain/validation.clean_password); checked here first


def _secret(parent: QWidget) -> QLineEdit:
    field = QLineEdit(parent)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(PASSWORD_INPUT_MAX)
    return field


class ChangePasswordDialog(QDialog):
    """Current password, then the new one twice. With `current` given (a reset password
    just typed at log-in) only the new one is asked for."""

    changed = Signal(object)  # UserInfo

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        *,
        current: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self._given = backend, tasks, current
        self.result_user: UserInfo | None = None
        self.setWindowTitle("Choose a new password" if current else "Change your password")
        self.setMinimumWidth(440)
        self.errors = FieldErrors(self)
        layout = QVBoxLayout(self)
        if current is not None:
            note = QLabel(
                "Your password is a temporary one from an administrator. Choose your own to go on.",
                self,
            )
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addLayout(self._build_form())
        layout.addWidget(self.errors.form)
        layout.addLayout(self._build_buttons())
        (self.new_password if current is not None else self.current_password).setFocus()

    def _build_form(self) -> QFormLayout:
        self.current_password = _secret(self)
        self.new_password = _secret(self)
        self.new_password.setPlaceholderText(f"at least {MIN_LENGTH} characters")
        self.repeat_password = _secret(self)
        form = QFormLayout()
        if self._given is not None:
            self.current_password.hide()
        else:
            form.addRow(
                "&Current password", self.errors.wrap("current_password", self.current_password)
            )
        form.addRow("&New password", self.errors.wrap("new_password", self.new_password))
        form.addRow("&Repeat it", self.errors.wrap("repeat_password", self.repeat_password))
        self.current_password.returnPressed.connect(self.new_password.setFocus)
        self.new_password.returnPressed.connect(self.repeat_password.setFocus)
        self.repeat_password.returnPressed.connect(self.submit)
        return form

    def _build_buttons(self):  # type: ignore[no-untyped-def]
        self.save = primary(QPushButton("Change password", self))
        self.save.setDefault(True)
        self.save.clicked.connect(self.submit)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.reject)
        return button_row(self.cancel_button, self.save)

    def _checked(self) -> tuple[str, str] | None:
        """The current and new passwords, or None with the error next to its field."""
        current = self._given if self._given is not None else self.current_password.text()
        new = self.new_password.text()
        if not current:
            self.errors.show("Enter your current password.", "current_password")
        elif len(new) < MIN_LENGTH:
            self.errors.show(f"Password must be at least {MIN_LENGTH} characters.", "new_password")
        elif new != self.repeat_password.text():
            self.errors.show("The two new passwords are not the same.", "repeat_password")
        else:
            return current, new
        return None

    def submit(self) -> None:
        if not self.save.isEnabled():
            return
        self.errors.clear()
        checked = self._checked()
        if checked is None:
            return
        self.save.setEnabled(False)
        self.tasks.run(
            self.backend.change_own_password, *checked, on_done=self._done, on_error=self._failed
        )

    def _done(self, user: UserInfo) -> None:
        self.save.setEnabled(True)
        self.result_user = user
        self.changed.emit(user)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.save.setEnabled(True)
        self.errors.show_error(error)
