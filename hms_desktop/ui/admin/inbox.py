"""The contact inbox: messages left through the hospital API's contact form, newest first,
unhandled ones by default; the desk marks one handled once it has called back."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import ContactItem
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import ErrorLabel, RecordTableModel, fmt_short, primary, record_table
from hms_desktop.ui.tasks import Tasks, friendly_message

FILTERS = (("Unhandled", False), ("Handled", True), ("All", None))


def _buddy(label: QLabel, field: QWidget) -> QLabel:
    label.setBuddy(field)
    return label


class InboxPage(QWidget):
    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_toolbar())
        layout.addWidget(self._build_table(), 3)
        layout.addWidget(self._build_message(), 1)

    def _build_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        title = QLabel("Contact inbox", self)
        title.setObjectName("SectionTitle")
        self.show_filter = QComboBox(self)
        for label, value in FILTERS:
            self.show_filter.addItem(label, value)
        self.show_filter.currentIndexChanged.connect(lambda _: self.reload())
        self.handled_button = primary(QPushButton("Mark &handled", self))
        self.handled_button.clicked.connect(self.toggle_handled)
        self.error = ErrorLabel(self, name="FormError")
        row.addWidget(title)
        row.addWidget(self.error)
        row.addStretch(1)
        row.addWidget(_buddy(QLabel("&Show:", self), self.show_filter))
        row.addWidget(self.show_filter)
        row.addWidget(self.handled_button)
        return row

    def _build_table(self) -> QWidget:
        self.model = RecordTableModel(
            [
                ("Received", lambda m: fmt_short(m.created_at, self.tz)),
                ("Name", lambda m: m.name),
                ("Phone", lambda m: m.phone),
                ("Message", lambda m: " ".join(m.message.split())[:80]),
                ("Handled", lambda m: "✓" if m.handled else ""),
            ],
            self,
        )
        self.table = record_table(self.model, self, stretch=3)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        return self.table

    def _build_message(self) -> QWidget:
        self.reading = QPlainTextEdit(self)
        self.reading.setReadOnly(True)
        self.reading.setPlaceholderText("The selected message")
        return self.reading

    def shown(self) -> bool | None:
        value = self.show_filter.currentData()
        return None if value is None else bool(value)

    def start(self) -> None:
        """Load when the admin first opens the page (nothing is asked before)."""
        self.reload()

    def reload(self, select_id: int | None = None) -> None:
        self.tasks.run(
            self.backend.contact_messages,
            self.shown(),
            on_done=lambda rows: self._show(rows, select_id),
            on_error=self._failed,
        )

    def _show(self, rows: list[ContactItem], select_id: int | None) -> None:
        self.model.set_rows(rows)
        ids = [row.id for row in rows]
        if rows:
            self.table.selectRow(ids.index(select_id) if select_id in ids else 0)
        self._selected()

    def selected(self) -> ContactItem | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None

    def _selected(self) -> None:
        item = self.selected()
        self.handled_button.setEnabled(item is not None)
        self.handled_button.setText("Mark &unhandled" if item and item.handled else "Mark &handled")
        self.reading.setPlainText(f"{item.name} · {item.phone}\n\n{item.message}" if item else "")

    def toggle_handled(self) -> None:
        item = self.selected()
        if item is None:
            return
        self.error.show_message("")
        self.tasks.run(
            self.backend.mark_contact_handled,
            item.id,
            not item.handled,
            on_done=lambda done: self.reload(done.id),
            on_error=self._failed,
        )

    def _failed(self, error: Exception) -> None:
        self.error.show_message(friendly_message(error))
