"""Small pieces shared by the windows: time formatting, stars, error labels, record tables."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QStandardPaths,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.models import ChangeEvent

Index = QModelIndex | QPersistentModelIndex

STATUS_WORDS = {
    AppointmentStatus.REQUESTED: "Requested",
    AppointmentStatus.SCHEDULED: "Scheduled",
    AppointmentStatus.RESCHEDULED: "Rescheduled",
    AppointmentStatus.ARRIVED: "Arrived",
    AppointmentStatus.IN_PROGRESS: "In progress",
    AppointmentStatus.COMPLETED: "Completed",
    AppointmentStatus.NO_SHOW: "No-show",
    AppointmentStatus.CANCELLED: "Cancelled",
    AppointmentStatus.DECLINED: "Declined",
}

# The desk's words for an appointment's type (in this order in a choice); the REST APIs keep
# their own "Online" / "Offline".
TYPE_WORDS = {
    AppointmentType.OFFLINE: "In person",
    AppointmentType.ONLINE: "Video call",
}


def plain(label: QLabel) -> QLabel:
    """A label that shows its text as typed: a name like "<h1>X</h1>" is not markup here."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    return label


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


def fmt_time(moment: datetime | None, tz: ZoneInfo) -> str:
    return local(moment, tz).strftime("%H:%M") if moment else ""


def fmt_datetime(moment: datetime | None, tz: ZoneInfo) -> str:
    return local(moment, tz).strftime("%a %d %b %Y, %H:%M") if moment else "—"


def fmt_short(moment: datetime | None, tz: ZoneInfo) -> str:
    return local(moment, tz).strftime("%d %b %y %H:%M") if moment else ""


def fmt_date(day: date | None) -> str:
    return day.strftime("%d %b %Y") if day else ""


def fmt_hours(start: time, end: time) -> str:
    return f"{start.strftime('%H:%M')}–{end.strftime('%H:%M')}"


def stars(rating: float | None) -> str:
    if rating is None:
        return "no reviews"
    full = round(rating)
    return "★" * full + "☆" * (5 - full)


def event_day(event: ChangeEvent, tz: ZoneInfo) -> date | None:
    """The clinic day of the slot a change event is about, when the event says."""
    if not event.start:
        return None
    try:
        return datetime.fromisoformat(event.start).astimezone(tz).date()
    except ValueError:
        return None


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz)


class ErrorLabel(QLabel):
    """A red message under a field; hidden while there is nothing to say."""

    def __init__(self, parent: QWidget | None = None, *, name: str = "FieldError") -> None:
        super().__init__(parent)
        self.setObjectName(name)
        # Field messages are one line; wrapping labels in form rows can overlap the next row.
        self.setWordWrap(name != "FieldError")
        self.hide()

    def show_message(self, text: str) -> None:
        self.setText(text)
        self.setVisible(bool(text))


class Banner(QFrame):
    """The red strip across the top while the clinic's server cannot be reached: what is
    away, and whether the desk is retrying or waits for F5 (reads are retried a while;
    changes never are)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 6)
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        layout.addWidget(self.label, 1)
        self.hide()

    def show_lost(self, text: str, retrying: bool) -> None:
        state = "Retrying…" if retrying else "Offline — press F5 to retry."
        self.label.setText(f"⚠ {text} {state}")
        self.show()


def primary(button: QPushButton) -> QPushButton:
    button.setObjectName("Primary")
    return button


def two_panes(view: QWidget, left: QWidget, right: QWidget, sizes: tuple[int, int]) -> None:
    """Fill `view` with `left` and `right` side by side; the desk can drag the border."""
    splitter = QSplitter(view)
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setSizes(list(sizes))
    layout = QVBoxLayout(view)
    layout.addWidget(splitter)


def button_row(*buttons: QWidget) -> QHBoxLayout:
    """Buttons at the right end of a row, in this order (the one that goes ahead last)."""
    row = QHBoxLayout()
    row.addStretch(1)
    for button in buttons:
        row.addWidget(button)
    return row


class RecordTableModel(QAbstractTableModel):
    """A read-only table over a list of records: one function per column."""

    def __init__(self, columns: Sequence[tuple[str, Any]], parent: Any = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Any] = []

    def set_rows(self, rows: Iterable[Any]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_record(self, row: int) -> Any:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    @property
    def records(self) -> list[Any]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        record = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[index.column()][1](record)
        if role == Qt.ItemDataRole.UserRole:
            return record
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section][0]
        return None


STRETCH_LAST = -1


def record_table(
    model: RecordTableModel, parent: QWidget, *, stretch: int | None = None
) -> QTableView:
    """A read-only list of records: whole rows selected one at a time, striped.

    Without `stretch` every column gets an equal share of the width; with it, columns fit
    their contents and column `stretch` (`STRETCH_LAST`: the last one) takes what is left.
    """
    view = QTableView(parent)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    # Arrows move between rows; Tab leaves the table for the buttons after it (by default
    # Tab walks every cell, so the keyboard never reaches them).
    view.setTabKeyNavigation(False)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    if stretch is None:
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    else:
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        if stretch == STRETCH_LAST:
            header.setStretchLastSection(True)
        else:
            header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def documents_folder() -> Path:
    """Where a save dialog opens: the user's documents folder, or their home when there is
    none (the dialog would otherwise fall back to the working folder)."""
    documents = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(documents) if documents and Path(documents).is_dir() else Path.home()
