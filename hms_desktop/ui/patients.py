"""Patients: search as you type, register (with a duplicate warning), edit, history."""

from __future__ import annotations

import html
from datetime import date, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import AppointmentRecord, PatientForm, PatientRecord
from hms_desktop.domain.validation import GENDERS
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import (
    STATUS_WORDS,
    ErrorLabel,
    RecordTableModel,
    fmt_date,
    fmt_short,
    primary,
    record_table,
)
from hms_desktop.ui.tasks import Tasks, friendly_message

DATE_HINT = "YYYY-MM-DD"


def patient_model(parent: QWidget | None = None) -> RecordTableModel:
    return RecordTableModel(
        [
            ("Name", lambda p: p.full_name),
            ("Date of birth", lambda p: fmt_date(p.date_of_birth)),
            ("Phone", lambda p: p.phone or ""),
            ("Email", lambda p: p.email),
        ],
        parent,
    )


class PatientSearch(QWidget):
    """A search box over a results table. Every keystroke searches at once; while one
    search runs, only the newest text waits, so results never lag behind typing."""

    picked = Signal(object)  # PatientRecord (Enter or double-click)
    current = Signal(object)  # PatientRecord | None
    results_shown = Signal(int)

    def __init__(self, backend: Backend, tasks: Tasks, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.backend, self.tasks = backend, tasks
        self.box = QLineEdit(self)
        self.box.setPlaceholderText("Find a patient by name, phone or date of birth (Ctrl+F)")
        self.box.setClearButtonEnabled(True)
        self.box.addAction(theme.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.model = patient_model(self)
        self.table = record_table(self.model, self)
        self.empty = QLabel("", self)
        self.empty.setObjectName("Subtitle")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        self._in_flight = False
        self._queued: str | None = None
        self._shown_text = ""
        self.box.textChanged.connect(self._typed)
        self.box.returnPressed.connect(self._enter_from_box)
        self.table.activated.connect(self._activated)
        self.table.doubleClicked.connect(self._activated)
        self.table.selectionModel().currentRowChanged.connect(
            lambda index, _old: self.current.emit(self.model.row_record(index.row()))
        )

    def refresh(self) -> None:
        self._typed(self.box.text())

    def _typed(self, text: str) -> None:
        if self._in_flight:
            self._queued = text
            return
        self._search(text)

    def _search(self, text: str) -> None:
        if not text.strip():
            self._show(text, [])
            return
        self._in_flight = True
        self.tasks.run(
            self.backend.search_patients,
            text,
            on_done=lambda rows: self._arrived(text, rows),
            on_error=self._failed,
            retry=True,
        )

    def _arrived(self, text: str, rows: list[PatientRecord]) -> None:
        self._in_flight = False
        queued, self._queued = self._queued, None
        if queued is not None and queued != text:
            self._search(queued)
            return
        self._show(text, rows)

    def _failed(self, error: Exception) -> None:
        self._in_flight = False
        self._queued = None
        self.empty.setText(friendly_message(error))

    def _show(self, text: str, rows: list[PatientRecord]) -> None:
        self._shown_text = text
        self.model.set_rows(rows)
        if text.strip() and not rows:
            self.empty.setText("No patient matches. Press Ctrl+N to register a new patient.")
        elif rows:
            self.empty.setText(f"{len(rows)} patient(s) found.")
        else:
            self.empty.setText("")
        if rows:
            self.table.selectRow(0)
        else:
            self.current.emit(None)
        self.results_shown.emit(len(rows))

    def _enter_from_box(self) -> None:
        if self.model.rowCount() > 0:
            self.table.setFocus()
            self.table.selectRow(0)

    def _activated(self, index: QModelIndex) -> None:
        record = self.model.row_record(index.row())
        if record is not None:
            self.picked.emit(record)

    def selected(self) -> PatientRecord | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None


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
        self.setMinimumWidth(620)
        self._build_fields()
        form = self._build_form()
        if existing is not None:
            self.login_box.hide()
            self._fill(existing)
        self.warning = self._build_duplicate_warning()
        self.form_error = ErrorLabel(self, name="FormError")
        buttons = self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.login_box)
        layout.addWidget(self.warning)
        layout.addWidget(self.form_error)
        layout.addLayout(buttons)
        self.full_name.setFocus()

    def _build_fields(self) -> None:
        self.full_name = QLineEdit(self)
        self.gender = QComboBox(self)
        self.gender.addItem("—", "")
        for gender in GENDERS:
            self.gender.addItem(gender.capitalize(), gender)
        self.date_of_birth = QLineEdit(self)
        self.date_of_birth.setPlaceholderText(DATE_HINT)
        self.phone = QLineEdit(self)
        self.phone.setPlaceholderText("+44 20 7946 0000")
        self.email = QLineEdit(self)
        self.address = QLineEdit(self)
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
            form.addRow(label, self._with_error(name, getattr(self, name)))
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
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save)
        return buttons

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
        self.date_of_birth.setText(record.date_of_birth.isoformat() if record.date_of_birth else "")
        self.phone.setText(record.phone or "")
        self.email.setText(record.email)
        self.address.setText(record.address)

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
        label = self.errors.get(field or "")
        if label is None:
            self.form_error.show_message(message)
            return
        label.show_message(message)
        widget = getattr(self, field or "")
        widget.setProperty("invalid", True)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        if self.isVisible():
            widget.setFocus()

    def _form(self) -> PatientForm | None:
        birth_text = self.date_of_birth.text().strip()
        birth: date | None = None
        if birth_text:
            try:
                birth = datetime.strptime(birth_text, "%Y-%m-%d").date()
            except ValueError:
                self.show_error(f"Enter the date of birth as {DATE_HINT}.", "date_of_birth")
                return None
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
        )

    def _busy(self, busy: bool) -> None:
        self.save.setEnabled(not busy)

    def submit(self) -> None:
        if not self.save.isEnabled():
            return
        self._clear_errors()
        form = self._form()
        if form is None:
            return
        self._busy(True)
        if self.existing is not None:
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
            text += f" · {record.phone}" if record.phone else ""
            item = QListWidgetItem(text, self.duplicates)
            item.setData(Qt.ItemDataRole.UserRole, record)
        self.duplicates.setCurrentRow(0)
        self.warning.show()
        self.save.setText("Save anyway")

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

    def _failed(self, error: Exception) -> None:
        self._busy(False)
        field = error.field if isinstance(error, DomainError) else None
        self.show_error(friendly_message(error), field)


