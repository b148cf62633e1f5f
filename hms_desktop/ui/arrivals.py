"""Arrivals: the desk's flow board. Every doctor's appointments of a day in time order,
narrowed to one doctor if the desk likes; mark who has arrived (or not come). Live: another
desk's or a doctor's change shows at once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.enums import AppointmentStatus, can_transition
from hms_desktop.domain.models import AppointmentRecord, ChangeEvent, DoctorSummary
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import (
    STRETCH_LAST,
    event_day,
    plain,
    primary,
    record_table,
)
from hms_desktop.ui.status_change import StatusChanger, StatusTableModel
from hms_desktop.ui.tasks import Tasks
from hms_desktop.ui.today import day_model


def arrivals_model(tz: ZoneInfo, parent: QWidget | None = None) -> StatusTableModel:
    return day_model(tz, parent, with_doctor=True)


class ArrivalsView(QWidget):
    """Who comes today, for every doctor, and who is here."""

    message = Signal(str)
    loaded = Signal()

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.today = backend, tasks, tz, today
        self.rows: list[AppointmentRecord] = []  # the whole day, every doctor
        self.changer = StatusChanger(backend, tasks, tz, self)
        self.changer.message.connect(self.message)
        self.changer.changed.connect(lambda _record: self.reload())
        filters = self._build_filters()
        self.title = plain(QLabel(self))
        self.title.setObjectName("SectionTitle")
        self.title.setWordWrap(True)  # a long doctor's name wraps, never widens the window
        self.model = arrivals_model(tz, self)
        self.table = record_table(self.model, self, stretch=STRETCH_LAST)
        actions = self._build_actions()
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        self.doctor.currentIndexChanged.connect(lambda _i: self._fill())
        self.day.dateChanged.connect(lambda _d: self.reload())
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._enable())
        # Enter or a double click on a row: that patient has arrived.
        self.table.activated.connect(lambda _i: self.mark(AppointmentStatus.ARRIVED))

    def _build_filters(self) -> QHBoxLayout:
        self.doctor = QComboBox(self)
        self.doctor.setMinimumWidth(240)
        self.doctor.addItem("All doctors", None)
        self.day = QDateEdit(QDate(self.today.year, self.today.month, self.today.day), self)
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("ddd dd MMM yyyy")
        self.today_button = QPushButton("&Today", self)
        self.today_button.clicked.connect(self.show_today)
        doctor_label = QLabel("D&octor", self)
        doctor_label.setBuddy(self.doctor)
        day_label = QLabel("&Day", self)
        day_label.setBuddy(self.day)
        filters = QHBoxLayout()
        for widget in (doctor_label, self.doctor, day_label, self.day, self.today_button):
            filters.addWidget(widget)
        filters.addStretch(1)
        return filters

    def _build_actions(self) -> QHBoxLayout:
        self.arrived_button = primary(QPushButton("Mark &arrived", self))
        self.no_show_button = QPushButton("&No-show", self)
        self.buttons = {
            AppointmentStatus.ARRIVED: self.arrived_button,
            AppointmentStatus.NO_SHOW: self.no_show_button,
        }
        actions = QHBoxLayout()
        for status, button in self.buttons.items():
            button.setEnabled(False)
            button.clicked.connect(lambda _checked=False, s=status: self.mark(s))
            actions.addWidget(button)
        actions.addWidget(self.changer.undo_button)
        actions.addStretch(1)
        return actions

    def start(self) -> None:
        self.tasks.run(self.backend.doctors, on_done=self._doctors, retry=True)
        self.reload()

    def _doctors(self, doctors: list[DoctorSummary]) -> None:
        current = self.doctor.currentData()
        self.doctor.blockSignals(True)
        while self.doctor.count() > 1:
            self.doctor.removeItem(1)
        for doctor in doctors:
            self.doctor.addItem(doctor.full_name, doctor.id)
        self.doctor.setCurrentIndex(max(0, self.doctor.findData(current)))
        self.doctor.blockSignals(False)
        self._fill()

    def show_today(self) -> None:
        today = datetime.now(UTC).astimezone(self.tz).date()  # the desk may run overnight
        self.day.setDate(QDate(today.year, today.month, today.day))

    def selected_day(self) -> date:
        chosen = self.day.date()
        return date(chosen.year(), chosen.month(), chosen.day())

    def doctor_id(self) -> int | None:
        return self.doctor.currentData()

    def reload(self) -> None:
        day = self.selected_day()
        self.tasks.run(
            self.backend.clinic_day, day, on_done=lambda rows: self._show(day, rows), retry=True
        )

    def _show(self, day: date, rows: list[AppointmentRecord]) -> None:
        if day != self.selected_day():
            return
        self.rows = rows
        self.changer.shown(rows)
        self._fill()
        self.loaded.emit()

    def _fill(self) -> None:
        """The loaded day, narrowed to the chosen doctor; the selection kept."""
        selected = self.selected()
        doctor_id = self.doctor_id()
        shown = [r for r in self.rows if doctor_id is None or r.doctor_id == doctor_id]
        self.model.set_rows(shown)
        here = sum(r.status is AppointmentStatus.ARRIVED for r in shown)
        waiting = sum(r.status.is_open for r in shown)
        who = "every doctor" if doctor_id is None else self.doctor.currentText()
        self.title.setText(
            f"{self.selected_day():%a %d %b %Y} · {who} · {len(shown)} appointment(s): "
            f"{here} arrived, {waiting} still to come"
        )
        ids = [r.id for r in shown]
        if selected is not None and selected.id in ids:
            self.table.selectRow(ids.index(selected.id))
        elif shown:
            self.table.selectRow(self._next_to_come(shown))
        self._enable()

    @staticmethod
    def _next_to_come(rows: list[AppointmentRecord]) -> int:
        """The first appointment still to come (where the desk is likely to act next)."""
        return next((i for i, r in enumerate(rows) if r.status.is_open), 0)

    def selected(self) -> AppointmentRecord | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        record = self.selected()
        for status, button in self.buttons.items():
            button.setEnabled(record is not None and can_transition(record.status, status))

    def mark(self, status: AppointmentStatus) -> None:
        record = self.selected()
        if record is not None and can_transition(record.status, status):
            self.changer.request(record, status)

    def on_change(self, event: ChangeEvent) -> None:
        """Reload for a change to an appointment shown or on this day (a change that names
        no day: to be safe); holds are the calendar's."""
        if event.kind in ("hold", "release"):
            return
        if event.appointment_id in {record.id for record in self.rows}:
            self.reload()
            return
        day = event_day(event, self.tz)
        if day is None or day == self.selected_day():
            self.reload()
