"""The booking calendar: day and week views for one doctor or a speciality side by side.

Slots are drawn free / held by this desk (with a countdown) / held by another desk /
booked / past. Click or Enter on a free slot books it; drag a booking onto a free slot to
move it. Changes on other desks arrive as events and redraw the calendar by themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QKeySequence, QPainter, QPen, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.enums import AppointmentType
from hms_desktop.domain.models import (
    AppointmentRecord,
    CalendarSlot,
    ChangeEvent,
    DoctorSummary,
    Hold,
    PatientRecord,
    SlotState,
)
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import (
    STATUS_WORDS,
    ErrorLabel,
    Index,
    fmt_datetime,
    local_midnight,
    primary,
)
from hms_desktop.ui.doctors import fill_combo
from hms_desktop.ui.patients import PatientFormDialog, PatientSearch
from hms_desktop.ui.tasks import Tasks, friendly_message

MIME_APPOINTMENT = "application/x-hms-appointment"
STATE_WORDS = {
    SlotState.FREE: "Free",
    SlotState.HELD_BY_ME: "Held by you",
    SlotState.HELD: "Held by another desk",
    SlotState.BOOKED: "Booked",
    SlotState.PAST: "Past",
}
PICK_DAYS = 14
CACHE_WINDOWS = 12
CONFIRM_DELAY_MS = 250
WindowKey = tuple[tuple[int, ...], date, int]  # doctor ids, first day, number of days


def _utcnow() -> datetime:
    return datetime.now(UTC)


def countdown(hold: Hold | None, now: datetime) -> str:
    if hold is None:
        return ""
    left = max(0, int((hold.expires_at - now).total_seconds()))
    return f"{left // 60}:{left % 60:02d}"


def short_name(name: str) -> str:
    return name if len(name) <= 18 else name.split(" ")[-1]


@dataclass(frozen=True)
class Column:
    day: date
    doctor: DoctorSummary


class CalendarModel(QAbstractTableModel):
    """Rows are times of day, columns are (day, doctor); a cell is one slot or nothing."""

    reschedule_dropped = Signal(int, int)  # appointment id, new slot id

    def __init__(self, tz: ZoneInfo, clock: Callable[[], datetime] = _utcnow) -> None:
        super().__init__()
        self.tz, self.clock = tz, clock
        self.columns: list[Column] = []
        self.times: list[time] = []
        self._cells: dict[tuple[int, int], CalendarSlot] = {}
        self._where: dict[int, tuple[int, int]] = {}

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
            return f"Held · {item.hold.holder}" if item.hold else "Held"
        return STATE_WORDS[item.state] if item.state is SlotState.FREE else ""

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
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
                detail += f" ({item.hold.holder}, {countdown(item.hold, self.clock())} left)"
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
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Vertical:
            return self.times[section].strftime("%H:%M") if section < len(self.times) else None
        if section >= len(self.columns):
            return None
        column = self.columns[section]
        days = {c.day for c in self.columns}
        doctors = {c.doctor.id for c in self.columns}
        day_text = column.day.strftime("%a %d %b")
        if len(doctors) == 1:
            return day_text
        if len(days) == 1:
            return column.doctor.full_name
        return f"{day_text}\n{short_name(column.doctor.full_name)}"

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


class SlotDelegate(QStyledItemDelegate):
    """Paints each slot as a coloured tile; other desks' holds are hatched."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        item = index.data(Qt.ItemDataRole.UserRole)
        if not isinstance(item, CalendarSlot):
            super().paint(painter, option, index)
            return
        background, foreground = theme.slot_colours(item.state)
        rect: QRect = option.rect.adjusted(2, 2, -2, -2)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 4, 4)
        if item.state is SlotState.HELD:
            painter.setBrush(QBrush(QColor("#c8682a"), Qt.BrushStyle.BDiagPattern))
            painter.drawRoundedRect(rect, 4, 4)
        if option.state & QStyle.StateFlag.State_Selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor("#0b2a45"), 2.5))
            painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        painter.setPen(foreground)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        metrics = option.fontMetrics
        elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() - 8)
        painter.drawText(
            rect.adjusted(4, 0, -4, 0),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            elided,
        )
        painter.restore()


