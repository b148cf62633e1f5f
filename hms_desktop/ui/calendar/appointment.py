"""A booked slot: see it, move it to another free slot (of the same doctor or another), or
cancel it. The slot picker is also how a request from the queue gets its slot."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import AppointmentRecord, CalendarSlot, DoctorSummary, SlotState
from hms_desktop.services.backend import Backend
from hms_desktop.ui.calendar.cancel import CancelDialog
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
    """The next free slots of one doctor; Enter or OK picks one. With `choose_doctor` the desk
    can pick another doctor first (a move to a colleague)."""

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
        *,
        choose_doctor: bool = False,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.skip_slot = backend, tasks, tz, skip_slot
        self.doctor_id = doctor_id
        self._focus_list = True  # once, when the first slots arrive
        self.setWindowTitle(title)
        self.setMinimumSize(420, 420)
        self.doctor = QComboBox(self)
        self.doctor.addItem("…", doctor_id)
        doctor_label = QLabel("D&octor", self)
        doctor_label.setBuddy(self.doctor)
        doctor_row = QHBoxLayout()
        doctor_row.addWidget(doctor_label)
        doctor_row.addWidget(self.doctor, 1)
        for widget in (doctor_label, self.doctor):
            widget.setVisible(choose_doctor)
        self.list = QListWidget(self)
        self.error = ErrorLabel(self, name="FormError")
        self.ok = primary(QPushButton(action, self))
        self.ok.setDefault(True)
        self.ok.setEnabled(False)
        cancel = QPushButton("Cancel", self)
        cancel.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addLayout(doctor_row)
        layout.addWidget(QLabel(f"Free slots in the next {PICK_DAYS} days:", self))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.error)
        layout.addLayout(button_row(cancel, self.ok))
        self.ok.clicked.connect(self._choose)
        cancel.clicked.connect(self.reject)
        self.list.itemActivated.connect(lambda _item: self._choose())
        if choose_doctor:
            tasks.run(backend.doctors, on_done=self._doctors, retry=True)
        self._load(doctor_id)

    def _doctors(self, doctors: list[DoctorSummary]) -> None:
        self.doctor.blockSignals(True)
        self.doctor.clear()
        for doctor in doctors:
            speciality = f" · {doctor.speciality}" if doctor.speciality else ""
            self.doctor.addItem(f"{doctor.full_name}{speciality}", doctor.id)
        self.doctor.setCurrentIndex(max(0, self.doctor.findData(self.doctor_id)))
        self.doctor.blockSignals(False)
        self.doctor.currentIndexChanged.connect(lambda _i: self._load(self.doctor.currentData()))

    def _load(self, doctor_id: int) -> None:
        self.doctor_id = doctor_id
        self.list.clear()
        self.ok.setEnabled(False)
        self.error.show_message("")
        now = datetime.now(UTC)
        self.tasks.run(
            self.backend.calendar,
            [doctor_id],
            now,
            now + timedelta(days=PICK_DAYS),
            on_done=lambda slots: self._show(doctor_id, slots),
            on_error=lambda error: show_failure(self.error, self.tasks, error, change=False),
            retry=True,
        )

    def _show(self, doctor_id: int, slots: list[CalendarSlot]) -> None:
        if doctor_id != self.doctor_id:
            return  # the desk has picked another doctor since
        for item in slots:
            if item.state is SlotState.FREE and item.slot.id != self.skip_slot:
                row = QListWidgetItem(fmt_datetime(item.slot.start, self.tz), self.list)
                row.setData(Qt.ItemDataRole.UserRole, item.slot.id)
        if self.list.count():
            self.list.setCurrentRow(0)
            self.ok.setEnabled(True)
            if self._focus_list:
                self.list.setFocus()
        else:
            self.error.show_message("This doctor has no free slot in that time.")
        self._focus_list = False

    def _choose(self) -> None:
        item = self.list.currentItem()
        if item is not None and self.ok.isEnabled():
            self.chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def show_error(self, message: str) -> None:
        self.error.show_message(message)


class AppointmentDialog(QDialog):
    """A booked slot: who, when, and reschedule or cancel it."""

    changed = Signal(object)  # AppointmentRecord (cancelled)
    moved = Signal(object)  # AppointmentRecord at its new slot

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
        self.confirm_box: CancelDialog | None = None
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
            choose_doctor=True,
        )
        self.picker.chosen.connect(self._move)
        self.picker.open()
        return self.picker

    def _move(self, slot_id: int) -> None:
        self.tasks.run(
            self.backend.reschedule,
            self.appointment.id,
            slot_id,
            on_done=self._moved,
            on_error=lambda error: self._failed(error, self.picker),
        )

    def ask_cancel(self) -> CancelDialog:
        box = CancelDialog(
            f"Cancel {self.appointment.patient_name}'s appointment on "
            f"{fmt_datetime(self.appointment.start, self.tz)}? The slot becomes free.",
            self,
        )
        box.accepted.connect(lambda: self._cancel(box.reason_text()))
        self.confirm_box = box
        box.open()
        return box

    def _cancel(self, reason: str = "") -> None:
        self.tasks.run(
            self.backend.cancel,
            self.appointment.id,
            reason,
            on_done=self._done,
            on_error=lambda error: self._failed(error, None),
        )

    def _moved(self, record: AppointmentRecord) -> None:
        if self.picker is not None:
            self.picker.accept()
        self.moved.emit(record)
        self.accept()

    def _done(self, record: AppointmentRecord) -> None:
        self.changed.emit(record)
        self.accept()

    def _failed(self, error: Exception, picker: SlotPickerDialog | None) -> None:
        if picker is not None and picker.isVisible():
            show_failure(picker.error, self.tasks, error)
        else:
            show_failure(self.error, self.tasks, error)
