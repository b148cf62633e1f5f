"""A patient's messages at the desk: the confirmations, reminders and notices written for
them, when each is (or was) due, where it goes, and whether it went."""

from __future__ import annotations

import functools
from zoneinfo import ZoneInfo

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QLabel, QVBoxLayout, QWidget

from hms_desktop.domain.messages import MessageKind, MessageRecord, MessageState
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import STRETCH_LAST, RecordTableModel, fmt_short, record_table
from hms_desktop.ui.tasks import Tasks, friendly_message

KIND_WORDS = {
    MessageKind.CONFIRMATION: "Booking confirmed",
    MessageKind.REMINDER: "Reminder",
    MessageKind.MOVED: "Moved",
    MessageKind.CANCELLED: "Cancelled",
}
TO_COLUMN = 3


def state_words(message: MessageRecord) -> str:
    if message.state is MessageState.PENDING:
        return f"Waiting (try {message.attempts + 1})" if message.attempts else "Waiting"
    if message.state is MessageState.SENDING:
        return "Sending"
    if message.state is MessageState.SENT:
        return "Sent"
    if message.state is MessageState.WITHDRAWN:
        return "Not sent (appointment changed)"
    return f"Failed: {message.last_error}" if message.last_error else "Failed"


def messages_model(tz: ZoneInfo, parent: QWidget | None = None) -> RecordTableModel:
    return RecordTableModel(
        [
            ("When", lambda m: fmt_short(m.sent_at or m.due_at, tz)),
            ("Message", lambda m: KIND_WORDS[m.kind]),
            ("State", state_words),
            # The address alone: an e-mail address or a phone number says the channel.
            ("To", lambda m: m.recipient),
        ],
        parent,
    )


class PatientMessages(QWidget):
    """The messages of the patient last asked for with `show_patient`; answers for a patient
    no longer shown are dropped."""

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks = backend, tasks
        self.model = messages_model(tz, self)
        self.table = record_table(self.model, self, stretch=STRETCH_LAST)
        # The address takes what is left (elided) so the state is always in sight.
        self.table.horizontalHeader().setSectionResizeMode(
            TO_COLUMN, QHeaderView.ResizeMode.Stretch
        )
        self.table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # read, not worked in
        self.note = QLabel("", self)
        self.note.setObjectName("Subtitle")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        self._patient_id: int | None = None

    def show_patient(self, patient_id: int | None) -> None:
        self._patient_id = patient_id
        self.model.set_rows([])
        self.note.setText("")
        if patient_id is None:
            return
        self.tasks.run(
            self.backend.patient_messages,
            patient_id,
            on_done=functools.partial(self._arrived, patient_id),
            on_error=functools.partial(self._failed, patient_id),
            retry=True,
        )

    def _arrived(self, patient_id: int, rows: list[MessageRecord]) -> None:
        if not shiboken6.isValid(self.note) or patient_id != self._patient_id:
            return
        self.model.set_rows(rows)
        self.note.setText("" if rows else "No messages for this patient yet.")

    def _failed(self, patient_id: int, error: Exception) -> None:
        if shiboken6.isValid(self.note) and patient_id == self._patient_id:
            self.note.setText(friendly_message(error))
