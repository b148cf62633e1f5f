"""Booking a free slot: pick (or register) the patient, the slot is held, confirm."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.enums import AppointmentType
from hms_desktop.domain.errors import DomainError
from hms_desktop.domain.models import AppointmentRecord, CalendarSlot, Hold, PatientRecord
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.calendar.model import countdown
from hms_desktop.ui.common import TYPE_WORDS, ErrorLabel, button_row, fmt_datetime, primary
from hms_desktop.ui.patient_form import PatientFormDialog
from hms_desktop.ui.patients import PatientSearch
from hms_desktop.ui.tasks import Tasks, show_failure


class BookingDialog(QDialog):
    """A free slot: pick (or register) the patient → the slot is held → confirm."""

    booked = Signal(object)  # AppointmentRecord
    failed = Signal(object)  # the error of a hold or a confirm (e.g. another desk was first)

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
        self.release_box: QMessageBox | None = None
        self.setWindowTitle("Book an appointment")
        self.setMinimumSize(620, 520)
        heading = QLabel(
            f"<b>{html.escape(doctor_name)}</b> — {fmt_datetime(slot.slot.start, tz)} "
            f"({slot.slot.duration} min)",
            self,
        )
        heading.setObjectName("SectionTitle")
        self.search = PatientSearch(backend, tasks, self)
        patient_buttons = self._build_patient_buttons()
        self.chosen = QLabel("No patient chosen yet: find them above and press Enter.", self)
        self.chosen.setWordWrap(True)
        details = self._build_details()
        self.error = ErrorLabel(self, name="FormError")
        buttons = self._build_buttons()
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(self.search, 1)
        layout.addLayout(patient_buttons)
        layout.addWidget(self.chosen)
        layout.addLayout(details)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.search.picked.connect(self.pick)
        # Counts down the hold once there is one.
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        if patient is not None:
            self.search.box.setText(patient.full_name)
            self.pick(patient)
        else:
            self.search.box.setFocus()

    def _build_patient_buttons(self) -> QHBoxLayout:
        """Register a new patient, or hold the slot for the one selected in the search."""
        self.new_patient_button = QPushButton(theme.icon("add"), "New patient…", self)
        self.pick_button = QPushButton("Hold for the selected patient", self)
        self.new_patient_button.clicked.connect(self._new_patient)
        self.pick_button.clicked.connect(self._pick_selected)
        row = QHBoxLayout()
        row.addWidget(self.new_patient_button)
        row.addStretch(1)
        row.addWidget(self.pick_button)
        return row

    def _build_details(self) -> QHBoxLayout:
        """The appointment's type and the reason for the visit."""
        self.type = QComboBox(self)
        for kind, words in TYPE_WORDS.items():
            self.type.addItem(words, kind)
        self.type.setCurrentIndex(self.type.findData(AppointmentType.OFFLINE))
        self.symptoms = QLineEdit(self)
        self.symptoms.setPlaceholderText("Reason for the visit (optional)")
        row = QHBoxLayout()
        row.addWidget(QLabel("Type", self))
        row.addWidget(self.type)
        row.addWidget(self.symptoms, 1)
        return row

    def _build_buttons(self) -> QHBoxLayout:
        """Confirm (enabled while the slot is held) and cancel; Enter confirms once held."""
        self.confirm = primary(QPushButton("Confirm booking", self))
        self.confirm.setEnabled(False)
        self.cancel_button = QPushButton("Cancel", self)
        # Out of the Tab order: a Tab and a space typed into the wrong place must never let a
        # held slot go. A click (or Esc) still cancels, asking first while the slot is held.
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        # No button may take Enter before the slot is held: Enter picks the patient first.
        for button in (self.new_patient_button, self.pick_button, self.cancel_button):
            button.setAutoDefault(False)
        self.confirm.setAutoDefault(False)
        self.confirm.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        return button_row(self.cancel_button, self.confirm)

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
            self.symptoms.setFocus()
            return
        self.error.show_message("")
        self.patient = patient
        self.chosen.setText(f"Holding the slot for <b>{html.escape(patient.full_name)}</b>…")
        self.confirm.setEnabled(False)
        previous, self.hold = self.hold, None
        self.tasks.run(
            _hold_instead,
            self.backend,
            self.slot.slot.id,
            patient.id,
            previous,
            on_done=self._held,
            on_error=self._failed,
        )

    def _held(self, hold: Hold) -> None:
        self.hold = hold
        self._tick()
        self._timer.start()
        self.confirm.setEnabled(True)
        self.confirm.setDefault(True)
        # On to the reason for the visit: what the desk types next goes there, and Enter
        # confirms (the default button), so no keystroke lands on a button by accident.
        self.symptoms.setFocus()

    def _tick(self) -> None:
        if self.hold is None or self.patient is None:
            return
        now = datetime.now(UTC)
        if self.hold.expires_at <= now:
            self._timer.stop()
            self.hold = None
            self.confirm.setEnabled(False)
            self.chosen.setText("The hold ran out. Pick the patient again to hold the slot.")
            if self.release_box is not None and self.release_box.isVisible():
                self.release_box.reject()  # nothing is held any more: nothing to ask
            return
        self.chosen.setText(
            f"Held for <b>{html.escape(self.patient.full_name)}</b> · "
            f"{countdown(self.hold, now)} left "
            "to confirm (Enter)."
        )

    def _failed(self, error: Exception) -> None:
        self.failed.emit(error)
        self.confirm.setEnabled(self.hold is not None)
        show_failure(self.error, self.tasks, error)
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

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # Enter in the patient search (the box, or the results it has just moved to) is about
        # choosing a patient; passed on, it would also press Confirm and book the patient held
        # before the desk looked for another.
        focus = self.focusWidget()
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and focus is not None and self.search.isAncestorOf(focus):
            event.accept()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        """Esc, Cancel or the window's close: while the slot is held, ask first."""
        if self.hold is None:
            self._leave()
        else:
            self.ask_release()

    def ask_release(self) -> QMessageBox:
        if self.release_box is not None and self.release_box.isVisible():
            return self.release_box
        name = self.patient.full_name if self.patient is not None else "the patient"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Release the held slot?",
            f"Release the held slot? It is held for {name} and is not booked yet; "
            "another desk may take it.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setEscapeButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Release the slot")
        box.button(QMessageBox.StandardButton.No).setText("Keep holding")
        box.accepted.connect(self._leave)
        box.rejected.connect(self.symptoms.setFocus)
        self.release_box = box
        box.open()
        return box

    def _leave(self) -> None:
        self._timer.stop()
        if self.hold is not None:
            hold, self.hold = self.hold, None
            self.tasks.run(self.backend.release_hold, hold.slot_id, hold.token)
        super().reject()


def _hold_instead(backend: Backend, slot_id: int, patient_id: int, previous: Hold | None) -> Hold:
    """On a worker: let go of the hold for the patient picked before, then hold for this
    one, in that order (run side by side, the new hold could meet the old one)."""
    if previous is not None:
        try:
            backend.release_hold(previous.slot_id, previous.token)
        except DomainError as error:
            if error.kind == "unavailable":
                raise
            # Already gone (ran out, taken over): nothing is left to let go of.
    return backend.hold_slot(slot_id, patient_id)
