"""Cancel an appointment? Asked with room for an optional reason ("patient is travelling"),
which is kept on the appointment and in the audit log."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from hms_desktop.domain.validation import SHORT_TEXT_MAX
from hms_desktop.ui.common import button_row, plain


class CancelDialog(QDialog):
    """ "Keep it" or "Cancel appointment"; Esc keeps it. Enter in the reason cancels only once
    a reason is typed, so a stray Enter never cancels a booking."""

    def __init__(self, question: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Cancel appointment")
        self.setMinimumWidth(460)
        text = plain(QLabel(question, self))
        text.setWordWrap(True)
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(SHORT_TEXT_MAX)
        self.reason.setPlaceholderText("Reason (optional), e.g. the patient is travelling")
        label = QLabel("&Reason", self)
        label.setBuddy(self.reason)
        self.keep = QPushButton("Keep it", self)
        self.cancel_it = QPushButton("Cancel appointment", self)
        self.cancel_it.setObjectName("Danger")
        for button in (self.keep, self.cancel_it):
            button.setAutoDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(label)
        layout.addWidget(self.reason)
        layout.addLayout(button_row(self.keep, self.cancel_it))
        self.keep.clicked.connect(self.reject)
        self.cancel_it.clicked.connect(self.accept)
        self.reason.returnPressed.connect(self._enter)
        self.reason.setFocus()

    def _enter(self) -> None:
        if self.reason.text().strip():
            self.accept()

    def reason_text(self) -> str:
        return self.reason.text().strip()