def history_model(tz: ZoneInfo, parent: QWidget | None = None) -> RecordTableModel:
    return RecordTableModel(
        [
            ("When", lambda a: fmt_short(a.start, tz) if a.start else "(no slot yet)"),
            ("Doctor", lambda a: a.doctor_name),
            ("Status", lambda a: STATUS_WORDS[a.status]),
            ("Type", lambda a: a.appointment_type.value),
        ],
        parent,
    )


class PatientsView(QWidget):
    """Find, register and edit patients; see one patient's appointments."""

    book_requested = Signal(object)  # PatientRecord

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.search = PatientSearch(backend, tasks, self)
        self.new_button = QPushButton(theme.icon("add"), "New patient", self)
        self.new_button.setToolTip("Register a new patient (Ctrl+N)")
        self.edit_button = QPushButton(theme.icon("edit"), "Edit", self)
        self.book_button = primary(QPushButton(theme.icon("calendar"), "Book appointment", self))
        self.new_button.clicked.connect(self.new_patient)
        self.edit_button.clicked.connect(self.edit_patient)
        self.book_button.clicked.connect(self._book)
        self.details = QLabel("Select a patient to see their details.", self)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.history = history_model(tz, self)
        self.history_table = record_table(self.history, self)
        self.history_table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.book_button)
        left_layout.addWidget(self.search, 1)
        left_layout.addLayout(buttons)
        right = QFrame(self)
        right.setObjectName("Card")
        right_layout = QVBoxLayout(right)
        title = QLabel("Patient", right)
        title.setObjectName("SectionTitle")
        history_title = QLabel("Appointments", right)
        history_title.setObjectName("SectionTitle")
        right_layout.addWidget(title)
        right_layout.addWidget(self.details)
        right_layout.addWidget(history_title)
        right_layout.addWidget(self.history_table, 1)
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([640, 460])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.search.current.connect(self._show_patient)
        self.search.picked.connect(self._show_patient)
        self._patient: PatientRecord | None = None
        self._show_patient(None)

    @property
    def patient(self) -> PatientRecord | None:
        return self._patient

    def focus_search(self) -> None:
        self.search.box.setFocus()
        self.search.box.selectAll()

    def _show_patient(self, record: PatientRecord | None) -> None:
        self._patient = record
        self.edit_button.setEnabled(record is not None)
        self.book_button.setEnabled(record is not None)
        if record is None:
            self.details.setText("Select a patient to see their details.")
            self.history.set_rows([])
            return
        rows = [
            ("Born", fmt_date(record.date_of_birth) or "—"),
            ("Gender", (record.gender or "—").capitalize()),
            ("Phone", record.phone or "—"),
            ("Email", record.email or "—"),
            ("Address", record.address or "—"),
            ("Portal login", record.username if record.has_login else "none"),
        ]
        cells = "".join(
            f"<tr><td style='color:#4a5a6a;padding-right:12px'>{k}</td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        self.details.setText(
            f"<b style='font-size:13pt'>{record.full_name}</b><table>{cells}</table>"
        )
        self.tasks.run(
            self.backend.patient_history,
            record.id,
            on_done=lambda rows, pid=record.id: self._history(pid, rows),
            retry=True,
        )

    def _history(self, patient_id: int, rows: list[AppointmentRecord]) -> None:
        if self._patient is not None and self._patient.id == patient_id:
            self.history.set_rows(rows)

    def new_patient(self) -> PatientFormDialog:
        dialog = PatientFormDialog(self.backend, self.tasks, parent=self)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def edit_patient(self) -> PatientFormDialog | None:
        if self._patient is None:
            return None
        dialog = PatientFormDialog(self.backend, self.tasks, self._patient, parent=self)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def _saved(self, record: PatientRecord) -> None:
        self.search.box.setText(record.full_name)
        self._show_patient(record)

    def _book(self) -> None:
        if self._patient is not None:
            self.book_requested.emit(self._patient)
