"""Appointment statuses in a list (Today, Arrivals): the status cell coloured, and setting a
status: asked first when it is long before the appointment, with an Undo for a few seconds
that sets the previous status back (audited like any status change)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from hms_desktop.domain.enums import AppointmentStatus
from hms_desktop.domain.models import AppointmentRecord
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import (
    STATUS_WORDS,
    Index,
    RecordTableModel,
    fmt_datetime,
    fmt_time,
)
from hms_desktop.ui.tasks import Tasks, friendly_message

# Marking one of these more than this long before the appointment asks first: a click on
# the wrong row (tomorrow's patient, the afternoon's) is the likelier story.
ASK_WHEN_EARLY = frozenset({AppointmentStatus.ARRIVED, AppointmentStatus.COMPLETED})
EARLY = timedelta(hours=1)
# How long the Undo button stays after a change.
UNDO_MS = 10_000


def too_early(record: AppointmentRecord, status: AppointmentStatus, now: datetime) -> bool:
    return status in ASK_WHEN_EARLY and record.start is not None and record.start - now > EARLY


# A status told by colour as well as by its word.
STATUS_COLOURS: dict[AppointmentStatus, tuple[str, str]] = {  # background, text
    AppointmentStatus.ARRIVED: ("#e3f4e6", "#1d5e2a"),
    AppointmentStatus.IN_PROGRESS: ("#dcebf8", "#1f4e79"),
    AppointmentStatus.COMPLETED: ("#eceff2", "#5b6670"),
    AppointmentStatus.NO_SHOW: ("#f9e0dc", "#8a2a1c"),
}


class StatusTableModel(RecordTableModel):
    """Appointments in a table, the status cell coloured by status."""

    def __init__(
        self, columns: Sequence[tuple[str, Any]], status_column: int, parent: Any = None
    ) -> None:
        super().__init__(columns, parent)
        self.status_column = status_column

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if index.isValid() and index.column() == self.status_column:
            colours = STATUS_COLOURS.get(self.row_record(index.row()).status)
            if colours and role == Qt.ItemDataRole.BackgroundRole:
                return QColor(colours[0])
            if colours and role == Qt.ItemDataRole.ForegroundRole:
                return QColor(colours[1])
        return super().data(index, role)


class StatusChanger(QObject):
    """One view's status changes: the question before an early one, and the Undo after."""

    message = Signal(str)
    changed = Signal(object)  # AppointmentRecord

    def __init__(self, backend: Backend, tasks: Tasks, tz: ZoneInfo, view: QWidget) -> None:
        super().__init__(view)
        self.backend, self.tasks, self.tz, self.view = backend, tasks, tz, view
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.confirm_box: QMessageBox | None = None
        # The last change: the appointment as it was, and as it became.
        self.last: tuple[AppointmentRecord, AppointmentRecord] | None = None
        self.undo_button = QPushButton(theme.icon("undo"), "&Undo", view)
        self.undo_button.setToolTip("Set the previous status back (Ctrl+Z)")
        self.undo_button.hide()
        self.undo_button.clicked.connect(self.undo)
        shortcut = QShortcut(QKeySequence.StandardKey.Undo, view, self.undo)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.undo_timer = QTimer(self)
        self.undo_timer.setSingleShot(True)
        self.undo_timer.setInterval(UNDO_MS)
        self.undo_timer.timeout.connect(self._forget)

    def request(self, record: AppointmentRecord, status: AppointmentStatus) -> None:
        """Set `status`, after asking when it is long before the appointment."""
        if too_early(record, status, self.now()):
            self.confirm_box = self._ask(record, status)
        else:
            self._set(record, status)

    def _ask(self, record: AppointmentRecord, status: AppointmentStatus) -> QMessageBox:
        word = STATUS_WORDS[status].lower()
        now = self.now().astimezone(self.tz)
        when = (
            f"at {fmt_time(record.start, self.tz)} today"
            if record.start is not None and record.start.astimezone(self.tz).date() == now.date()
            else f"on {fmt_datetime(record.start, self.tz)}"
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            f"Mark {word}?",
            f"{record.patient_name}'s appointment with {record.doctor_name} is {when}, "
            f"more than an hour from now. Mark it {word} anyway?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.view,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText(f"Mark {word}")
        box.button(QMessageBox.StandardButton.No).setText("Not yet")
        box.accepted.connect(lambda: self._set(record, status))
        box.open()
        return box

    def _set(self, record: AppointmentRecord, status: AppointmentStatus) -> None:
        self.tasks.run(
            self.backend.set_status,
            record.id,
            status,
            on_done=lambda updated: self._done(record, updated),
            on_error=lambda error: self.message.emit(friendly_message(error)),
        )

    def _done(self, before: AppointmentRecord, after: AppointmentRecord) -> None:
        word = STATUS_WORDS[after.status].lower()
        self.last = (before, after)
        self.undo_button.setText(f"&Undo {word}")
        self.undo_button.show()
        self.undo_timer.start()
        self.message.emit(f"{after.patient_name}: {word}. Undo with Ctrl+Z.")
        self.changed.emit(after)

    def undo(self) -> None:
        """The last change's previous status, set again (while the Undo is offered)."""
        if self.last is None:
            return
        before, after = self.last
        self._forget()
        self.tasks.run(
            self.backend.set_status,
            after.id,
            before.status,
            on_done=self._undone,
            on_error=lambda error: self.message.emit(friendly_message(error)),
        )

    def _undone(self, record: AppointmentRecord) -> None:
        word = STATUS_WORDS[record.status].lower()
        self.message.emit(f"Undone: {record.patient_name} is {word} again.")
        self.changed.emit(record)

    def shown(self, rows: list[AppointmentRecord]) -> None:
        """A view's fresh rows: once someone else has moved the last-changed appointment on
        (the doctor started the visit), undoing would undo their change too: no Undo."""
        if self.last is None:
            return
        changed = self.last[1]
        if any(row.id == changed.id and row.status is not changed.status for row in rows):
            self._forget()

    def _forget(self) -> None:
        self.last = None
        self.undo_timer.stop()
        self.undo_button.hide()
