"""Add or edit a doctor: name, specialisations, designations, fee, description, meet link,
picture and an optional log-in. Errors appear next to their field and nothing is saved."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.doctor_records import DoctorForm, DoctorRecord
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import NamedItem
from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.fields import FieldErrors, choose_picture_path, read_picture
from hms_desktop.ui.common import ErrorLabel, button_row, primary
from hms_desktop.ui.tasks import Tasks, friendly_message

LIST_HEIGHT = 96
PREVIEW = 56  # the chosen picture's thumbnail, in pixels


def _checklist(parent: QWidget) -> QListWidget:
    items = QListWidget(parent)
    items.setMaximumHeight(LIST_HEIGHT)
    return items


def _fill_checklist(items: QListWidget, entries: list[NamedItem], checked: tuple[int, ...]):  # type: ignore[no-untyped-def]
    items.clear()
    for entry in entries:
        item = QListWidgetItem(entry.name, items)
        item.setData(Qt.ItemDataRole.UserRole, entry.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(
            Qt.CheckState.Checked if entry.id in checked else Qt.CheckState.Unchecked
        )


def _checked_ids(items: QListWidget) -> tuple[int, ...]:
    return tuple(
        int(items.item(row).data(Qt.ItemDataRole.UserRole))
        for row in range(items.count())
        if items.item(row).checkState() == Qt.CheckState.Checked
    )


class DoctorEditor(QDialog):
    """The admin's doctor form. `saved` carries the DoctorRecord once everything is stored."""

    saved = Signal(object)

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        existing: DoctorRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.existing = backend, tasks, existing
        self.result_record: DoctorRecord | None = None
        self.picture_data: bytes | None = None
        self.setWindowTitle(f"Edit {existing.full_name}" if existing else "Add a doctor")
        self.setMinimumWidth(640)
        self._build_fields()
        self.form_error = ErrorLabel(self, name="FormError")
        self.errors = FieldErrors(self.form_error)
        form = self._build_form()
        buttons = self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.login_box)
        layout.addWidget(self.form_error)
        layout.addLayout(buttons)
        if existing is not None:
            self._fill(existing)
        self._load_catalogue()
        self.first_name.setFocus()

    def _build_fields(self) -> None:
        self.first_name = QLineEdit(self)
        self.last_name = QLineEdit(self)
        self.specialisations = _checklist(self)
        self.designations = _checklist(self)
        self.fee = QLineEdit(self)
        self.fee.setPlaceholderText("e.g. 50")
        self.description = QPlainTextEdit(self)
        self.description.setMaximumHeight(70)
        self.description.setTabChangesFocus(True)
        self.meet_link = QLineEdit(self)
        self.meet_link.setPlaceholderText("https://meet.example/…")
        self.email = QLineEdit(self)
        self.picture = QWidget(self)
        row = QHBoxLayout(self.picture)
        row.setContentsMargins(0, 0, 0, 0)
        self.picture_preview = QLabel("No picture", self.picture)
        self.picture_preview.setFixedSize(PREVIEW * 2, PREVIEW)
        self.picture_preview.setFrameShape(QFrame.Shape.StyledPanel)
        self.picture_preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.choose_picture = QPushButton("Choose &picture…", self.picture)
        self.choose_picture.clicked.connect(self.pick_picture)
        row.addWidget(self.picture_preview)
        row.addWidget(self.choose_picture)
        row.addStretch(1)
        self.login_box = QGroupBox("Log-in for the doctor (optional)", self)
        self.login_box.setCheckable(True)
        self.login_box.setChecked(False)
        self.username = QLineEdit(self.login_box)
        self.password = QLineEdit(self.login_box)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        wrap = self.errors.wrap
        form.addRow("&First name *", wrap("first_name", self.first_name, self))
        form.addRow("&Last name", wrap("last_name", self.last_name, self))
        form.addRow("&Specialisations", wrap("specialisation", self.specialisations, self))
        form.addRow("&Designations", wrap("designation", self.designations, self))
        form.addRow("F&ee", wrap("fee", self.fee, self))
        form.addRow("Descr&iption", wrap("description", self.description, self))
        form.addRow("&Meet link", wrap("meet_link", self.meet_link, self))
        form.addRow("Em&ail", wrap("email", self.email, self))
        form.addRow("Picture", wrap("picture", self.picture, self))
        self.errors.alias("image", "picture")
        login = QFormLayout(self.login_box)
        login.addRow("&Username", wrap("username", self.username, self.login_box))
        login.addRow("Pass&word", wrap("password", self.password, self.login_box))
        return form

    def _build_buttons(self) -> QHBoxLayout:
        self.save = primary(QPushButton("Save", self))
        self.save.setDefault(True)
        self.save.clicked.connect(self.submit)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.clicked.connect(self.reject)
        return button_row(self.cancel_button, self.save)

    def _fill(self, record: DoctorRecord) -> None:
        self.first_name.setText(record.first_name)
        self.last_name.setText(record.last_name)
        self.fee.setText("" if record.fee is None else str(record.fee))
        self.description.setPlainText(record.description)
        self.meet_link.setText(record.meet_link)
        self.email.setText(record.email)
        if record.picture_id is not None:
            self.picture_preview.setText("Has a picture")
        if record.has_login:
            self.login_box.setTitle("Log-in (leave the password empty to keep it)")
            self.login_box.setChecked(True)
            self.username.setText(record.username)

    def _load_catalogue(self) -> None:
        checked = self.existing
        self.tasks.run(
            self.backend.specialisations,
            on_done=lambda items: _fill_checklist(
                self.specialisations, items, checked.specialisation_ids if checked else ()
            ),
        )
        self.tasks.run(
            self.backend.designations,
            on_done=lambda items: _fill_checklist(
                self.designations, items, checked.designation_ids if checked else ()
            ),
        )

    # --- the picture -----------------------------------------------------------------------
    def pick_picture(self) -> None:
        path = choose_picture_path(self)
        if path:
            self.load_picture(path)

    def load_picture(self, path: str) -> None:
        """Read and check the file off the GUI thread; a bad one is refused at its field."""
        self.errors.show("", "picture")
        self.picture_data = None
        self.tasks.run(
            read_picture, path, "picture", on_done=self._picture_read, on_error=self._failed
        )

    def _picture_read(self, data: bytes) -> None:
        self.picture_data = data
        preview = QPixmap()
        preview.loadFromData(data)
        self.picture_preview.setPixmap(
            preview.scaled(PREVIEW, PREVIEW, Qt.AspectRatioMode.KeepAspectRatio)
        )

    # --- saving ----------------------------------------------------------------------------
    def _form(self) -> DoctorForm | None:
        fee_text = self.fee.text().strip()
        fee: int | None = None
        if fee_text:
            try:
                fee = int(fee_text)
            except ValueError:
                self.errors.show("Enter the fee as a whole number.", "fee")
                return None
        with_login = self.login_box.isChecked()
        return DoctorForm(
            first_name=self.first_name.text(),
            last_name=self.last_name.text(),
            specialisation_ids=_checked_ids(self.specialisations),
            designation_ids=_checked_ids(self.designations),
            fee=fee,
            description=self.description.toPlainText(),
            meet_link=self.meet_link.text(),
            email=self.email.text(),
            username=self.username.text() if with_login else "",
            password=self.password.text() if with_login else "",
        )

    def submit(self) -> None:
        if not self.save.isEnabled():
            return
        picture_error = self.errors.message("picture")
        self.errors.clear()
        if picture_error:  # a refused file stays refused until another is chosen
            self.errors.show(picture_error, "picture")
            return
        form = self._form()
        if form is None:
            return
        self.save.setEnabled(False)
        if self.existing is None:
            call, args = self.backend.create_doctor, (form,)
        else:
            call, args = self.backend.update_doctor, (self.existing.id, form)  # type: ignore[assignment]
        self.tasks.run(call, *args, on_done=self._saved_record, on_error=self._failed)

    def _saved_record(self, record: DoctorRecord) -> None:
        self.existing = record
        if self.picture_data is None:
            self._done(record)
            return
        self.tasks.run(
            self.backend.set_doctor_picture,
            record.id,
            self.picture_data,
            on_done=self._done,
            on_error=self._failed,
        )

    def _done(self, record: DoctorRecord) -> None:
        self.save.setEnabled(True)
        self.result_record = record
        self.saved.emit(record)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.save.setEnabled(True)
        field = error.field if isinstance(error, DomainError) else None
        self.errors.show(friendly_message(error), field)
