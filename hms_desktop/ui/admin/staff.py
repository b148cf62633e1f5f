"""Staff accounts: who may log in, in which role; create, deactivate and reactivate, unlock,
reset a password (shown once, to be changed at the next log-in)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.admin import STAFF_ROLES, StaffForm, StaffMember, TemporaryPassword
from hms_desktop.domain.enums import Role
from hms_desktop.domain.validation import EMAIL_MAX, NAME_MAX
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import (
    ErrorLabel,
    RecordTableModel,
    button_row,
    fmt_short,
    plain,
    primary,
    record_table,
)
from hms_desktop.ui.fields import FieldErrors
from hms_desktop.ui.tasks import Tasks, friendly_message

ROLE_WORDS = {Role.RECEPTIONIST: "Receptionist", Role.DOCTOR: "Doctor", Role.ADMIN: "Admin"}


def _now() -> datetime:
    return datetime.now(UTC)


def status_text(member: StaffMember, tz: ZoneInfo) -> str:
    status = member.status(_now())
    if status.value == "locked" and member.locked_until is not None:
        return f"Locked until {fmt_short(member.locked_until, tz)}"
    text = status.value.capitalize()
    return f"{text} · must change password" if member.must_change_password else text


class StaffFormDialog(QDialog):
    """A new account: username, names, email, role. Its password is made by the clinic and
    shown once."""

    saved = Signal(object)  # TemporaryPassword

    def __init__(self, backend: Backend, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend, self.tasks = backend, tasks
        self.setWindowTitle("New staff account")
        self.setMinimumWidth(480)
        self.errors = FieldErrors(self)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_form())
        note = QLabel(
            "A temporary password is made and shown once; they choose their own at the first "
            "log-in.",
            self,
        )
        note.setWordWrap(True)
        note.setObjectName("Subtitle")
        layout.addWidget(note)
        layout.addWidget(self.errors.form)
        layout.addLayout(self._build_buttons())
        self.username.setFocus()

    def _build_form(self) -> QFormLayout:
        self.username = QLineEdit(self)
        self.username.setMaxLength(NAME_MAX)
        self.first_name = QLineEdit(self)
        self.first_name.setMaxLength(NAME_MAX)
        self.last_name = QLineEdit(self)
        self.last_name.setMaxLength(NAME_MAX)
        self.email = QLineEdit(self)
        self.email.setMaxLength(EMAIL_MAX)
        self.role = QComboBox(self)
        for role in STAFF_ROLES:
            self.role.addItem(ROLE_WORDS[role], role)
        form = QFormLayout()
        for name, label in (
            ("username", "&Username *"),
            ("first_name", "&First name *"),
            ("last_name", "&Last name"),
            ("email", "&Email"),
            ("role", "&Role"),
        ):
            form.addRow(label, self.errors.wrap(name, getattr(self, name)))
        return form

    def _build_buttons(self) -> QHBoxLayout:
        self.save = primary(QPushButton("Create account", self))
        self.save.setDefault(True)
        self.save.clicked.connect(self.submit)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.reject)
        return button_row(self.cancel_button, self.save)

    def form(self) -> StaffForm:
        return StaffForm(
            username=self.username.text().strip(),
            role=Role(self.role.currentData()),
            first_name=self.first_name.text().strip(),
            last_name=self.last_name.text().strip(),
            email=self.email.text().strip(),
        )

    def submit(self) -> None:
        if not self.save.isEnabled():
            return
        self.errors.clear()
        form = self.form()
        # The quick checks here; the service checks everything again.
        if not form.username:
            self.errors.show("Username is required.", "username")
            return
        if not form.first_name:
            self.errors.show("First name is required.", "first_name")
            return
        self.save.setEnabled(False)
        self.tasks.run(self.backend.create_staff, form, on_done=self._done, on_error=self._failed)

    def _done(self, made: TemporaryPassword) -> None:
        self.save.setEnabled(True)
        self.saved.emit(made)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.save.setEnabled(True)
        self.errors.show_error(error)


class PasswordShownOnce(QDialog):
    """The temporary password, to read out or copy; it is not kept anywhere."""

    def __init__(self, made: TemporaryPassword, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Temporary password")
        member = made.member
        who = member.full_name or member.username
        intro = plain(
            QLabel(
                f"Give {who} (log-in “{member.username}”) this password. It is shown only "
                "now; they choose their own at the next log-in.",
                self,
            )
        )
        intro.setWordWrap(True)
        self.password = QLabel(made.password, self)
        self.password.setObjectName("Title")
        self.password.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy = QPushButton("Copy", self)
        self.copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(made.password))
        self.close_button = primary(QPushButton("Done", self))
        self.close_button.clicked.connect(self.accept)
        self.close_button.setDefault(True)
        self.close_button.setFocus()
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.password)
        layout.addLayout(button_row(self.copy, self.close_button))


class StaffPage(QWidget):
    """The list of staff accounts and what an admin does with one."""

    message = Signal(str)

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.form_dialog: StaffFormDialog | None = None
        self.shown_password: PasswordShownOnce | None = None
        self.confirmation: QMessageBox | None = None
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(self._build_table(), 1)
        self.error = ErrorLabel(self, name="FormError")
        layout.addWidget(self.error)
        self._selection_changed()

    def _build_toolbar(self) -> QHBoxLayout:
        self.new_button = primary(QPushButton(theme.icon("add", "#ffffff"), "&New account", self))
        self.new_button.clicked.connect(self.new_account)
        self.active_button = QPushButton("&Deactivate", self)
        self.active_button.clicked.connect(self.toggle_active)
        self.unlock_button = QPushButton("&Unlock", self)
        self.unlock_button.clicked.connect(self.unlock)
        self.reset_button = QPushButton("&Reset password", self)
        self.reset_button.clicked.connect(self.reset_password)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addStretch(1)
        for button in (self.active_button, self.unlock_button, self.reset_button):
            row.addWidget(button)
        return row

    def _build_table(self) -> QWidget:
        self.model = RecordTableModel(
            [
                ("Username", lambda m: m.username),
                ("Name", lambda m: m.full_name),
                ("Role", lambda m: ROLE_WORDS.get(m.role, m.role.value)),
                ("Status", lambda m: status_text(m, self.tz)),
                ("Email", lambda m: m.email),
                ("Since", lambda m: fmt_short(m.date_joined, self.tz)),
            ],
            self,
        )
        self.table = record_table(self.model, self, stretch=1)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        return self.table

    # --- loading ------------------------------------------------------------------------------
    def start(self) -> None:
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        self.tasks.run(
            self.backend.staff_members,
            on_done=lambda members: self._show(members, select_id),
            on_error=self._failed,
        )

    def _show(self, members: list[StaffMember], select_id: int | None) -> None:
        keep = select_id if select_id is not None else self._selected_id()
        self.model.set_rows(members)
        for row, member in enumerate(members):
            if member.id == keep:
                self.table.selectRow(row)
        self._selection_changed()

    # --- the selected account -----------------------------------------------------------------
    def selected(self) -> StaffMember | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_record(rows[0].row()) if rows else None

    def _selected_id(self) -> int | None:
        member = self.selected()
        return member.id if member else None

    def select_username(self, username: str) -> bool:
        for row, member in enumerate(self.model.records):
            if member.username == username:
                self.table.selectRow(row)
                self.table.scrollTo(self.model.index(row, 0))
                return True
        return False

    def _selection_changed(self, *_args: object) -> None:
        member = self.selected()
        for button in (self.active_button, self.unlock_button, self.reset_button):
            button.setEnabled(member is not None)
        if member is None:
            return
        self.active_button.setText("Re&activate" if not member.is_active else "&Deactivate")
        self.unlock_button.setEnabled(member.status(_now()).value == "locked")

    # --- actions ------------------------------------------------------------------------------
    def new_account(self) -> StaffFormDialog:
        self.form_dialog = StaffFormDialog(self.backend, self.tasks, self)
        self.form_dialog.saved.connect(self._created)
        self.form_dialog.open()
        return self.form_dialog

    def _created(self, made: TemporaryPassword) -> None:
        self.message.emit(f"Account “{made.member.username}” created.")
        self._show_password(made)
        self.reload(select_id=made.member.id)

    def _show_password(self, made: TemporaryPassword) -> None:
        self.shown_password = PasswordShownOnce(made, self)
        self.shown_password.open()

    def _confirm(self, text: str, on_yes: Callable[[], None]) -> None:
        box = QMessageBox(QMessageBox.Icon.Question, "Please confirm", text, parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.accepted.connect(on_yes)
        self.confirmation = box
        box.open()

    def _run(self, call: Callable[..., object], *args: object, done: str) -> None:
        self.error.show_message("")
        self.tasks.run(
            call, *args, on_done=lambda result: self._changed(result, done), on_error=self._failed
        )

    def _changed(self, result: object, done: str) -> None:
        member = result.member if isinstance(result, TemporaryPassword) else result
        assert isinstance(member, StaffMember)
        self.message.emit(done.format(name=member.username))
        if isinstance(result, TemporaryPassword):
            self._show_password(result)
        self.reload(select_id=member.id)

    def toggle_active(self) -> None:
        member = self.selected()
        if member is None:
            return
        if member.is_active:
            self._confirm(
                f"Deactivate “{member.username}”? They can no longer log in anywhere, and "
                "their open sessions stop working.",
                lambda: self._run(
                    self.backend.set_staff_active, member.id, False, done="{name} deactivated."
                ),
            )
        else:
            self._run(self.backend.set_staff_active, member.id, True, done="{name} reactivated.")

    def unlock(self) -> None:
        member = self.selected()
        if member is not None:
            self._run(self.backend.unlock_staff, member.id, done="{name} unlocked.")

    def reset_password(self) -> None:
        member = self.selected()
        if member is None:
            return
        self._confirm(
            f"Reset the password of “{member.username}”? Their current password stops "
            "working at once.",
            lambda: self._run(
                self.backend.reset_staff_password, member.id, done="Password of {name} reset."
            ),
        )

    def _failed(self, error: Exception) -> None:
        self.error.show_message(friendly_message(error))