class CalendarTable(QTableView):
    """The grid: arrows move, Enter acts on the slot under the cursor."""

    slot_activated = Signal(object)  # CalendarSlot

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setItemDelegate(SlotDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setShowGrid(False)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(True)
        self.verticalHeader().setDefaultSectionSize(30)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setMinimumSectionSize(90)
        self.horizontalHeader().setDefaultSectionSize(130)
        self.clicked.connect(self._clicked)

    def _clicked(self, index: QModelIndex) -> None:
        item = index.data(Qt.ItemDataRole.UserRole)
        if isinstance(item, CalendarSlot) and item.state is not SlotState.BOOKED:
            self.slot_activated.emit(item)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            item = self.currentIndex().data(Qt.ItemDataRole.UserRole)
            if isinstance(item, CalendarSlot):
                self.slot_activated.emit(item)
                event.accept()
                return
        super().keyPressEvent(event)

    def mouseDoubleClickEvent(self, event: Any) -> None:  # noqa: N802
        item = self.indexAt(event.position().toPoint()).data(Qt.ItemDataRole.UserRole)
        if isinstance(item, CalendarSlot) and item.state is SlotState.BOOKED:
            self.slot_activated.emit(item)
            return
        super().mouseDoubleClickEvent(event)


class BookingDialog(QDialog):
    """A free slot: pick (or register) the patient → the slot is held → confirm."""

    booked = Signal(object)  # AppointmentRecord

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        slot: CalendarSlot,
        doctor_name: str,
        patient: PatientRecord | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.slot = backend, tasks, tz, slot
        self.hold: Hold | None = None
        self.patient: PatientRecord | None = None
        self.result_record: AppointmentRecord | None = None
        self.patient_form: PatientFormDialog | None = None
        self.setWindowTitle("Book an appointment")
        self.setMinimumSize(620, 520)
        heading = QLabel(
            f"<b>{doctor_name}</b> — {fmt_datetime(slot.slot.start, tz)} "
            f"({slot.slot.duration} min)",
            self,
        )
        heading.setObjectName("SectionTitle")
        self.search = PatientSearch(backend, tasks, self)
        self.new_patient_button = QPushButton(theme.icon("add"), "New patient…", self)
        self.pick_button = QPushButton("Hold for the selected patient", self)
        self.chosen = QLabel("No patient chosen yet: find them above and press Enter.", self)
        self.chosen.setWordWrap(True)
        self.type = QComboBox(self)
        for kind in AppointmentType:
            self.type.addItem(kind.value, kind)
        self.type.setCurrentIndex(self.type.findData(AppointmentType.OFFLINE))
        self.symptoms = QLineEdit(self)
        self.symptoms.setPlaceholderText("Reason for the visit (optional)")
        self.error = ErrorLabel(self, name="FormError")
        self.confirm = primary(QPushButton("Confirm booking", self))
        self.confirm.setEnabled(False)
        self.cancel_button = QPushButton("Cancel", self)
        for button in (self.new_patient_button, self.pick_button, self.cancel_button):
            button.setAutoDefault(False)
        self.confirm.setAutoDefault(False)
        patient_buttons = QHBoxLayout()
        patient_buttons.addWidget(self.new_patient_button)
        patient_buttons.addStretch(1)
        patient_buttons.addWidget(self.pick_button)
        details = QHBoxLayout()
        details.addWidget(QLabel("Type", self))
        details.addWidget(self.type)
        details.addWidget(self.symptoms, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.confirm)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.search, 1)
        layout.addLayout(patient_buttons)
        layout.addWidget(self.chosen)
        layout.addLayout(details)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.search.picked.connect(self.pick)
        self.pick_button.clicked.connect(self._pick_selected)
        self.new_patient_button.clicked.connect(self._new_patient)
        self.confirm.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        if patient is not None:
            self.search.box.setText(patient.full_name)
            self.pick(patient)
        else:
            self.search.box.setFocus()

    def _pick_selected(self) -> None:
        record = self.search.selected()
        if record is not None:
            self.pick(record)

    def _new_patient(self) -> None:
        self.patient_form = PatientFormDialog(self.backend, self.tasks, parent=self)
        self.patient_form.saved.connect(self.pick)
        self.patient_form.open()

    def pick(self, patient: PatientRecord) -> None:
        if self.hold is not None and self.patient is not None and self.patient.id == patient.id:
            self.confirm.setFocus()
            return
        self.error.show_message("")
        self.patient = patient
        self.chosen.setText(f"Holding the slot for <b>{patient.full_name}</b>…")
        self.confirm.setEnabled(False)
        previous, self.hold = self.hold, None
        if previous is not None:
            self.tasks.run(self.backend.release_hold, previous.slot_id, previous.token)
        self.tasks.run(
            self.backend.hold_slot,
            self.slot.slot.id,
            patient.id,
            on_done=self._held,
            on_error=self._failed,
        )

    def _held(self, hold: Hold) -> None:
        self.hold = hold
        self._tick()
        self._timer.start()
        self.confirm.setEnabled(True)
        self.confirm.setDefault(True)
        self.confirm.setFocus()

    def _tick(self) -> None:
        if self.hold is None or self.patient is None:
            return
        now = datetime.now(UTC)
        if self.hold.expires_at <= now:
            self._timer.stop()
            self.hold = None
            self.confirm.setEnabled(False)
            self.chosen.setText("The hold ran out. Pick the patient again to hold the slot.")
            return
        self.chosen.setText(
            f"Held for <b>{self.patient.full_name}</b> · {countdown(self.hold, now)} left "
            "to confirm (Enter)."
        )

    def _failed(self, error: Exception) -> None:
        self.confirm.setEnabled(self.hold is not None)
        self.error.show_message(friendly_message(error))
        if self.hold is None:
            self.chosen.setText("The slot is not held.")

    def submit(self) -> None:
        if self.hold is None or self.patient is None or not self.confirm.isEnabled():
            return
        self.confirm.setEnabled(False)
        self.tasks.run(
            self.backend.confirm_booking,
            self.slot.slot.id,
            self.patient.id,
            self.hold.token,
            AppointmentType(self.type.currentData()),
            self.symptoms.text().strip(),
            on_done=self._confirmed,
            on_error=self._failed,
        )

    def _confirmed(self, record: AppointmentRecord) -> None:
        self._timer.stop()
        self.hold = None
        self.result_record = record
        self.booked.emit(record)
        self.accept()

    def reject(self) -> None:
        self._timer.stop()
        if self.hold is not None:
            hold, self.hold = self.hold, None
            self.tasks.run(self.backend.release_hold, hold.slot_id, hold.token)
        super().reject()


