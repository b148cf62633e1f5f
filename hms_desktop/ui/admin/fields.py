"""What the admin's forms share: a field with its error line under it, and a picture
chosen from a file, checked as the server will check it before anything is sent."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QVBoxLayout, QWidget

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.images import DEFAULT_MAX_BYTES, check_picture_file
from hms_desktop.ui.common import ErrorLabel

PICTURE_FILTER = "Pictures (*.png *.jpg *.jpeg *.webp);;All files (*)"


class FieldErrors:
    """Each named field's error label; a message for no known field goes to `general`."""

    def __init__(self, general: ErrorLabel) -> None:
        self.general = general
        self.labels: dict[str, ErrorLabel] = {}
        self.widgets: dict[str, QWidget] = {}

    def wrap(self, name: str, field: QWidget, parent: QWidget) -> QWidget:
        holder = QWidget(parent)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        label = ErrorLabel(holder)
        label.setObjectName("FieldError")
        column.addWidget(label)
        self.labels[name], self.widgets[name] = label, field
        return holder

    def alias(self, name: str, to: str) -> None:
        """The server names this field `name`; the form shows it at `to`."""
        self.labels[name], self.widgets[name] = self.labels[to], self.widgets[to]

    def clear(self) -> None:
        for name, label in self.labels.items():
            label.show_message("")
            _mark(self.widgets[name], False)
        self.general.show_message("")

    def show(self, message: str, field: str | None) -> None:
        label = self.labels.get(field or "")
        if label is None:
            self.general.show_message(message)
            return
        label.show_message(message)
        widget = self.widgets[field or ""]
        _mark(widget, True)
        if widget.isVisible():
            widget.setFocus()

    def message(self, field: str) -> str:
        label = self.labels.get(field)
        return label.text() if label is not None and label.isVisible() else ""


def _mark(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def choose_picture_path(parent: QWidget) -> str:
    """The file the admin picks ('' when they cancel)."""
    path, _ = QFileDialog.getOpenFileName(parent, "Choose a picture", "", PICTURE_FILTER)
    return path


def read_picture(path: str, field: str) -> bytes:
    """The file's bytes if it is a picture the clinic accepts (runs off the GUI thread)."""
    try:
        with Path(path).open("rb") as file:
            # One byte past the cap is enough for the check to refuse an oversized file.
            data = file.read(DEFAULT_MAX_BYTES + 1)
    except OSError as error:
        raise ValidationError(f"Cannot read the file: {error.strerror}.", field=field) from error
    return check_picture_file(data, field=field)
