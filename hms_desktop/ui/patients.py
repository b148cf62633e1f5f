"""Patients: search as you type, register and edit (`patient_form`), history."""

from __future__ import annotations

import functools
import html
from zoneinfo import ZoneInfo

import shiboken6
from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import AppointmentRecord, ChangeEvent, PatientRecord
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import (
    STATUS_WORDS,
    TYPE_WORDS,
    RecordTableModel,
    fmt_date,
    fmt_short,
    plain,
    primary,
    record_table,
    two_panes,
)
from hms_desktop.ui.dates import parse_typed_day
from hms_desktop.ui.patient_form import PatientFormDialog
from hms_desktop.ui.patient_messages import PatientMessages
from hms_desktop.ui.tasks import Tasks, friendly_message

# A search starts once typing pauses this long: a name typed at any speed is one request,
# not one per keystroke (each would count against the desk's request budget).
TYPING_PAUSE_MS = 200


def patient_model(parent: QWidget | None = None) -> RecordTableModel:
    return RecordTableModel(
        [
            ("Name", lambda p: p.full_name),
            ("Date of birth", lambda p: fmt_date(p.date_of_birth)),
            ("Phone", lambda p: p.phone_display or p.phone or ""),
            ("Email", lambda p: p.email),
        ],
        parent,
    )


class PatientSearch(QWidget):
    """A search box over a results table. A search starts when typing pauses
    (`TYPING_PAUSE_MS`); while one runs, only the newest text waits, and an answer for
    text that has changed since is dropped, so results never lag behind typing."""

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
        self.pause = QTimer(self)
        self.pause.setSingleShot(True)
        self.pause.setInterval(TYPING_PAUSE_MS)
        self.pause.timeout.connect(lambda: self._typed(self.box.text()))
        self.box.textChanged.connect(self._text_changed)
        self.box.returnPressed.connect(self._enter_from_box)
        self.box.installEventFilter(self)  # Up / Down in the box move in the results
        self.table.activated.connect(self._activated)
        self.table.doubleClicked.connect(self._activated)
        self.table.selectionModel().currentRowChanged.connect(
            lambda index, _old: self.current.emit(self.model.row_record(index.row()))
        )

    def refresh(self) -> None:
        """Search for what the box holds now (F5, or text set by the program)."""
        self.pause.stop()
        self._typed(self.box.text())

    def _text_changed(self, text: str) -> None:
        if not text.strip():
            # Cleared: nothing to ask the server, and an empty list at once.
            self.pause.stop()
            self._typed(text)
            return
        self.pause.start()  # (re)started by each keystroke

    def _typed(self, text: str) -> None:
        if self._in_flight:
            self._queued = text
            return
        self._search(text)

    def _search(self, text: str) -> None:
        if not text.strip():
            self._queued = None
            self._show(text, [])
            return
        self._in_flight = True
        # A day in the desk's own short form ("3/8/84" in the US) is sent as the server
        # reads any desk's: YYYY-MM-DD.
        day = parse_typed_day(text)
        self.tasks.run(
            self.backend.search_patients,
            day.isoformat() if day is not None else text,
            on_done=lambda rows: self._arrived(text, rows),
            on_error=self._failed,
            retry=True,
        )

    def _arrived(self, text: str, rows: list[PatientRecord]) -> None:
        if not shiboken6.isValid(self.box):
            return  # the dialog it was in has closed (its desk's Tasks lives on)
        self._in_flight = False
        queued, self._queued = self._queued, None
        if queued is not None and queued != text:
            self._search(queued)
            return
        if text != self.box.text() and self.pause.isActive():
            return  # superseded: the search for the newer text starts when typing pauses
        self._show(text, rows)

    def _failed(self, error: Exception) -> None:
        if not shiboken6.isValid(self.empty):
            return
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if watched is self.box and isinstance(event, QKeyEvent) and self.model.rowCount():
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(Qt.Key(event.key()), 0)
            if step and event.type() == QEvent.Type.KeyPress:
                row = self.table.currentIndex().row()
                self.table.selectRow(min(max(row + step, 0), self.model.rowCount() - 1))
                return True
        return super().eventFilter(watched, event)

    def _enter_from_box(self) -> None:
        """Into the results, on the row chosen with the arrows (the first one if none)."""
        if self.model.rowCount() > 0:
            self.table.setFocus()
            if not self.table.currentIndex().isValid():
                self.table.selectRow(0)

    def _activated(self, index: QModelIndex) -> None:
        record = self.model.row_record(index.row())
        if record is not None:
            self.picked.emit(record)

    def selected(self) -> PatientRecord | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None


def history_model(tz: ZoneInfo, parent: QWidget | None = None) -> RecordTableModel:
    return RecordTableModel(
        [
            ("When", lambda a: fmt_short(a.start, tz) if a.start else "(no slot yet)"),
            ("Doctor", lambda a: a.doctor_name),
            ("Status", lambda a: STATUS_WORDS[a.status]),
            ("Type", lambda a: TYPE_WORDS[a.appointment_type]),
        ],
        parent,
    )