class SlotPickerDialog(QDialog):
    """The next free slots of one doctor; Enter or OK picks one."""

    chosen = Signal(int)  # slot id

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        doctor_id: int,
        title: str,
        action: str,
        parent: QWidget | None = None,
        skip_slot: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.skip_slot = backend, tasks, tz, skip_slot
        self.setWindowTitle(title)
        self.setMinimumSize(420, 420)
        self.list = QListWidget(self)
        self.error = ErrorLabel(self, name="FormError")
        self.ok = primary(QPushButton(action, self))
        self.ok.setDefault(True)
        self.ok.setEnabled(False)
        cancel = QPushButton("Cancel", self)
        cancel.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.ok)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Free slots in the next {PICK_DAYS} days:", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.ok.clicked.connect(self._choose)
        cancel.clicked.connect(self.reject)
        self.list.itemActivated.connect(lambda _item: self._choose())
        now = datetime.now(UTC)
        tasks.run(
            backend.calendar,
            [doctor_id],
            now,
            now + timedelta(days=PICK_DAYS),
            on_done=self._show,
            on_error=lambda error: self.error.show_message(friendly_message(error)),
            retry=True,
        )

    def _show(self, slots: list[CalendarSlot]) -> None:
        for item in slots:
            if item.state is SlotState.FREE and item.slot.id != self.skip_slot:
                row = QListWidgetItem(fmt_datetime(item.slot.start, self.tz), self.list)
                row.setData(Qt.ItemDataRole.UserRole, item.slot.id)
        if self.list.count():
            self.list.setCurrentRow(0)
            self.ok.setEnabled(True)
            self.list.setFocus()
        else:
            self.error.show_message("This doctor has no free slot in that time.")

    def _choose(self) -> None:
        item = self.list.currentItem()
        if item is not None and self.ok.isEnabled():
            self.chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def show_error(self, message: str) -> None:
        self.error.show_message(message)


