"""Put a patient on the waitlist: for a doctor or any doctor of a speciality, a range of days,
preferred times of day, a priority and a note. Opened from Patients (W) or the Waitlist page."""

from __future__ import annotations

import html
from datetime import date, timedelta

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import DoctorSummary, NamedItem, PatientRecord
from hms_desktop.domain.validation import SHORT_TEXT_MAX
from hms_desktop.domain.waitlist import (
    PREFERRED_CHOICES,
    PREFERRED_MAX,
    WaitlistEntry,
    WaitlistForm,
    WaitlistPriority,
)
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import ErrorLabel, button_row, primary
from hms_desktop.ui.tasks import Tasks, show_failure

DEFAULT_WEEKS = 2
PRIORITY_LABELS = {
    WaitlistPriority.LOW: "Low",
    WaitlistPriority.NORMAL: "Normal",
    WaitlistPriority.HIGH: "High",
    WaitlistPriority.URGENT: "Urgent",
}


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class WaitlistDialog(QDialog):
    """The waitlist form for one patient; `saved` carries the new entry."""

    saved = Signal(object)  # WaitlistEntry

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        patient: PatientRecord,
        today: date,
        parent: QWidget | None = None,
        doctor_id: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.patient = backend, tasks, patient
        self._doctor_id = doctor_id
        self.result_entry: WaitlistEntry | None = None
        self.setWindowTitle("Add to the waitlist")
        self.setMinimumWidth(480)
        heading = QLabel(f"<b>{html.escape(patient.full_name)}</b> waits for…", self)
        heading.setObjectName("SectionTitle")
        self.wanted = QComboBox(self)  # data: ("doctor", id) or ("speciality", id)
        self.first_day = QDateEdit(_qdate(today), self)
        self.last_day = QDateEdit(_qdate(today + timedelta(weeks=DEFAULT_WEEKS)), self)
        for edit in (self.first_day, self.last_day):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("ddd dd MMM yyyy")
            edit.setMinimumDate(_qdate(today))
        self.times = QComboBox(self)
        self.times.setEditable(True)
        for choice in PREFERRED_CHOICES:
            self.times.addItem(choice or "any time", choice)
        typed = self.times.lineEdit()
        if typed is not None:
            typed.setMaxLength(PREFERRED_MAX)
        self.times.setToolTip("e.g. mornings, weekday afternoons, Mon-Wed 9-12")
        self.priority = QComboBox(self)
        for level, words in PRIORITY_LABELS.items():
            self.priority.addItem(words, int(level))
        self.priority.setCurrentIndex(self.priority.findData(int(WaitlistPriority.NORMAL)))
        self.note = QLineEdit(self)
        self.note.setMaxLength(SHORT_TEXT_MAX)
        self.note.setPlaceholderText("e.g. can come at short notice; call first")
        self.error = ErrorLabel(self, name="FormError")
        self.save_button = primary(QPushButton("Add to waitlist", self))
        self.save_button.setDefault(True)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setAutoDefault(False)
        self.save_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("&Doctor or speciality", self.wanted)
        form.addRow("&From", self.first_day)
        form.addRow("&Until", self.last_day)
        form.addRow("Preferred &times", self.times)
        form.addRow("&Priority", self.priority)
        form.addRow("&Note", self.note)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(button_row(self.cancel_button, self.save_button))
        self.wanted.setFocus()
        self.tasks.run(_choices, backend, on_done=self._fill_choices, retry=True)

    def _fill_choices(self, found: tuple[list[DoctorSummary], list[NamedItem]]) -> None:
        doctors, specialities = found
        self.wanted.clear()
        for doctor in doctors:
            self.wanted.addItem(f"Dr {doctor.full_name}", ("doctor", doctor.id))
        for speciality in specialities:
            self.wanted.addItem(f"Any {speciality.name} doctor", ("speciality", speciality.id))
        if self._doctor_id is not None:
            self.wanted.setCurrentIndex(max(0, self.wanted.findData(("doctor", self._doctor_id))))

    def form(self) -> WaitlistForm:
        kind, wanted_id = self.wanted.currentData() or ("", None)
        typed = self.times.currentText().strip()
        times = "" if typed in ("", "any time") else typed
        return WaitlistForm(
            patient_id=self.patient.id,
            first_day=_day(self.first_day.date()),
            last_day=_day(self.last_day.date()),
            doctor_id=wanted_id if kind == "doctor" else None,
            specialisation_id=wanted_id if kind == "speciality" else None,
            preferred_times=times,
            priority=WaitlistPriority(self.priority.currentData()),
            note=self.note.text().strip(),
        )

    def submit(self) -> None:
        if not self.save_button.isEnabled():
            return
        self.save_button.setEnabled(False)
        self.error.show_message("")
        self.tasks.run(
            self.backend.add_to_waitlist,
            self.form(),
            on_done=self._saved,
            on_error=self._failed,
        )

    def _saved(self, entry: WaitlistEntry) -> None:
        self.result_entry = entry
        self.saved.emit(entry)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.save_button.setEnabled(True)
        show_failure(self.error, self.tasks, error)


def _choices(backend: Backend) -> tuple[list[DoctorSummary], list[NamedItem]]:
    return backend.doctors(), backend.specialisations()
