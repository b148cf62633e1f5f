"""The weekly hours being edited: one row per window (weekday, from, to, slot length), each
with its error line right under it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import WorkingHours
from hms_desktop.domain.schedule import MAX_SLOT_MINUTES, WEEKDAY_NAMES, HoursProblem
from hms_desktop.ui.common import ErrorLabel

FIELD_WORDS = {"weekday": "Day", "start": "From", "end": "To", "slot_minutes": "Slot length"}


class WindowRow:
    """One window's widgets; they live in the editor's grid."""

    def __init__(self, parent: QWidget, window: WorkingHours) -> None:
        self.weekday = QComboBox(parent)
        for number, name in enumerate(WEEKDAY_NAMES):
            self.weekday.addItem(name, number)
        self.start = _time_edit(parent, window.start)
        self.end = _time_edit(parent, window.end)
        self.slot_minutes = QSpinBox(parent)
        self.slot_minutes.setRange(0, MAX_SLOT_MINUTES)
        self.slot_minutes.setSingleStep(5)
        self.slot_minutes.setSuffix(" min")
        self.remove = QPushButton("Remove", parent)
        self.remove.setToolTip("Remove this window")
        # Compact, so a row fits beside the preview on a 1024-pixel-wide screen.
        self.weekday.setMaximumWidth(125)
        self.slot_minutes.setMaximumWidth(95)
        self.remove.setMaximumWidth(90)
        self.error = ErrorLabel(parent)
        self.weekday.setCurrentIndex(window.weekday if 0 <= window.weekday <= 6 else 0)
        self.slot_minutes.setValue(window.slot_minutes)
        for name in ("weekday", "start", "end", "slot_minutes"):
            getattr(self, name).setAccessibleName(FIELD_WORDS[name])

    def value(self) -> WorkingHours:
        return WorkingHours(
            int(self.weekday.currentData()),
            _as_time(self.start.time()),
            _as_time(self.end.time()),
            self.slot_minutes.value(),
        )

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.weekday, self.start, self.end, self.slot_minutes, self.remove, self.error)


class WindowsEditor(QWidget):
    """Add, change and remove windows; `changed` after every edit (the preview follows)."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[WindowRow] = []
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(8)
        for column, title in enumerate(("Day", "From", "To", "Slot length")):
            self._grid.addWidget(QLabel(f"<b>{title}</b>", self), 0, column)
        self.empty = QLabel("No working hours: this doctor has no slots.", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._grid)
        layout.addWidget(self.empty)
        layout.addStretch(1)

    def set_windows(self, windows: Sequence[WorkingHours]) -> None:
        for row in self.rows:
            for widget in row.widgets():
                self._grid.removeWidget(widget)
                widget.deleteLater()
        self.rows = []
        for window in sorted(windows, key=lambda w: (w.weekday, w.start)):
            self._add(window)
        self._relayout()
        self.changed.emit()

    def add_window(self) -> WindowRow:
        """A new window: the day after the last one, at the same times (a week is quick to
        type: add, add, add...)."""
        if self.rows:
            last = self.rows[-1].value()
            window = WorkingHours((last.weekday + 1) % 7, last.start, last.end, last.slot_minutes)
        else:
            window = WorkingHours(0, time(9), time(13), 15)
        row = self._add(window)
        self._relayout()
        row.weekday.setFocus()
        self.changed.emit()
        return row

    def remove_row(self, row: WindowRow) -> None:
        self.rows.remove(row)
        for widget in row.widgets():
            self._grid.removeWidget(widget)
            widget.deleteLater()
        self._relayout()
        self.changed.emit()

    def windows(self) -> list[WorkingHours]:
        return [row.value() for row in self.rows]

    def show_problems(self, problems: Sequence[HoursProblem]) -> None:
        """Each window's problems on the line under it; nothing for windows that are right."""
        by_row: dict[int, list[str]] = {}
        for problem in problems:
            by_row.setdefault(problem.index, []).append(
                f"{FIELD_WORDS.get(problem.field, problem.field)}: {problem.message}"
            )
        for index, row in enumerate(self.rows):
            row.error.show_message("  ".join(by_row.get(index, [])))
        first = min(by_row, default=None)
        if first is not None and first < len(self.rows):
            field = next(p.field for p in problems if p.index == first)
            widget = getattr(self.rows[first], field, self.rows[first].start)
            widget.setFocus()

    def _add(self, window: WorkingHours) -> WindowRow:
        row = WindowRow(self, window)
        row.weekday.currentIndexChanged.connect(self.changed)
        row.start.timeChanged.connect(self.changed)
        row.end.timeChanged.connect(self.changed)
        row.slot_minutes.valueChanged.connect(self.changed)
        row.remove.clicked.connect(lambda: self.remove_row(row))
        self.rows.append(row)
        return row

    def _relayout(self) -> None:
        """Two grid lines per window: its fields, then its error line."""
        for row in self.rows:
            for widget in row.widgets():
                self._grid.removeWidget(widget)
        for index, row in enumerate(self.rows):
            line = 1 + 2 * index
            for column, widget in enumerate(row.widgets()[:5]):
                self._grid.addWidget(widget, line, column)
            self._grid.addWidget(row.error, line + 1, 0, 1, 5)
        previous: QWidget | None = None
        for row in self.rows:  # Tab walks the windows in the order they are shown
            for widget in row.widgets()[:5]:
                if previous is not None:
                    QWidget.setTabOrder(previous, widget)
                previous = widget
        self.empty.setVisible(not self.rows)


def _time_edit(parent: QWidget, value: time) -> QTimeEdit:
    edit = QTimeEdit(QTime(value.hour, value.minute), parent)
    edit.setDisplayFormat("HH:mm")
    edit.setMaximumWidth(80)
    return edit


def _as_time(value: QTime) -> time:
    return time(value.hour(), value.minute())
