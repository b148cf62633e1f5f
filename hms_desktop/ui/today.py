"""Today: one doctor's day in time order; mark arrived / in progress / completed / no-show
(asked first when early; undone for a few seconds); print the list or save it as PDF."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QMarginsF, Signal
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from slugify import slugify

from hms_desktop.domain.enums import AppointmentStatus, can_transition
from hms_desktop.domain.models import AppointmentRecord, ChangeEvent, DoctorSummary
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.common import (
    STATUS_WORDS,
    STRETCH_LAST,
    TYPE_WORDS,
    documents_folder,
    event_day,
    fmt_time,
    plain,
    record_table,
)
from hms_desktop.ui.status_change import StatusChanger, StatusTableModel
from hms_desktop.ui.tasks import Tasks

ACTIONS = (
    (AppointmentStatus.ARRIVED, "&Arrived"),
    (AppointmentStatus.IN_PROGRESS, "&In progress"),
    (AppointmentStatus.COMPLETED, "&Completed"),
    (AppointmentStatus.NO_SHOW, "&No-show"),
)


def day_model(
    tz: ZoneInfo, parent: QWidget | None = None, *, with_doctor: bool = False
) -> StatusTableModel:
    """A day's appointments in time order: one doctor's (Today) or, `with_doctor`, every
    doctor's (Arrivals)."""
    columns: list[tuple[str, Callable[[AppointmentRecord], object]]] = [
        ("Time", lambda a: fmt_time(a.start, tz)),
        ("Patient", lambda a: a.patient_name),
        ("Status", lambda a: STATUS_WORDS[a.status]),
        ("Type", lambda a: TYPE_WORDS[a.appointment_type]),
        ("Reason", lambda a: a.symptoms),
    ]
    if with_doctor:
        columns.insert(1, ("Doctor", lambda a: a.doctor_name))
    status_column = [title for title, _ in columns].index("Status")
    return StatusTableModel(columns, status_column=status_column, parent=parent)


