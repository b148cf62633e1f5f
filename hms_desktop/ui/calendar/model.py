"""The calendar's item model: rows are times of day, columns are (day, doctor), a cell is
one slot. Dragging a booking onto a free slot asks for it to be moved."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QAbstractTableModel, QByteArray, QMimeData, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from hms_desktop.domain.models import CalendarSlot, DoctorSummary, Hold, SlotState
from hms_desktop.ui.calendar.header import DAY_ROLE, DOCTOR_ROLE, GROUPED_ROLE
from hms_desktop.ui.common import STATUS_WORDS, Index, fmt_datetime

MIME_APPOINTMENT = "application/x-hms-appointment"
TODAY_TINT = QColor("#eef5fc")
STATE_WORDS = {
    SlotState.FREE: "Free",
    SlotState.HELD_BY_ME: "Held by you",
    SlotState.HELD: "Held by another desk",
    SlotState.BOOKED: "Booked",
    SlotState.PAST: "Past",
    SlotState.BLOCKED: "Not bookable",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def countdown(hold: Hold | None, now: datetime) -> str:
    if hold is None:
        return ""
    left = max(0, int((hold.expires_at - now).total_seconds()))
    return f"{left // 60}:{left % 60:02d}"


def holder_words(hold: Hold | None) -> str:
    """Who holds it, as people call them: their full name, else (an older desk's hold) the
    log-in; "" when the policy shows nobody."""
    if hold is None:
        return ""
    return hold.holder_name or hold.holder


def held_where(hold: Hold | None) -> str:
    """By whom and where another desk's hold is held: "by Robin Desk at DESK-2" (the name
    first, as a narrow column keeps only the start; the same account at two PCs tells the
    desks apart by the desk's name)."""
    who = holder_words(hold)
    if hold is None or not who:
        return ""
    return f"by {who} at {hold.desk}" if hold.desk else f"by {who}"


@dataclass(frozen=True)
class Column:
    day: date
    doctor: DoctorSummary


class CalendarModel(QAbstractTableModel):
    """Rows are times of day, columns are (day, doctor); a cell is one slot or nothing."""

    reschedule_dropped = Signal(int, int)  # appointment id, new slot id

    def __init__(self, tz: ZoneInfo, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__()
        self.tz, self.clock = tz, clock
        self.columns: list[Column] = []
        self.times: list[time] = []
        self._cells: dict[tuple[int, int], CalendarSlot] = {}
        self._where: dict[int, tuple[int, int]] = {}
        self._several_days = self._several_doctors = False
        self.today: date | None = None  # as of the last range shown

    def set_slots(self, columns: Sequence[Column], slots: Sequence[CalendarSlot]) -> None:
        position = {(c.day, c.doctor.id): i for i, c in enumerate(columns)}
        placed: list[tuple[int, time, CalendarSlot]] = []
        for item in slots:
            start = item.slot.start.astimezone(self.tz)
            column = position.get((start.date(), item.slot.doctor_id))
            if column is not None:
                placed.append((column, start.time(), item))
        times = sorted({when for _, when, _ in placed})
        row_of = {when: row for row, when in enumerate(times)}
        self.beginResetModel()
        self.columns, self.times = list(columns), times
        self.today = self.clock().astimezone(self.tz).date()
        self._several_days = len({c.day for c in columns}) > 1
        self._several_doctors = len({c.doctor.id for c in columns}) > 1
        self._cells = {(row_of[when], column): item for column, when, item in placed}
        self._where = {item.slot.id: key for key, item in self._cells.items()}
        self.endResetModel()

    def slot_at(self, index: Index) -> CalendarSlot | None:
        return self._cells.get((index.row(), index.column())) if index.isValid() else None

    def index_of(self, slot_id: int) -> QModelIndex:
        where = self._where.get(slot_id)
        return self.index(*where) if where else QModelIndex()

    def slots(self) -> list[CalendarSlot]:
        return list(self._cells.values())

    def tick(self) -> bool:
        """Redraw countdowns; True when a hold shown here has run out."""
        now = self.clock()
        expired = False
        for (row, column), item in self._cells.items():
            if item.hold is not None and item.state in (SlotState.HELD_BY_ME, SlotState.HELD):
                index = self.index(row, column)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])
                expired = expired or item.hold.expires_at <= now
        return expired

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.times)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def text(self, item: CalendarSlot) -> str:
        if item.state is SlotState.BOOKED and item.appointment is not None:
            return item.appointment.patient_name
        if item.state is SlotState.HELD_BY_ME:
            return f"Held by you · {countdown(item.hold, self.clock())}"
        if item.state is SlotState.HELD:
            return f"Held {held_where(item.hold)}".strip()
        if item.state is SlotState.BLOCKED:
            return item.note or STATE_WORDS[item.state]
        return STATE_WORDS[item.state] if item.state is SlotState.FREE else ""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.BackgroundRole:  # today's columns, tinted
            shown = index.isValid() and index.column() < len(self.columns)
            return TODAY_TINT if shown and self.columns[index.column()].day == self.today else None
        item = self.slot_at(index)
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(item)
        if role == Qt.ItemDataRole.UserRole:
            return item
        if role == Qt.ItemDataRole.ToolTipRole:
            when = fmt_datetime(item.slot.start, self.tz)
            detail = STATE_WORDS[item.state]
            if item.appointment is not None:
                status = STATUS_WORDS[item.appointment.status]
                detail = f"{item.appointment.patient_name} ({status})"
            elif item.hold is not None:
                left = f"{countdown(item.hold, self.clock())} left"
                where = held_where(item.hold)
                detail += f" ({where}, {left})" if where else f" ({left})"
            elif item.note:
                detail += f" ({item.note})"
            return f"{when}, {item.slot.duration} min — {detail}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return f"{STATE_WORDS[item.state]} {self.text(item)}"
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        item = self.slot_at(index)
        if item is None:
            return Qt.ItemFlag.NoItemFlags
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if item.state is SlotState.FREE:
            flags |= Qt.ItemFlag.ItemIsDropEnabled
        if self._movable(item):
            flags |= Qt.ItemFlag.ItemIsDragEnabled
        return flags

    @staticmethod
    def _movable(item: CalendarSlot) -> bool:
        return (
            item.state is SlotState.BOOKED
            and item.appointment is not None
            and item.appointment.status.is_open
        )

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Vertical:
            if role != Qt.ItemDataRole.DisplayRole or section >= len(self.times):
                return None
            return self.times[section].strftime("%H:%M")
        if section >= len(self.columns):
            return None
        column = self.columns[section]
        several_days, several_doctors = self._several_days, self._several_doctors
        if role == Qt.ItemDataRole.DisplayRole:
            if several_doctors and not several_days:
                return column.doctor.full_name
            return column.day.strftime("%a %d %b")
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{column.day:%A %d %B} — {column.doctor.full_name}"
        if role == DAY_ROLE:
            return column.day
        if role == DOCTOR_ROLE:
            return column.doctor.full_name if several_doctors else ""
        if role == GROUPED_ROLE:
            return several_days and several_doctors
        return None

    # --- drag a booking onto a free slot to move it --------------------------------------
    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_APPOINTMENT]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        mime = QMimeData()
        for index in indexes:
            item = self.slot_at(index)
            if item is not None and item.appointment is not None and self._movable(item):
                mime.setData(MIME_APPOINTMENT, QByteArray(str(item.appointment.id).encode()))
                break
        return mime

    def canDropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        target = self.slot_at(parent)
        return (
            data.hasFormat(MIME_APPOINTMENT)
            and target is not None
            and target.state is SlotState.FREE
        )

    def dropMimeData(  # noqa: N802
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        target = self.slot_at(parent)
        assert target is not None
        appointment_id = int(bytes(data.data(MIME_APPOINTMENT).data()).decode())
        self.reschedule_dropped.emit(appointment_id, target.slot.id)
        # The calendar redraws from the backend's answer, not from the drop itself.
        return False
