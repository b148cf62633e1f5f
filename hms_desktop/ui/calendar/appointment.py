"""A booked slot: see it, move it to another free slot, or cancel it. The slot picker is
also how a request from the queue gets its slot."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import AppointmentRecord, CalendarSlot, SlotState
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import (
    STATUS_WORDS,
    TYPE_WORDS,
    ErrorLabel,
    button_row,
    fmt_datetime,
    primary,
)
from hms_desktop.ui.tasks import Tasks, show_failure

PICK_DAYS = 14


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
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Free slots in the next {PICK_DAYS} days:", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.error)
        layout.addLayout(button_row(cancel, self.ok))
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
            on_error=lambda error: show_failure(self.error, tasks, error, change=False),
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
        *,
        read_only: bool = False,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.appointment = backend, tasks, tz, appointment
        self.picker: SlotPickerDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.setWindowTitle("Appointment")
        text = QLabel(
            f"<b>{html.escape(appointment.patient_name)}</b> with "
            f"{html.escape(appointment.doctor_name)}<br>"
            f"{fmt_datetime(appointment.start, tz)} · {STATUS_WORDS[appointment.status]} · "
            f"{TYPE_WORDS[appointment.appointment_type]}<br>{html.escape(appointment.symptoms)}",
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
            button.setVisible(not read_only)  # a doctor looks; the desk moves and cancels
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
        box.setTextFormat(Qt.TextFormat.PlainText)
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
            show_failure(picker.error, self.tasks, error)
        else:
            show_failure(self.error, self.tasks, error)