class AppointmentDialog(QDialog):
    """A booked slot: who, when, and reschedule or cancel it."""

    changed = Signal(object)  # AppointmentRecord

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        appointment: AppointmentRecord,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.appointment = backend, tasks, tz, appointment
        self.picker: SlotPickerDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.setWindowTitle("Appointment")
        text = QLabel(
            f"<b>{appointment.patient_name}</b> with {appointment.doctor_name}<br>"
            f"{fmt_datetime(appointment.start, tz)} · {STATUS_WORDS[appointment.status]} · "
            f"{appointment.appointment_type.value}<br>{appointment.symptoms}",
            self,
        )
        text.setWordWrap(True)
        self.error = ErrorLabel(self, name="FormError")
        self.reschedule_button = QPushButton("Reschedule…", self)
        self.cancel_appointment_button = QPushButton("Cancel appointment…", self)
        self.cancel_appointment_button.setObjectName("Danger")
        close = QPushButton("Close", self)
        close.setDefault(True)
        for button in (self.reschedule_button, self.cancel_appointment_button):
            button.setEnabled(appointment.status.is_open)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reschedule_button)
        buttons.addWidget(self.cancel_appointment_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.reschedule_button.clicked.connect(self.open_reschedule)
        self.cancel_appointment_button.clicked.connect(self.ask_cancel)
        close.clicked.connect(self.accept)

    def open_reschedule(self) -> SlotPickerDialog:
        self.picker = SlotPickerDialog(
            self.backend,
            self.tasks,
            self.tz,
            self.appointment.doctor_id,
            "Move the appointment",
            "Move here",
            self,
            skip_slot=self.appointment.slot_id,
        )
        self.picker.chosen.connect(self._move)
        self.picker.open()
        return self.picker

    def _move(self, slot_id: int) -> None:
        self.tasks.run(
            self.backend.reschedule,
            self.appointment.id,
            slot_id,
            on_done=self._done,
            on_error=lambda error: self._failed(error, self.picker),
        )

    def ask_cancel(self) -> QMessageBox:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Cancel appointment",
            f"Cancel {self.appointment.patient_name}'s appointment on "
            f"{fmt_datetime(self.appointment.start, self.tz)}? The slot becomes free.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Cancel appointment")
        box.button(QMessageBox.StandardButton.No).setText("Keep it")
        box.accepted.connect(self._cancel)
        self.confirm_box = box
        box.open()
        return box

    def _cancel(self) -> None:
        self.tasks.run(
            self.backend.cancel,
            self.appointment.id,
            on_done=self._done,
            on_error=lambda error: self._failed(error, None),
        )

    def _done(self, record: AppointmentRecord) -> None:
        if self.picker is not None:
            self.picker.accept()
        self.changed.emit(record)
        self.accept()

    def _failed(self, error: Exception, picker: SlotPickerDialog | None) -> None:
        if picker is not None and picker.isVisible():
            picker.show_error(friendly_message(error))
        else:
            self.error.show_message(friendly_message(error))


