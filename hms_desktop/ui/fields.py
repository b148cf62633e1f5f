"""Form fields with their error line under them (the admin pages, the password dialog)."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from hms_desktop.domain.errors import DomainError
from hms_desktop.ui.common import ErrorLabel
from hms_desktop.ui.tasks import friendly_message


def _mark(widget: QWidget, invalid: bool) -> None:
    widget.setProperty("invalid", invalid)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class FieldErrors:
    """Each named field's error label; a message without a known field goes to `form`."""

    def __init__(self, owner: QWidget) -> None:
        self.owner = owner
        self.form = ErrorLabel(owner, name="FormError")
        self.labels: dict[str, ErrorLabel] = {}
        self.widgets: dict[str, QWidget] = {}

    def wrap(self, name: str, field: QWidget) -> QWidget:
        """The field with its (hidden) error line under it."""
        holder = QWidget(self.owner)
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(field)
        label = ErrorLabel(holder)
        column.addWidget(label)
        self.labels[name], self.widgets[name] = label, field
        return holder

    def clear(self) -> None:
        for name, label in self.labels.items():
            label.show_message("")
            _mark(self.widgets[name], False)
        self.form.show_message("")

    def show(self, message: str, field: str | None = None) -> None:
        label = self.labels.get(field or "")
        if label is None:
            self.form.show_message(message)
            return
        label.show_message(message)
        widget = self.widgets[field or ""]
        _mark(widget, True)
        if self.owner.isWindow():
            # A dialog grows by the error line; otherwise its rows squeeze over each other.
            self.owner.adjustSize()
        if self.owner.isVisible():
            widget.setFocus()

    def show_error(self, error: Exception) -> None:
        self.show(friendly_message(error), error.field if isinstance(error, DomainError) else None)

    def message(self, field: str | None = None) -> str:
        """What is shown next to `field` (or for the whole form), "" when nothing."""
        label = self.labels.get(field or "", self.form)
        return "" if label.isHidden() else label.text()