class PatientsView(QWidget):
    """Find, register and edit patients; see one patient's appointments."""

    book_requested = Signal(object)  # PatientRecord
    waitlist_requested = Signal(object)  # PatientRecord: put them on the waitlist

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        two_panes(self, self._build_search_side(), self._build_patient_card(), (640, 460))
        self.search.current.connect(self._show_patient)
        self.search.picked.connect(self._show_patient)
        self._patient: PatientRecord | None = None
        self._show_patient(None)

    def _build_search_side(self) -> QWidget:
        """The search with its results, and what to do with the patient found."""
        side = QWidget(self)
        self.search = PatientSearch(self.backend, self.tasks, side)
        self.new_button = QPushButton(theme.icon("add"), "New patient", side)
        self.new_button.setToolTip("Register a new patient (Ctrl+N)")
        self.edit_button = QPushButton(theme.icon("edit"), "Edit", side)
        self.book_button = primary(QPushButton(theme.icon("calendar"), "Book appointment", side))
        self.new_button.clicked.connect(self.new_patient)
        self.edit_button.clicked.connect(self.edit_patient)
        self.book_button.clicked.connect(self._book)
        self.waitlist_button = QPushButton("Wait&list…", side)
        self.waitlist_button.setToolTip("Put the patient on the waitlist for a freed slot")
        self.waitlist_button.clicked.connect(self._waitlist)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        buttons.addWidget(self.waitlist_button)
        buttons.addWidget(self.book_button)
        layout = QVBoxLayout(side)
        layout.setContentsMargins(0, 0, 0, 0)
        self.notice = plain(QLabel("", side))  # it names the patient
        self.notice.setObjectName("Notice")
        self.notice.setWordWrap(True)
        self.notice.hide()
        # Shown until the desk moves on to another search.
        self.search.box.textEdited.connect(self.notice.hide)
        layout.addWidget(self.search, 1)
        layout.addWidget(self.notice)
        layout.addLayout(buttons)
        return side

    def _build_patient_card(self) -> QFrame:
        """The selected patient's details and appointments."""
        card = QFrame(self)
        card.setObjectName("Card")
        title = QLabel("Patient", card)
        title.setObjectName("SectionTitle")
        self.details = QLabel("Select a patient to see their details.", card)
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.RichText)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.history = history_model(self.tz, self)
        self.history_table = record_table(self.history, card)
        # Tab goes from the search to the buttons; the history is read, not worked in.
        self.history_table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        # The appointments, and the messages sent about them (reminders).
        self.sections = QTabWidget(card)
        self.sections.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.sections.addTab(self.history_table, "Appointments")
        self.messages = PatientMessages(self.backend, self.tasks, self.tz, card)
        self.sections.addTab(self.messages, "Messages")
        layout = QVBoxLayout(card)
        layout.addWidget(title)
        layout.addWidget(self.details)
        layout.addWidget(self.sections, 1)
        return card

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
        self.waitlist_button.setEnabled(record is not None)
        if record is None:
            self.details.setText("Select a patient to see their details.")
            self.history.set_rows([])
            self.messages.show_patient(None)
            return
        rows = [
            ("Born", fmt_date(record.date_of_birth) or "—"),
            ("Gender", (record.gender or "—").capitalize()),
            ("Phone", record.phone_display or record.phone or "—"),
            ("Email", record.email or "—"),
            ("Address", record.address or "—"),
            ("Portal login", record.username if record.has_login else "none"),
            ("Messages", "off (opted out)" if record.messages_opt_out else "on"),
        ]
        cells = "".join(
            f"<tr><td style='color:#4a5a6a;padding-right:12px'>{k}</td>"
            f"<td>{html.escape(v)}</td></tr>"
            for k, v in rows
        )
        self.details.setText(
            f"<b style='font-size:13pt'>{html.escape(record.full_name)}</b><table>{cells}</table>"
        )
        self._load_history(record.id)

    def on_change(self, event: ChangeEvent) -> None:
        """The shown patient's appointments (and the messages written about them) changed
        at this desk or another: their card follows (a hold changes neither)."""
        shown = self._patient
        if shown is None or event.patient_id != shown.id or event.kind in ("hold", "release"):
            return
        self._load_history(shown.id)

    def _load_history(self, patient_id: int) -> None:
        """The patient's appointments and the messages written about them, off the GUI
        thread (an answer for a patient no longer shown is dropped)."""
        self.tasks.run(
            self.backend.patient_history,
            patient_id,
            on_done=functools.partial(self._history, patient_id),
            retry=True,
        )
        self.messages.show_patient(patient_id)

    def _history(self, patient_id: int, rows: list[AppointmentRecord]) -> None:
        if self._patient is not None and self._patient.id == patient_id:
            self.history.set_rows(rows)

    def new_patient(self) -> PatientFormDialog:
        dialog = PatientFormDialog(self.backend, self.tasks, parent=self)
        dialog.saved.connect(functools.partial(self._saved, registered=True))
        dialog.open()
        return dialog

    def edit_patient(self) -> PatientFormDialog | None:
        if self._patient is None:
            return None
        dialog = PatientFormDialog(self.backend, self.tasks, self._patient, parent=self)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def _saved(self, record: PatientRecord, *, registered: bool = False) -> None:
        self.search.box.setText(record.full_name)
        self._show_patient(record)
        done = "is registered" if registered else "— changes saved"
        self.notice.setText(f"✓ {record.full_name} {done}.")
        self.notice.show()

    def _book(self) -> None:
        if self._patient is not None:
            self.book_requested.emit(self._patient)

    def _waitlist(self) -> None:
        if self._patient is not None:
            self.waitlist_requested.emit(self._patient)