class CalendarView(QWidget):
    """The booking calendar with its filters, navigation and live updates."""

    message = Signal(str)
    loaded = Signal()

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.clock = backend, tasks, tz, clock
        self.patient: PatientRecord | None = None  # who the desk is booking for, if known
        self.anchor = clock().astimezone(tz).date()
        self.week = True
        self.dialog: QDialog | None = None
        self._doctors: list[DoctorSummary] = []
        self._wanted_doctor: int | None = None
        # Calendar windows already fetched (the neighbours of the shown one are fetched
        # ahead), so moving a week is instant; any change event empties it.
        self._cache: dict[WindowKey, list[CalendarSlot]] = {}
        self._in_flight: set[tuple[WindowKey, int]] = set()
        self._generation = 0
        self._key: WindowKey | None = None
        self._columns: list[Column] = []

        self.speciality = QComboBox(self)
        self.speciality.setMinimumWidth(180)
        self.doctor = QComboBox(self)
        self.doctor.setMinimumWidth(220)
        self.day_button = QPushButton("Day", self)
        self.week_button = QPushButton("Week", self)
        group = QButtonGroup(self)
        for button in (self.day_button, self.week_button):
            button.setCheckable(True)
            group.addButton(button)
        self.week_button.setChecked(True)
        self.prev_button = QPushButton(theme.icon("prev"), "", self)
        self.prev_button.setToolTip("Previous (Alt+Left)")
        self.today_button = QPushButton("Today", self)
        self.next_button = QPushButton(theme.icon("next"), "", self)
        self.next_button.setToolTip("Next (Alt+Right)")
        self.range_label = QLabel(self)
        self.range_label.setObjectName("SectionTitle")
        self.for_patient = QLabel(self)
        self.for_patient.setObjectName("Subtitle")
        self.model = CalendarModel(tz, clock)
        self.table = CalendarTable(self)
        self.table.setModel(self.model)

        top = QHBoxLayout()
        speciality_label = QLabel("&Speciality", self)
        speciality_label.setBuddy(self.speciality)
        doctor_label = QLabel("D&octor", self)
        doctor_label.setBuddy(self.doctor)
        for widget in (speciality_label, self.speciality, doctor_label, self.doctor):
            top.addWidget(widget)
        top.addStretch(1)
        for widget in (
            self.day_button,
            self.week_button,
            self.prev_button,
            self.today_button,
            self.next_button,
        ):
            top.addWidget(widget)
        second = QHBoxLayout()
        second.addWidget(self.range_label)
        second.addStretch(1)
        second.addWidget(self.for_patient)
        legend = QHBoxLayout()
        for state in SlotState:
            background, foreground = theme.SLOT_COLOURS[state]
            chip = QLabel(STATE_WORDS[state], self)
            chip.setStyleSheet(
                f"background:{background};color:{foreground};border-radius:3px;padding:2px 8px;"
            )
            legend.addWidget(chip)
        legend.addStretch(1)
        hint = QLabel(
            "Click or Enter: book a free slot · double-click a booking to change it · "
            "drag a booking to move it",
            self,
        )
        hint.setObjectName("Subtitle")
        legend.addWidget(hint)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(self.table, 1)
        layout.addLayout(legend)

        self.speciality.currentIndexChanged.connect(self._speciality_changed)
        self.doctor.currentIndexChanged.connect(lambda _i: self.reload())
        self.day_button.clicked.connect(lambda: self.set_week(False))
        self.week_button.clicked.connect(lambda: self.set_week(True))
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.today_button.clicked.connect(self.go_today)
        self.table.slot_activated.connect(self.activate)
        self.model.reschedule_dropped.connect(self.move_appointment)
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(120)
        self._live.timeout.connect(self.reload)
        QShortcut(QKeySequence("Alt+Left"), self, lambda: self.step(-1))
        QShortcut(QKeySequence("Alt+Right"), self, lambda: self.step(1))
        QShortcut(QKeySequence("Alt+Home"), self, self.go_today)

    # --- what is shown ---------------------------------------------------------------------
    def start(self) -> None:
        self.tasks.run(self.backend.specialisations, on_done=self._specialities, retry=True)

    def _specialities(self, items: list[Any]) -> None:
        fill_combo(self.speciality, items, "All specialities")
        self._speciality_changed()

    def _speciality_changed(self) -> None:
        self.tasks.run(
            self.backend.doctors,
            self.speciality.currentData(),
            on_done=self._doctors_in,
            retry=True,
        )

    def _doctors_in(self, doctors: list[DoctorSummary]) -> None:
        self._doctors = doctors
        wanted, self._wanted_doctor = self._wanted_doctor, None
        self.doctor.blockSignals(True)
        self.doctor.clear()
        self.doctor.addItem("All doctors side by side", None)
        for doctor in doctors:
            self.doctor.addItem(doctor.full_name, doctor.id)
        index = self.doctor.findData(wanted) if wanted is not None else -1
        if index < 0:
            # A speciality is shown side by side; across all specialities, one doctor at a time.
            index = 0 if self.speciality.currentData() is not None or not doctors else 1
        self.doctor.setCurrentIndex(index)
        self.doctor.blockSignals(False)
        self.reload()

    def prefer_doctor(self, doctor_id: int) -> None:
        """Open on this doctor (a doctor's own calendar) once the doctors are loaded."""
        self._wanted_doctor = doctor_id

    def show_doctor(self, doctor: DoctorSummary) -> None:
        self._wanted_doctor = doctor.id
        index = self.speciality.findData(None)
        if self.speciality.currentIndex() != index and index >= 0:
            self.speciality.setCurrentIndex(index)
        else:
            self._speciality_changed()

    def set_patient(self, patient: PatientRecord | None) -> None:
        self.patient = patient
        self.for_patient.setText(f"Booking for: {patient.full_name}" if patient else "")

    def shown_doctors(self) -> list[DoctorSummary]:
        chosen = self.doctor.currentData()
        if chosen is None:
            return list(self._doctors)
        return [d for d in self._doctors if d.id == chosen]

    def days(self) -> list[date]:
        if not self.week:
            return [self.anchor]
        monday = self.anchor - timedelta(days=self.anchor.weekday())
        return [monday + timedelta(days=i) for i in range(7)]

    def set_week(self, week: bool) -> None:
        self.week = week
        (self.week_button if week else self.day_button).setChecked(True)
        self.reload()

    def step(self, direction: int) -> None:
        self.anchor += timedelta(days=7 * direction if self.week else direction)
        self.reload()

    def go_today(self) -> None:
        self.anchor = self.clock().astimezone(self.tz).date()
        self.reload()

    def reload(self) -> None:
        """Show the chosen doctors and days: at once from the cache when it has them (then
        confirmed by a fresh fetch), else as soon as the backend answers."""
        doctors, days = self.shown_doctors(), self.days()
        self.range_label.setText(
            f"{days[0]:%a %d %b %Y}" if len(days) == 1 else f"{days[0]:%d %b} – {days[-1]:%d %b %Y}"
        )
        if not doctors:
            self._key = None
            self.model.set_slots([], [])
            self.loaded.emit()
            return
        key: WindowKey = (tuple(d.id for d in doctors), days[0], len(days))
        self._key = key
        self._columns = [Column(day, doctor) for day in days for doctor in doctors]
        cached = self._cache.get(key)
        if cached is None:
            self._fetch(key, current=True)
            return
        self._show(cached)
        # Confirm the cached window once it is painted, so the refetch never delays that.
        QTimer.singleShot(
            CONFIRM_DELAY_MS, self, lambda: self._key == key and self._fetch(key, current=True)
        )

    def _fetch(self, key: WindowKey, *, current: bool) -> None:
        wanted = (key, self._generation)
        if wanted in self._in_flight:
            return
        self._in_flight.add(wanted)
        doctor_ids, first, count = key
        self.tasks.run(
            self.backend.calendar,
            list(doctor_ids),
            local_midnight(first, self.tz),
            local_midnight(first + timedelta(days=count), self.tz),
            on_done=lambda slots: self._fetched(wanted, slots),
            on_error=lambda _error: self._in_flight.discard(wanted),
            retry=current,
        )

    def _fetched(self, wanted: tuple[WindowKey, int], slots: list[CalendarSlot]) -> None:
        self._in_flight.discard(wanted)
        key, generation = wanted
        if generation != self._generation:
            # Something changed while this was on its way: fetch the window again.
            if key == self._key:
                self._fetch(key, current=True)
            return
        self._cache[key] = slots
        while len(self._cache) > CACHE_WINDOWS:
            self._cache.pop(next(iter(self._cache)))
        if key == self._key:
            self._show(slots)
            self._prefetch_neighbours(key)

    def _prefetch_neighbours(self, key: WindowKey) -> None:
        doctor_ids, first, count = key
        for direction in (1, -1):
            neighbour = (doctor_ids, first + timedelta(days=count * direction), count)
            if neighbour not in self._cache:
                self._fetch(neighbour, current=False)

    def _invalidate(self) -> None:
        self._generation += 1
        self._cache.clear()

    def _show(self, slots: list[CalendarSlot]) -> None:
        columns = self._columns
        current = self.model.slot_at(self.table.currentIndex())
        self.model.set_slots(columns, slots)
        header = self.table.horizontalHeader()
        # A few columns share the width; many (a speciality's week) keep a readable size.
        header.setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch if len(columns) <= 10 else QHeaderView.ResizeMode.Fixed
        )
        header.setDefaultSectionSize(130)
        if current is not None:
            index = self.model.index_of(current.slot.id)
            if index.isValid():
                self.table.setCurrentIndex(index)
        self.loaded.emit()

    def _tick(self) -> None:
        if self.model.tick():
            self._invalidate()
            self.reload()

    def on_change(self, event: ChangeEvent) -> None:
        """A change on any desk: redraw if it may touch what is shown (coalesced)."""
        shown = {d.id for d in self.shown_doctors()}
        self._invalidate()
        if event.doctor_id is None or event.doctor_id in shown:
            self._live.start()

    # --- acting on a slot ------------------------------------------------------------------
    def _doctor_name(self, doctor_id: int) -> str:
        return next((d.full_name for d in self._doctors if d.id == doctor_id), "")

    def activate(self, item: CalendarSlot) -> None:
        if item.state is SlotState.FREE:
            self.book(item)
        elif item.state is SlotState.BOOKED and item.appointment is not None:
            self.open_appointment(item.appointment)
        elif item.state is SlotState.HELD:
            holder = item.hold.holder if item.hold else "another desk"
            self.message.emit(
                f"This slot is being booked by {holder} at another desk. Pick another slot."
            )
        elif item.state is SlotState.HELD_BY_ME:
            self.message.emit("You are holding this slot in an open booking window.")
        else:
            self.message.emit("This slot is in the past.")

    def book(self, item: CalendarSlot) -> BookingDialog:
        dialog = BookingDialog(
            self.backend,
            self.tasks,
            self.tz,
            item,
            self._doctor_name(item.slot.doctor_id),
            self.patient,
            self,
        )
        dialog.booked.connect(self._booked)
        dialog.finished.connect(lambda _r: self._live.start())
        self.dialog = dialog
        dialog.open()
        return dialog

    def _booked(self, record: AppointmentRecord) -> None:
        self.message.emit(
            f"Booked {record.patient_name} with {record.doctor_name} on "
            f"{fmt_datetime(record.start, self.tz)}."
        )
        self.set_patient(None)

    def open_appointment(self, appointment: AppointmentRecord) -> AppointmentDialog:
        dialog = AppointmentDialog(self.backend, self.tasks, self.tz, appointment, self)
        dialog.changed.connect(self._changed)
        self.dialog = dialog
        dialog.open()
        return dialog

    def _changed(self, record: AppointmentRecord) -> None:
        word = STATUS_WORDS[record.status].lower()
        self.message.emit(f"{record.patient_name}'s appointment is {word}.")
        self._invalidate()
        self._live.start()

    def move_appointment(self, appointment_id: int, slot_id: int) -> None:
        self.tasks.run(
            self.backend.reschedule,
            appointment_id,
            slot_id,
            on_done=self._changed,
            on_error=lambda error: self.message.emit(friendly_message(error)),
        )
