"""Register or edit a patient: every wrong field's error next to it at once, a warning
before registering someone who looks registered already, an optional portal login."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import PatientForm, PatientRecord
from hms_desktop.domain.validation import GENDERS
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import ErrorLabel, button_row, fmt_date, primary
from hms_desktop.ui.dates import DateField, parse_typed_day
from hms_desktop.ui.tasks import Tasks, friendly_message, show_failure

FIELD_WIDTH = 460  # room for the longest error message beside its field
BIRTH_DATE_ERROR = "Enter the date of birth as DD/MM/YYYY, YYYY-MM-DD or 08 Mar 1984."


class PatientFormDialog(QDialog):
    """Register or edit a patient. Errors appear next to the field they are about."""

    saved = Signal(object)  # PatientRecord

    FIELDS = ("full_name", "gender", "date_of_birth", "phone", "email", "address")

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        existing: PatientRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.existing = backend, tasks, existing
        self.result_record: PatientRecord | None = None
        self._duplicates_seen = False
        self.setWindowTitle("Edit patient" if existing else "Register a patient")
        self._build_fields()
        form = self._build_form()
        if existing is not None:
            self.login_box.hide()
            self._fill(existing)
        self.warning = self._build_duplicate_warning()
        self.form_error = ErrorLabel(self, name="FormError")
        buttons = self._build_buttons()
        layout = QVBoxLayout(self)
        # The dialog grows when errors or the duplicate warning appear, instead of squashing
        # the fields above them: its minimum size is always its content's. (A minimum width
        # set on the dialog itself would switch that off, so the width is the fields'.)
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        layout.addLayout(form)
        layout.addWidget(self.login_box)
        layout.addWidget(self.warning)
        layout.addWidget(self.form_error)
        layout.addLayout(buttons)
        self.full_name.setFocus()

    def _build_fields(self) -> None:
        self.full_name = QLineEdit(self)
        self.full_name.setMinimumWidth(FIELD_WIDTH)
        self.gender = QComboBox(self)
        self.gender.addItem("—", "")
        for gender in GENDERS:
            self.gender.addItem(gender.capitalize(), gender)
        self.birth_field = DateField(self, latest=date.today())
        self.date_of_birth = self.birth_field.edit
        self.phone = QLineEdit(self)
        self.phone.setPlaceholderText("07700 900081 or +44 7700 900081")
        self.email = QLineEdit(self)
        self.address = QLineEdit(self)
        self.messages_opt_out = QCheckBox("Send no &reminders or other messages", self)
        self.messages_opt_out.setToolTip(
            "The patient asked not to get booking confirmations, reminders or notices"
        )
        self.login_box = QGroupBox("Portal login (optional)", self)
        self.login_box.setCheckable(True)
        self.login_box.setChecked(False)
        self.username = QLineEdit(self.login_box)
        self.password = QLineEdit(self.login_box)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)

    def _build_form(self) -> QFormLayout:
        """The patient's fields and the optional portal login, each with its error line."""
        self.errors: dict[str, ErrorLabel] = {}
        form = QFormLayout()
        for name, label in (
            ("full_name", "Full &name *"),
            ("gender", "&Gender"),
            ("date_of_birth", "&Date of birth"),
            ("phone", "&Phone"),
            ("email", "&Email"),
            ("address", "&Address"),
        ):
            widget = self.birth_field if name == "date_of_birth" else getattr(self, name)
            form.addRow(label, self._with_error(name, widget))
        form.addRow("Messages", self.messages_opt_out)
        login_form = QFormLayout(self.login_box)
        login_form.addRow("&Username", self._with_error("username", self.username))
        login_form.addRow("Pass&word", self._with_error("password", self.password))
        return form

    def _build_duplicate_warning(self) -> QFrame:
        """Shown when the patient looks registered already: the look-alikes to pick from."""
        warning = QFrame(self)
        warning.setObjectName("Warning")
        warning_layout = QVBoxLayout(warning)
        self.warning_text = QLabel(
            "This looks like a patient who is already registered. Check the list; "
            "pick them instead, or save anyway if this is someone else.",
            warning,
        )
        self.warning_text.setWordWrap(True)
        self.duplicates = QListWidget(warning)
        self.duplicates.setMinimumHeight(60)
        self.duplicates.setMaximumHeight(90)
        self.use_existing = QPushButton("Use the selected patient", warning)
        self.use_existing.clicked.connect(self._use_existing)
        warning_layout.addWidget(self.warning_text)
        warning_layout.addWidget(self.duplicates)
        warning_layout.addWidget(self.use_existing, 0, Qt.AlignmentFlag.AlignRight)
        warning.hide()
        return warning

    def _build_buttons(self) -> QHBoxLayout:
        self.save = primary(QPushButton("Save", self))
        self.save.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.save.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        return button_row(self.cancel_button, self.save)

    def _with_error(self, name: str, field: QWidget) -> QWidget:
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        label = ErrorLabel(holder)
        column.addWidget(label)
        self.errors[name] = label
        return holder

    def _fill(self, record: PatientRecord) -> None:
        self.full_name.setText(record.full_name)
        self.gender.setCurrentIndex(max(0, self.gender.findData(record.gender or "")))
        self.birth_field.set_day(record.date_of_birth)
        self.phone.setText(record.phone_display or record.phone or "")
        self.email.setText(record.email)
        self.address.setText(record.address)
        self.messages_opt_out.setChecked(record.messages_opt_out)

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.show_message("")
        for name in (*self.FIELDS, "username", "password"):
            widget = getattr(self, name)
            widget.setProperty("invalid", False)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self.form_error.show_message("")

    def show_error(self, message: str, field: str | None) -> None:
        self.show_errors({field or "": message})

    def show_errors(self, messages: dict[str, str]) -> None:
        """Each message next to its field (one without a field under the form); the first
        wrong field, in the form's order, gets the focus."""
        order = (*self.FIELDS, "username", "password")
        first: QWidget | None = None
        for field in sorted(messages, key=lambda f: order.index(f) if f in order else len(order)):
            label = self.errors.get(field)
            if label is None:
                self.form_error.show_message(messages[field])
                continue
            label.show_message(messages[field])
            widget = getattr(self, field)
            widget.setProperty("invalid", True)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
            first = first or widget
        self._grow()
        if first is not None and self.isVisible():
            first.setFocus()

    def _form(self, birth: date | None) -> PatientForm:
        with_login = self.login_box.isChecked() and self.existing is None
        return PatientForm(
            full_name=self.full_name.text(),
            gender=self.gender.currentData() or "",
            date_of_birth=birth,
            phone=self.phone.text(),
            email=self.email.text(),
            address=self.address.text(),
            username=self.username.text() if with_login else "",
            password=self.password.text() if with_login else "",
            messages_opt_out=self.messages_opt_out.isChecked(),
        )

    def _busy(self, busy: bool) -> None:
        self.save.setEnabled(not busy)

    def submit(self) -> None:
        if not self.save.isEnabled():
            return
        self._clear_errors()
        birth_text = self.date_of_birth.text().strip()
        birth = parse_typed_day(birth_text)
        form = self._form(birth)
        self._busy(True)
        if birth_text and birth is None:
            # The server checks the other fields (a look-up that saves nothing), so every
            # error shows at once, the date's with them.
            self.tasks.run(
                self.backend.find_likely_duplicates,
                form,
                on_done=lambda _found: self._failed(None),
                on_error=self._failed,
            )
        elif self.existing is not None:
            self.tasks.run(
                self.backend.update_patient,
                self.existing.id,
                form,
                on_done=self._done,
                on_error=self._failed,
            )
        elif self._duplicates_seen:
            self._register(form)
        else:
            self.tasks.run(
                self.backend.find_likely_duplicates,
                form,
                on_done=lambda found: self._checked(form, found),
                on_error=self._failed,
            )

    def _checked(self, form: PatientForm, found: list[PatientRecord]) -> None:
        if not found:
            self._register(form)
            return
        self._busy(False)
        self._duplicates_seen = True
        self.duplicates.clear()
        for record in found:
            text = f"{record.full_name} · born {fmt_date(record.date_of_birth) or '?'}"
            phone = record.phone_display or record.phone
            text += f" · {phone}" if phone else ""
            item = QListWidgetItem(text, self.duplicates)
            item.setData(Qt.ItemDataRole.UserRole, record)
        self.duplicates.setCurrentRow(0)
        self.warning.show()
        self.save.setText("Save anyway")
        self._grow()

    def _grow(self) -> None:
        """Room for everything at its natural height (not `adjustSize`, which stops at two
        thirds of the screen and squashes the fields instead)."""
        layout = self.layout()
        assert layout is not None
        layout.activate()
        hint = self.sizeHint()
        self.resize(max(self.width(), hint.width()), max(self.height(), hint.height()))
        screen = self.screen().availableGeometry()
        overhang = self.frameGeometry().bottom() - screen.bottom()
        if overhang > 0:  # grown past the bottom of the screen: up, as far as the top
            self.move(self.x(), max(screen.top(), self.y() - overhang))

    def _register(self, form: PatientForm) -> None:
        self.tasks.run(
            self.backend.register_patient, form, on_done=self._done, on_error=self._failed
        )

    def _use_existing(self) -> None:
        item = self.duplicates.currentItem()
        if item is not None:
            self._done(item.data(Qt.ItemDataRole.UserRole))

    def _done(self, record: PatientRecord) -> None:
        self._busy(False)
        self.result_record = record
        self.saved.emit(record)
        self.accept()

    def _failed(self, error: Exception | None) -> None:
        """Show what went wrong: every wrong field's message, and the date of birth's when
        it could not be read (`error` is None when nothing else was wrong)."""
        self._busy(False)
        messages: dict[str, str] = {}
        if self.date_of_birth.text().strip() and self.birth_field.day() is None:
            messages["date_of_birth"] = BIRTH_DATE_ERROR
        if isinstance(error, DomainError) and error.fields:
            messages = {**error.fields, **messages}
        elif isinstance(error, DomainError) and error.field:
            messages.setdefault(error.field, friendly_message(error))
        elif error is not None:
            show_failure(self.form_error, self.tasks, error)
        self.show_errors(messages)
