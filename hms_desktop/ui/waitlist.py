"""Waitlist: who waits for a freed slot, best first (priority, then the longest waiting).
Narrow it by status or a name, add a patient, take someone off (Del). Live: another desk's
change (an entry added, withdrawn or filled) shows at once."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import ChangeEvent, PatientRecord
from hms_desktop.domain.waitlist import WaitlistEntry, WaitlistStatus
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import RecordTableModel, fmt_date, fmt_datetime, plain, record_table
from hms_desktop.ui.tasks import Tasks, friendly_message
from hms_desktop.ui.waitlist_form import PRIORITY_LABELS, WaitlistDialog

STATUS_CHOICES: list[tuple[str, WaitlistStatus | None]] = [
    ("Waiting", WaitlistStatus.ACTIVE),
    ("Filled", WaitlistStatus.FILLED),
    ("Withdrawn", WaitlistStatus.WITHDRAWN),
    ("Expired", WaitlistStatus.EXPIRED),
    ("All", None),
]

# Each status as the filter names it ("Waiting", not the stored "active").
STATUS_WORDS = {status: label.lower() for label, status in STATUS_CHOICES if status is not None}


def _days(entry: WaitlistEntry) -> str:
    return f"{fmt_date(entry.first_day)} – {fmt_date(entry.last_day)}"


def waitlist_model(tz: ZoneInfo, parent: QWidget | None = None) -> RecordTableModel:
    return RecordTableModel(
        [
            ("Priority", lambda e: PRIORITY_LABELS[e.priority]),
            ("Patient", lambda e: e.patient_name),
            ("Phone", lambda e: e.patient_phone or "—"),
            ("Waits for", lambda e: e.wanted),
            ("Days", _days),
            ("Times", lambda e: e.preferred_times or "any time"),
            ("On the list since", lambda e: fmt_datetime(e.created_at, tz)),
            ("Status", lambda e: STATUS_WORDS[e.status]),
            ("Note", lambda e: e.note),
        ],
        parent,
    )


class WaitlistView(QWidget):
    """The desk's waitlist page."""

    message = Signal(str)
    loaded = Signal()

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.entries: list[WaitlistEntry] = []
        self.dialog: WaitlistDialog | None = None
        self.confirm_box: QMessageBox | None = None
        filters = self._build_filters()
        self.title = plain(QLabel(self))
        self.title.setObjectName("SectionTitle")
        self.model = waitlist_model(tz, self)
        self.table = record_table(self.model, self, stretch=8)
        actions = self._build_actions()
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self.status.currentIndexChanged.connect(lambda _i: self.reload())
        self.filter.textChanged.connect(lambda _t: self._fill())
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._enable())
        self.table.installEventFilter(self)  # Del on a row: withdraw it

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            watched is self.table
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Delete
        ):
            self.ask_withdraw()
            return True
        return super().eventFilter(watched, event)

    def _build_filters(self) -> QHBoxLayout:
        self.status = QComboBox(self)
        for words, status in STATUS_CHOICES:
            # The value, not the enum: Qt hands a str subclass back as a plain str.
            self.status.addItem(words, status.value if status else None)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter by patient, doctor or speciality")
        self.filter.setClearButtonEnabled(True)
        status_label = QLabel("&Show", self)
        status_label.setBuddy(self.status)
        row = QHBoxLayout()
        row.addWidget(status_label)
        row.addWidget(self.status)
        row.addWidget(self.filter, 1)
        return row

    def _build_actions(self) -> QHBoxLayout:
        self.withdraw_button = QPushButton("&Withdraw (Del)", self)
        self.withdraw_button.setEnabled(False)
        self.withdraw_button.clicked.connect(self.ask_withdraw)
        self.refresh_button = QPushButton(theme.icon("refresh"), "Refresh", self)
        self.refresh_button.clicked.connect(self.reload)
        row = QHBoxLayout()
        row.addWidget(self.withdraw_button)
        row.addStretch(1)
        row.addWidget(self.refresh_button)
        return row

    def start(self) -> None:
        self.reload()

    def shown_status(self) -> WaitlistStatus | None:
        data = self.status.currentData()
        return WaitlistStatus(data) if data else None

    def reload(self) -> None:
        status = self.shown_status()
        self.tasks.run(
            self.backend.waitlist, status, on_done=lambda rows: self._show(status, rows), retry=True
        )

    def _show(self, status: WaitlistStatus | None, rows: list[WaitlistEntry]) -> None:
        if status != self.shown_status():
            return
        self.entries = rows
        self._fill()
        self.loaded.emit()

    def _fill(self) -> None:
        selected = self.selected()
        text = self.filter.text().strip().casefold()
        shown = [
            e
            for e in self.entries
            if not text or text in f"{e.patient_name} {e.wanted} {e.patient_phone}".casefold()
        ]
        self.model.set_rows(shown)
        count = len(shown)
        kind = self.status.currentText().lower()
        self.title.setText(f"{count} {kind} {'entry' if count == 1 else 'entries'}")
        ids = [e.id for e in shown]
        if selected is not None and selected.id in ids:
            self.table.selectRow(ids.index(selected.id))
        elif shown:
            self.table.selectRow(0)
        self._enable()

    def selected(self) -> WaitlistEntry | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        entry = self.selected()
        self.withdraw_button.setEnabled(entry is not None and entry.status is WaitlistStatus.ACTIVE)

    def add_for(self, patient: PatientRecord) -> WaitlistDialog:
        """The waitlist form for a patient (from Patients, W); says so once saved."""
        today = datetime.now(UTC).astimezone(self.tz).date()
        dialog = WaitlistDialog(self.backend, self.tasks, patient, today, self)
        dialog.saved.connect(self._added)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _added(self, entry: WaitlistEntry) -> None:
        self.message.emit(f"{entry.patient_name} is on the waitlist for {entry.wanted}.")
        self.reload()

    def ask_withdraw(self) -> QMessageBox | None:
        entry = self.selected()
        if entry is None or entry.status is not WaitlistStatus.ACTIVE:
            return None
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Take off the waitlist?",
            f"Take {entry.patient_name} off the waitlist for {entry.wanted}?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)  # a name is shown as typed, not as markup
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Withdraw")
        box.button(QMessageBox.StandardButton.No).setText("Keep waiting")
        box.accepted.connect(lambda: self._withdraw(entry))
        self.confirm_box = box
        box.open()
        return box

    def _withdraw(self, entry: WaitlistEntry) -> None:
        self.tasks.run(
            self.backend.withdraw_from_waitlist,
            entry.id,
            on_done=self._withdrawn,
            on_error=lambda error: self.message.emit(friendly_message(error)),
        )

    def _withdrawn(self, entry: WaitlistEntry) -> None:
        self.message.emit(f"{entry.patient_name} is off the waitlist.")
        self.reload()

    def on_change(self, event: ChangeEvent) -> None:
        """An entry added, withdrawn or filled at any desk (a booking may fill one)."""
        if event.kind in ("waitlist", "book"):
            self.reload()
