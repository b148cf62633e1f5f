"""Requests: appointments that came in without a slot, each preferred time with its next
date; assign one (the dialog opens on the preferred time's free slots) or decline with a
reason."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import STORE_BACK, AppointmentRecord, ChangeEvent
from hms_desktop.domain.preferred_time import describe_next
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import (
    STRETCH_LAST,
    TYPE_WORDS,
    ErrorLabel,
    RecordTableModel,
    button_row,
    fmt_datetime,
    plain,
    primary,
    record_table,
)
from hms_desktop.ui.request_picker import RequestSlotPicker
from hms_desktop.ui.tasks import Tasks, show_failure


class DeclineDialog(QDialog):
    declined = Signal(object)  # AppointmentRecord

    def __init__(
        self, backend: Backend, tasks: Tasks, request: AppointmentRecord, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.request = backend, tasks, request
        self.setWindowTitle("Decline the request")
        self.setMinimumWidth(440)
        self.reason = QPlainTextEdit(self)
        self.reason.setPlaceholderText("Why the request cannot be booked (the patient sees this)")
        self.reason.setTabChangesFocus(True)
        self.error = ErrorLabel(self)
        self.decline = primary(QPushButton("Decline request", self))
        cancel = QPushButton("Cancel", self)
        buttons = button_row(cancel, self.decline)
        layout = QVBoxLayout(self)
        layout.addWidget(
            plain(QLabel(f"{request.patient_name}'s request for {request.doctor_name}:", self))
        )
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addLayout(buttons)
        self.decline.clicked.connect(self.submit)
        cancel.clicked.connect(self.reject)
        self.reason.setFocus()

    def submit(self) -> None:
        self.error.show_message("")
        self.decline.setEnabled(False)
        self.tasks.run(
            self.backend.decline_request,
            self.request.id,
            self.reason.toPlainText(),
            on_done=self._done,
            on_error=self._failed,
        )

    def _done(self, record: AppointmentRecord) -> None:
        self.declined.emit(record)
        self.accept()

    def _failed(self, error: Exception) -> None:
        self.decline.setEnabled(True)
        show_failure(self.error, self.tasks, error)
        self.reason.setFocus()


# Changes that alter the queue whatever they are about (a resync: anything may have).
QUEUE_CHANGES = frozenset({"request", "assign", "decline", "resync", STORE_BACK})


class RequestsView(QWidget):
    message = Signal(str)
    loaded = Signal()
    waiting = Signal(int)  # how many requests wait (for the navigation)

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.dialog: QDialog | None = None
        self.model = RecordTableModel(
            [
                ("Received", lambda a: fmt_datetime(a.created_at, tz)),
                ("Patient", lambda a: a.patient_name),
                ("Doctor", lambda a: a.doctor_name),
                ("Preferred time", lambda a: describe_next(a.available_time, datetime.now(tz))),
                ("Type", lambda a: TYPE_WORDS[a.appointment_type]),
                ("Reason", lambda a: a.symptoms),
            ],
            self,
        )
        self.table = record_table(self.model, self, stretch=STRETCH_LAST)
        self.count = QLabel(self)
        self.count.setObjectName("SectionTitle")
        self.assign_button = primary(QPushButton("&Assign a slot…", self))
        self.decline_button = QPushButton("&Decline…", self)
        self.decline_button.setObjectName("Danger")
        buttons = button_row(self.decline_button, self.assign_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.count)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.assign_button.clicked.connect(self.assign)
        self.decline_button.clicked.connect(self.decline)
        self.table.activated.connect(lambda _i: self.assign())
        self._enable()

    def start(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.tasks.run(self.backend.pending_requests, on_done=self._show, retry=True)

    def _show(self, rows: list[AppointmentRecord]) -> None:
        self.model.set_rows(rows)
        self.count.setText(
            f"{len(rows)} request(s) waiting for a slot" if rows else "No request is waiting."
        )
        if rows:
            self.table.selectRow(0)
        self._enable()
        self.waiting.emit(len(rows))
        self.loaded.emit()

    def _enable(self) -> None:
        has = self.selected() is not None
        self.assign_button.setEnabled(has)
        self.decline_button.setEnabled(has)

    def selected(self) -> AppointmentRecord | None:
        index = self.table.currentIndex()
        return self.model.row_record(index.row()) if index.isValid() else None

    def assign(self) -> RequestSlotPicker | None:
        request = self.selected()
        if request is None:
            return None
        picker = RequestSlotPicker(self.backend, self.tasks, self.tz, request, self)
        picker.chosen.connect(lambda slot_id: self._assign(picker, request, slot_id))
        self.dialog = picker
        picker.open()
        return picker

    def _assign(self, picker: RequestSlotPicker, request: AppointmentRecord, slot_id: int) -> None:
        self.tasks.run(
            self.backend.assign_request,
            request.id,
            slot_id,
            on_done=lambda record: self._finished(picker, record, "booked"),
            on_error=lambda error: show_failure(picker.error, self.tasks, error),
        )

    def decline(self) -> DeclineDialog | None:
        request = self.selected()
        if request is None:
            return None
        dialog = DeclineDialog(self.backend, self.tasks, request, self)
        dialog.declined.connect(lambda record: self._finished(None, record, "declined"))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _finished(self, picker: QDialog | None, record: AppointmentRecord, word: str) -> None:
        if picker is not None:
            picker.accept()
        when = f" for {fmt_datetime(record.start, self.tz)}" if record.start else ""
        self.message.emit(f"{record.patient_name}'s request is {word}{when}.")
        self.reload()

    def on_change(self, event: ChangeEvent) -> None:
        """Reload for a change to the queue: a request made, assigned or declined, one
        shown that changed, or any appointment without a slot (a request) changing."""
        ids = {record.id for record in self.model.records}
        if (
            event.kind in QUEUE_CHANGES
            or event.appointment_id in ids
            or (event.appointment_id is not None and event.slot_id is None)
        ):
            self.reload()