class TodayView(QWidget):
    """One doctor's day: who comes when, and their status through the visit."""

    message = Signal(str)
    loaded = Signal()

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        today: date,
        own_doctor_id: int | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.own_doctor_id = own_doctor_id
        self.rows: list[AppointmentRecord] = []
        self.changer = StatusChanger(backend, tasks, tz, self)
        self.changer.message.connect(self.message)
        self.changer.changed.connect(lambda _record: self.reload())
        filters = self._build_filters(today)
        self.title = plain(QLabel(self))
        self.title.setObjectName("SectionTitle")
        self.model = day_model(tz, self)
        self.table = record_table(self.model, self, stretch=STRETCH_LAST)
        actions = self._build_actions()
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self.doctor.currentIndexChanged.connect(lambda _i: self.reload())
        self.day.dateChanged.connect(lambda _d: self.reload())
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._enable())

    def _build_filters(self, today: date) -> QHBoxLayout:
        """The doctor (for the desk; a doctor sees their own day) and the day."""
        self.doctor = QComboBox(self)
        self.doctor.setMinimumWidth(240)
        self.day = QDateEdit(QDate(today.year, today.month, today.day), self)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd dd MMM yyyy")
        filters = QHBoxLayout()
        if self.own_doctor_id is None:
            doctor_label = QLabel("D&octor", self)
            doctor_label.setBuddy(self.doctor)
            filters.addWidget(doctor_label)
            filters.addWidget(self.doctor)
        else:
            self.doctor.hide()
        day_label = QLabel("&Day", self)
        day_label.setBuddy(self.day)
        filters.addWidget(day_label)
        filters.addWidget(self.day)
        filters.addStretch(1)
        return filters

    def _build_actions(self) -> QHBoxLayout:
        """A button per status the selected appointment can move to; print and PDF."""
        self.buttons: dict[AppointmentStatus, QPushButton] = {}
        actions = QHBoxLayout()
        for status, label in ACTIONS:
            button = QPushButton(label, self)
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, s=status: self.set_status(s))
            self.buttons[status] = button
            actions.addWidget(button)
        actions.addWidget(self.changer.undo_button)
        actions.addStretch(1)
        self.print_button = QPushButton(theme.icon("print"), "Print…", self)
        self.pdf_button = QPushButton(theme.icon("pdf"), "Save as PDF…", self)
        self.print_button.clicked.connect(self.print_day)
        self.pdf_button.clicked.connect(self._ask_pdf)
        actions.addWidget(self.print_button)
        actions.addWidget(self.pdf_button)
        return actions

    def start(self) -> None:
        if self.own_doctor_id is None:
            self.tasks.run(self.backend.doctors, on_done=self._doctors, retry=True)
        else:
            self.reload()

    def _doctors(self, doctors: list[DoctorSummary]) -> None:
        current = self.doctor.currentData()
        self.doctor.blockSignals(True)
        self.doctor.clear()
        for doctor in doctors:
            self.doctor.addItem(doctor.full_name, doctor.id)
        self.doctor.setCurrentIndex(max(0, self.doctor.findData(current)))
        self.doctor.blockSignals(False)
        self.reload()

    def doctor_id(self) -> int | None:
        return self.own_doctor_id if self.own_doctor_id is not None else self.doctor.currentData()

    def selected_day(self) -> date:
        chosen = self.day.date()
        return date(chosen.year(), chosen.month(), chosen.day())

    def reload(self) -> None:
        doctor_id = self.doctor_id()
        if doctor_id is None:
            self.model.set_rows([])
            return
        day = self.selected_day()
        self.tasks.run(
            self.backend.doctor_day,
            doctor_id,
            day,
            on_done=lambda rows: self._show(doctor_id, day, rows),
            retry=True,
        )

    def _show(self, doctor_id: int, day: date, rows: list[AppointmentRecord]) -> None:
        if doctor_id != self.doctor_id() or day != self.selected_day():
            return
        selected = self.selected()
        self.rows = rows
        self.changer.shown(rows)
        self.model.set_rows(rows)
        name = rows[0].doctor_name if rows else self.doctor.currentText()
        self.title.setText(f"{name} · {day:%A %d %B %Y} · {len(rows)} appointment(s)")
        for row, record in enumerate(rows):
            if selected is not None and record.id == selected.id:
                self.table.selectRow(row)
                break
        else:
            if rows:
                self.table.selectRow(0)
        self._enable()
        self.loaded.emit()

    def selected(self) -> AppointmentRecord | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        record = self.selected()
        for status, button in self.buttons.items():
            button.setEnabled(record is not None and can_transition(record.status, status))

    def set_status(self, status: AppointmentStatus) -> None:
        record = self.selected()
        if record is not None:
            self.changer.request(record, status)

    def on_change(self, event: ChangeEvent) -> None:
        """Reload only for a change to this list: an appointment shown, or one of this
        doctor's on this day (a change that names no day or doctor: to be safe)."""
        if event.kind in ("hold", "release"):
            return  # holds are the calendar's; this list shows appointments
        if event.appointment_id in {record.id for record in self.rows}:
            self.reload()
            return
        if event.doctor_id is not None and event.doctor_id != self.doctor_id():
            return
        day = event_day(event, self.tz)
        if day is None or day == self.selected_day():
            self.reload()

    # --- print / PDF -----------------------------------------------------------------------
    def document(self) -> QTextDocument:
        rows = "".join(
            f"<tr><td>{fmt_time(a.start, self.tz)}</td><td>{html.escape(a.patient_name)}</td>"
            f"<td>{STATUS_WORDS[a.status]}</td><td>{TYPE_WORDS[a.appointment_type]}</td>"
            f"<td>{html.escape(a.symptoms)}</td></tr>"
            for a in self.rows
        )
        document = QTextDocument()
        document.setHtml(
            f"<h2>{html.escape(self.title.text())}</h2>"
            "<table border='1' cellspacing='0' cellpadding='4' width='100%'>"
            "<tr><th>Time</th><th>Patient</th><th>Status</th><th>Type</th><th>Reason</th></tr>"
            f"{rows}</table>"
        )
        return document

    def save_pdf(self, path: str | Path) -> Path:
        target = Path(path)
        writer = QPdfWriter(str(target))
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Portrait,
                QMarginsF(15, 15, 15, 15),
            )
        )
        self.document().print_(writer)
        return target

    def pdf_name(self) -> str:
        """ "day-list_Dr-Heart_2026-12-03.pdf": the doctor and the day, in safe characters."""
        doctor = self.rows[0].doctor_name if self.rows else self.doctor.currentText()
        safe = slugify(doctor, lowercase=False) or "doctor"
        return f"day-list_{safe}_{self.selected_day().isoformat()}.pdf"

    def pdf_suggestion(self) -> str:
        """Where the save dialog opens: the user's documents folder (their home when there is
        none: the dialog would fall back to the working folder), never the working one."""
        return str(documents_folder() / self.pdf_name())

    def _ask_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the day list", self.pdf_suggestion(), "PDF (*.pdf)"
        )
        if path:
            self.message.emit(f"Saved {self.save_pdf(path)}.")

    def print_day(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        dialog = QPrintDialog(printer, self)
        if dialog.exec() == QPrintDialog.DialogCode.Accepted:
            self.document().print_(printer)
