"""The clinic's own settings, for every desk: its name and how far ahead slots are kept."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.admin import ClinicSettings
from hms_desktop.services.backend import Backend
from hms_desktop.ui.common import button_row, primary
from hms_desktop.ui.fields import FieldErrors
from hms_desktop.ui.tasks import Tasks

HORIZON_MAX = 366


class ClinicPage(QWidget):
    message = Signal(str)

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.errors = FieldErrors(self)
        layout = QVBoxLayout(self)
        note = QLabel(
            "These settings are kept in the clinic's database: every desk and the server use them.",
            self,
        )
        note.setWordWrap(True)
        note.setObjectName("Subtitle")
        layout.addWidget(note)
        layout.addLayout(self._build_form())
        layout.addWidget(self.errors.form)
        layout.addLayout(self._build_buttons())
        layout.addStretch(1)

    def _build_form(self) -> QFormLayout:
        self.name = QLineEdit(self)
        self.name.setMaxLength(100)
        self.name.returnPressed.connect(self.save)
        self.horizon = QSpinBox(self)
        self.horizon.setRange(1, HORIZON_MAX)
        self.horizon.setSuffix(" days")
        # Short values: fields of a readable width rather than the whole page's.
        self.name.setMaximumWidth(480)
        self.horizon.setMaximumWidth(140)
        form = QFormLayout()
        form.addRow("Clinic &name", self.errors.wrap("name", self.name))
        form.addRow("&Book up to", self.errors.wrap("booking_horizon_days", self.horizon))
        return form

    def _build_buttons(self):  # type: ignore[no-untyped-def]
        self.save_button = primary(QPushButton("&Save", self))
        self.save_button.clicked.connect(self.save)
        return button_row(self.save_button)

    def start(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.tasks.run(
            self.backend.clinic_settings, on_done=self._show, on_error=self.errors.show_error
        )

    def _show(self, settings: ClinicSettings) -> None:
        self.name.setText(settings.name)
        self.horizon.setValue(settings.booking_horizon_days)

    def save(self) -> None:
        self.errors.clear()
        name = self.name.text().strip()
        if not name:
            self.errors.show("The clinic's name is required.", "name")
            return
        self.save_button.setEnabled(False)
        self.tasks.run(
            self.backend.update_clinic_settings,
            ClinicSettings(name=name, booking_horizon_days=self.horizon.value()),
            on_done=self._saved,
            on_error=self._failed,
        )

    def _saved(self, settings: ClinicSettings) -> None:
        self.save_button.setEnabled(True)
        self._show(settings)
        self.message.emit("Clinic settings saved for every desk.")

    def _failed(self, error: Exception) -> None:
        self.save_button.setEnabled(True)
        self.errors.show_error(error)
