"""Leave, public holidays and blocked time: enter and remove blocks, and rebook the
appointments they affect (move to the next free slot, all at once, or cancel with reason).

A block is checked by the service (end before start, no reason...) and its error shown
next to the field, with nothing saved. Every change arrives here as a change event, so
two admins (or an admin and a desk moving patients) see the same lists."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QTime, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.enums import BlockKind
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import (
    AffectedBooking,
    ChangeEvent,
    DoctorSummary,
    MoveReport,
    TimeBlock,
    TimeBlockForm,
)
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import (
    STATUS_WORDS,
    STRETCH_LAST,
    ErrorLabel,
    RecordTableModel,
    button_row,
    fmt_datetime,
    plain,
    primary,
    record_table,
)
from hms_desktop.ui.tasks import Tasks, friendly_message

KIND_WORDS = {
    BlockKind.LEAVE: "Leave",
    BlockKind.HOLIDAY: "Public holiday",
    BlockKind.BLOCKED: "Blocked time",
}
# Which error line shows a field's error (the service names the field).
ERROR_LINE = {
    "doctor_id": "doctor",
    "first_day": "days",
    "last_day": "days",
    "start_time": "times",
    "end_time": "times",
    "reason": "reason",
}
# Changes that can add, remove or move an affected booking.
RELOAD_ON = {"schedule", "book", "reschedule", "cancel", "update", "status"}


def _to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def block_when(block: TimeBlock, tz: ZoneInfo) -> str:
    """ "Mon 30 Nov – Fri 04 Dec 2026" for whole days, else the times: the days a desk
    reads, not the midnight instants stored."""
    start = block.start.astimezone(tz)
    if block.all_day:
        last = (block.end.astimezone(tz) - timedelta(seconds=1)).date()
        if last == start.date():
            return f"{start:%a %d %b %Y}"
        return f"{start:%a %d %b} – {last:%a %d %b %Y}"
    end = block.end.astimezone(tz)
    if end.date() == start.date():
        return f"{start:%a %d %b %Y, %H:%M}–{end:%H:%M}"
    return f"{start:%a %d %b %H:%M} – {end:%a %d %b %Y %H:%M}"


class LeavePage(QWidget):
    message = Signal(str)
    loaded = Signal()

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.doctors: list[DoctorSummary] = []
        entry = self._build_entry()
        blocks = self._build_blocks()
        affected = self._build_affected()
        top = QHBoxLayout()
        top.addWidget(entry, 2)
        top.addWidget(blocks, 3)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(affected, 1)
        self._whole_days_toggled(True)
        self._enable()

    # --- building ----------------------------------------------------------------------------
    def _build_entry(self) -> QGroupBox:
        box = QGroupBox("New leave, holiday or blocked time", self)
        self.doctor = QComboBox(box)
        self.doctor.addItem("The whole clinic", None)
        self.kind = QComboBox(box)
        for kind, word in KIND_WORDS.items():
            self.kind.addItem(word, kind)
        today = QDate.currentDate()
        self.first_day = QDateEdit(today.addDays(1), box)
        self.last_day = QDateEdit(today.addDays(1), box)
        for edit in (self.first_day, self.last_day):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd dd MMM yyyy")
        self.whole_days = QCheckBox("&Whole days", box)
        self.whole_days.setChecked(True)
        self.start_time = QTimeEdit(QTime(9, 0), box)
        self.end_time = QTimeEdit(QTime(13, 0), box)
        self.reason = QLineEdit(box)
        self.reason.setPlaceholderText("e.g. Annual leave, Republic Day, Staff training")
        self.add_button = primary(QPushButton("&Add block", box))
        self.errors = {name: ErrorLabel(box) for name in ("doctor", "days", "times", "reason")}
        self.form_error = ErrorLabel(box, name="FormError")
        days = QHBoxLayout()
        days.addWidget(self.first_day, 1)
        days.addWidget(QLabel("to", box))
        days.addWidget(self.last_day, 1)
        times = QHBoxLayout()
        times.addWidget(self.whole_days)
        times.addStretch(1)
        times.addWidget(self.start_time)
        times.addWidget(QLabel("to", box))
        times.addWidget(self.end_time)
        form = QFormLayout(box)
        form.addRow("&For", self._with_error(self.doctor, "doctor"))
        form.addRow("&Kind", self.kind)
        form.addRow("&Days", self._with_error(days, "days"))
        form.addRow("&Times", self._with_error(times, "times"))
        form.addRow("&Reason *", self._with_error(self.reason, "reason"))
        form.addRow(self.form_error)
        form.addRow(button_row(self.add_button))
        self.first_day.dateChanged.connect(self._first_day_changed)
        self.whole_days.toggled.connect(self._whole_days_toggled)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.add_button.clicked.connect(self.add_block)
        self.reason.returnPressed.connect(self.add_block)
        return box

    def _with_error(self, field: QWidget | QHBoxLayout, name: str) -> QWidget:
        holder = QWidget(self)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        if isinstance(field, QHBoxLayout):
            column.addLayout(field)
        else:
            column.addWidget(field)
        column.addWidget(self.errors[name])
        return holder

    def _build_blocks(self) -> QGroupBox:
        box = QGroupBox("Blocks not over yet", self)
        self.blocks_model = RecordTableModel(
            [
                ("When", lambda b: block_when(b, self.tz)),
                ("For", lambda b: b.doctor_name or "Whole clinic"),
                ("Kind", lambda b: KIND_WORDS[b.kind]),
                ("Reason", lambda b: b.reason),
            ],
            box,
        )
        self.blocks_table = record_table(self.blocks_model, box, stretch=STRETCH_LAST)
        self.remove_button = QPushButton("&Remove block", box)
        self.remove_button.setObjectName("Danger")
        self.show_all = QPushButton("Show &all affected", box)
        layout = QVBoxLayout(box)
        layout.addWidget(self.blocks_table, 1)
        layout.addLayout(button_row(self.show_all, self.remove_button))
        self.remove_button.clicked.connect(self.remove_block)
        self.show_all.clicked.connect(self.blocks_table.clearSelection)
        self.blocks_table.selectionModel().selectionChanged.connect(self._block_selected)
        return box

    def _build_affected(self) -> QGroupBox:
        box = QGroupBox("Affected bookings: move or cancel each", self)
        self.affected_model = RecordTableModel(
            [
                ("When", lambda a: fmt_datetime(a.appointment.start, self.tz)),
                ("Patient", lambda a: a.appointment.patient_name),
                ("Doctor", lambda a: a.appointment.doctor_name),
                ("Status", lambda a: STATUS_WORDS[a.appointment.status]),
                ("Blocked by", lambda a: a.reason),
            ],
            box,
        )
        self.affected_table = record_table(self.affected_model, box, stretch=STRETCH_LAST)
        self.affected_table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.other_doctors = QCheckBox("Also &other doctors of the same speciality", box)
        self.move_button = primary(QPushButton("&Move to next free", box))
        self.move_all_button = QPushButton("Move a&ll", box)
        self.cancel_reason = QLineEdit(box)
        self.cancel_reason.setPlaceholderText("Reason the patient is told")
        self.cancel_button = QPushButton("&Cancel with reason", box)
        self.cancel_button.setObjectName("Danger")
        self.cancel_error = ErrorLabel(box)
        self.outcome = plain(QLabel(box))
        self.outcome.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.other_doctors)
        actions.addStretch(1)
        actions.addWidget(self.move_all_button)
        actions.addWidget(self.move_button)
        cancelling = QHBoxLayout()
        cancelling.addWidget(self.cancel_reason, 1)
        cancelling.addWidget(self.cancel_button)
        layout = QVBoxLayout(box)
        layout.addWidget(self.affected_table, 1)
        layout.addLayout(actions)
        layout.addLayout(cancelling)
        layout.addWidget(self.cancel_error)
        layout.addWidget(self.outcome)
        self.move_button.clicked.connect(self.move_selected)
        self.move_all_button.clicked.connect(self.move_all)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.affected_table.selectionModel().selectionChanged.connect(lambda *_: self._enable())
        return box

    # --- loading -----------------------------------------------------------------------------
    def start(self) -> None:
        """Load when the admin first opens the page (nothing is asked before)."""
        self.reload()

    def reload(self) -> None:
        self.tasks.run(self.backend.doctors, on_done=self._show_doctors, retry=True)
        self.tasks.run(self.backend.time_blocks, on_done=self._show_blocks, retry=True)
        self._load_affected()

    def _load_affected(self) -> None:
        block = self.selected_block()
        self.tasks.run(
            self.backend.affected_bookings,
            block.id if block else None,
            on_done=self._show_affected,
            retry=True,
        )

    def on_change(self, event: ChangeEvent) -> None:
        if event.kind in RELOAD_ON:
            self.tasks.run(self.backend.time_blocks, on_done=self._show_blocks, retry=True)
            self._load_affected()

    def _show_doctors(self, doctors: list[DoctorSummary]) -> None:
        chosen = self.doctor.currentData()
        self.doctors = doctors
        self.doctor.clear()
        self.doctor.addItem("The whole clinic", None)
        for doctor in doctors:
            self.doctor.addItem(doctor.full_name, doctor.id)
        index = self.doctor.findData(chosen)
        self.doctor.setCurrentIndex(max(index, 0))

    def _show_blocks(self, blocks: list[TimeBlock]) -> None:
        chosen = self.selected_block()
        self.blocks_model.set_rows(blocks)
        for row, block in enumerate(blocks):
            if chosen is not None and block.id == chosen.id:
                self.blocks_table.selectRow(row)
        self._enable()

    def _show_affected(self, affected: list[AffectedBooking]) -> None:
        self.affected_model.set_rows(affected)
        self._enable()
        self.loaded.emit()

    def selected_block(self) -> TimeBlock | None:
        rows = self.blocks_table.selectionModel().selectedRows()
        return self.blocks_model.row_record(rows[0].row()) if rows else None

    def selected_affected(self) -> list[AffectedBooking]:
        rows = sorted(index.row() for index in self.affected_table.selectionModel().selectedRows())
        return [self.affected_model.row_record(row) for row in rows]

    def _block_selected(self, *_: object) -> None:
        self._enable()
        self._load_affected()

    def _enable(self) -> None:
        self.remove_button.setEnabled(self.selected_block() is not None)
        picked = bool(self.selected_affected())
        self.move_button.setEnabled(picked)
        self.cancel_button.setEnabled(picked)
        self.move_all_button.setEnabled(bool(self.affected_model.records))

    # --- entering a block --------------------------------------------------------------------
    def _first_day_changed(self, first: QDate) -> None:
        # Entering a later first day moves the last day along (one-day leave by default).
        if self.last_day.date() < first:
            self.last_day.setDate(first)

    def _whole_days_toggled(self, whole: bool) -> None:
        self.start_time.setEnabled(not whole)
        self.end_time.setEnabled(not whole)

    def _kind_changed(self) -> None:
        # A public holiday is the whole clinic's: offer it that way.
        if self.chosen_kind() is BlockKind.HOLIDAY:
            self.doctor.setCurrentIndex(0)

    def chosen_kind(self) -> BlockKind:
        # Qt hands item data back as a plain str.
        return BlockKind(self.kind.currentData())

    def form(self) -> TimeBlockForm:
        whole = self.whole_days.isChecked()
        start, end = self.start_time.time(), self.end_time.time()
        return TimeBlockForm(
            doctor_id=self.doctor.currentData(),
            first_day=_to_date(self.first_day.date()),
            last_day=_to_date(self.last_day.date()),
            reason=self.reason.text(),
            kind=self.chosen_kind(),
            start_time=None if whole else start.toPython(),  # type: ignore[arg-type]
            end_time=None if whole else end.toPython(),  # type: ignore[arg-type]
        )

    def _clear_errors(self) -> None:
        for label in (*self.errors.values(), self.form_error):
            label.show_message("")

    def add_block(self) -> None:
        self._clear_errors()
        self.add_button.setEnabled(False)
        self.tasks.run(
            self.backend.add_time_block,
            self.form(),
            on_done=self._added,
            on_error=self._add_failed,
        )

    def _added(self, block: TimeBlock) -> None:
        self.add_button.setEnabled(True)
        self.reason.clear()
        self.message.emit(f"Blocked: {block.reason}.")
        self.tasks.run(self.backend.time_blocks, on_done=self._show_blocks, retry=True)
        self._load_affected()

    def _add_failed(self, error: Exception) -> None:
        self.add_button.setEnabled(True)
        field = error.field if isinstance(error, DomainError) else None
        line = ERROR_LINE.get(field or "")
        if line is not None:
            self.errors[line].show_message(friendly_message(error))
        else:
            self.form_error.show_message(friendly_message(error))
        focus = {"doctor": self.doctor, "days": self.last_day, "times": self.end_time}
        focus.get(line or "", self.reason).setFocus()

    def remove_block(self) -> None:
        block = self.selected_block()
        if block is None:
            return
        self.tasks.run(
            self.backend.remove_time_block,
            block.id,
            on_done=lambda _: self._removed(block),
            on_error=lambda error: self.form_error.show_message(friendly_message(error)),
        )

    def _removed(self, block: TimeBlock) -> None:
        self.message.emit(f"Removed: {block.reason}. Its slots are bookable again.")
        self.blocks_table.clearSelection()
        self.reload()

    # --- rebooking ---------------------------------------------------------------------------
    def move_selected(self) -> None:
        self._move([a.appointment.id for a in self.selected_affected()])

    def move_all(self) -> None:
        self._move([a.appointment.id for a in self.affected_model.records])

    def _move(self, ids: list[int]) -> None:
        if not ids:
            return
        self.outcome.setText("Moving…")
        self.tasks.run(
            self.backend.move_affected,
            ids,
            self.other_doctors.isChecked(),
            on_done=self._moved,
            on_error=lambda error: self.outcome.setText(friendly_message(error)),
        )

    def _moved(self, report: MoveReport) -> None:
        lines = [
            f"{record.patient_name} → {record.doctor_name}, {fmt_datetime(record.start, self.tz)}"
            for record in report.moved
        ]
        text = f"Moved {len(report.moved)}." + ("\n" + "\n".join(lines) if lines else "")
        if report.not_moved:
            records = self.affected_model.records
            names = {a.appointment.id: a.appointment.patient_name for a in records}
            text += f"\nNot moved {len(report.not_moved)}: " + "; ".join(
                f"{names.get(n.appointment_id, n.appointment_id)} ({n.reason})"
                for n in report.not_moved
            )
        self.outcome.setText(text)
        self._load_affected()

    def cancel_selected(self) -> None:
        picked = self.selected_affected()
        self.cancel_error.show_message("")
        if not self.cancel_reason.text().strip():
            self.cancel_error.show_message("Give the reason the patient will be told.")
            self.cancel_reason.setFocus()
            return
        reason = self.cancel_reason.text()

        def cancel_each() -> int:
            for item in picked:
                self.backend.cancel_affected(item.appointment.id, reason)
            return len(picked)

        self.tasks.run(cancel_each, on_done=self._cancelled, on_error=self._cancel_failed)

    def _cancelled(self, count: int) -> None:
        self.cancel_reason.clear()
        self.outcome.setText(f"Cancelled {count}, with the reason kept on each.")
        self._load_affected()

    def _cancel_failed(self, error: Exception) -> None:
        self.cancel_error.show_message(friendly_message(error))
        self._load_affected()
