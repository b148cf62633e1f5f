"""The Assign dialog of a request: the doctor's free slots, those in the request's preferred
time highlighted, and the first of them chosen when the dialog opens."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListWidgetItem, QVBoxLayout, QWidget

from hms_desktop.domain.models import AppointmentRecord, CalendarSlot
from hms_desktop.domain.preferred_time import parse_preferred
from hms_desktop.services.backend import Backend
from hms_desktop.ui.calendar import SlotPickerDialog
from hms_desktop.ui.common import plain
from hms_desktop.ui.tasks import Tasks

PREFERRED_BACKGROUND, PREFERRED_TEXT = QColor("#ffd166"), QColor("#4a3500")
PREFERRED_MARK = "  ·  preferred time"


class RequestSlotPicker(SlotPickerDialog):
    """Free slots of the request's doctor; the preferred time's marked, first one chosen."""

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        request: AppointmentRecord,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(
            backend,
            tasks,
            tz,
            request.doctor_id,
            f"Assign a slot: {request.patient_name} with {request.doctor_name}",
            "Assign",
            parent,
        )
        self.preferred_time = parse_preferred(request.available_time)
        self.preferred: list[int] = []  # slot ids in the preferred time, in time order
        self.hint = plain(QLabel(self))
        self.hint.setWordWrap(True)
        if request.available_time:
            self.hint.setText(f"Preferred time: {request.available_time}.")
        else:
            self.hint.hide()
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(0, self.hint)

    def _show(self, doctor_id: int, slots: list[CalendarSlot]) -> None:
        super()._show(doctor_id, slots)
        if self.preferred_time is None or doctor_id != self.doctor_id:
            return
        starts = {item.slot.id: item.slot.start.astimezone(self.tz) for item in slots}
        first: QListWidgetItem | None = None
        for row in range(self.list.count()):
            item = self.list.item(row)
            slot_id = int(item.data(Qt.ItemDataRole.UserRole))
            if slot_id in starts and self.preferred_time.contains(starts[slot_id]):
                item.setBackground(PREFERRED_BACKGROUND)
                item.setForeground(PREFERRED_TEXT)
                item.setText(item.text() + PREFERRED_MARK)
                font = item.font()
                font.setBold(True)
                item.setFont(font)
                self.preferred.append(slot_id)
                first = first or item
        if first is not None:
            self.list.setCurrentItem(first)
            self.list.scrollToItem(first, QAbstractItemView.ScrollHint.PositionAtTop)
            self.hint.setText(self.hint.text() + " Its free slots are highlighted.")
        else:
            self.hint.setText(
                self.hint.text() + " No free slot in it soon: pick another time with the patient."
            )
