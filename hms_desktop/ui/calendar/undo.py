"""A moved booking can be put back for a few seconds: an Undo button over the calendar's
corner and Ctrl+Z. Putting it back is a move like any other, so it is refused in plain
words when the old slot has been taken meanwhile."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractScrollArea, QPushButton, QWidget

from hms_desktop.domain.models import AppointmentRecord
from hms_desktop.ui.common import primary

UNDO_SECONDS = 10
MARGIN = 12


def fmt_when(moment: datetime | None, tz: ZoneInfo) -> str:
    """ "Tue 3 Dec 10:30": a slot as the desk says it in a message."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    return f"{local:%a} {local.day} {local:%b %H:%M}"


def moved_words(record: AppointmentRecord, tz: ZoneInfo) -> str:
    return f"{fmt_when(record.start, tz)} with Dr {record.doctor_name}"


@dataclass(frozen=True)
class Move:
    """A move that can be taken back: where the booking was before it."""

    appointment_id: int
    patient_name: str
    old_slot_id: int
    old_words: str  # "Tue 3 Dec 10:00 with Dr Grace Heart"
    new_words: str


class UndoMove(QObject):
    """Offers the last move back for `UNDO_SECONDS`: `put_back(move)` does the moving."""

    def __init__(
        self, host: QWidget, over: QAbstractScrollArea, put_back: Callable[[Move], None]
    ) -> None:
        super().__init__(host)
        self.over, self.put_back = over, put_back
        self.move: Move | None = None
        self.button = primary(QPushButton("Undo move (Ctrl+Z)", over))
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the grid keeps the keyboard
        self.button.hide()
        self.button.clicked.connect(self.undo)
        self.shortcut = QShortcut(QKeySequence.StandardKey.Undo, host, self.undo)
        self.shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(UNDO_SECONDS * 1000)
        self.timer.timeout.connect(self.withdraw)

    def offer(self, move: Move) -> None:
        self.move = move
        self.button.adjustSize()
        viewport = self.over.viewport().geometry()
        self.button.move(
            viewport.right() - self.button.width() - MARGIN,
            viewport.bottom() - self.button.height() - MARGIN,
        )
        self.button.show()
        self.button.raise_()
        self.timer.start()

    def withdraw(self) -> None:
        self.move = None
        self.timer.stop()
        self.button.hide()

    def undo(self) -> None:
        move = self.move
        if move is not None:
            self.withdraw()
            self.put_back(move)
