"""Filling a freed slot from the waitlist, in two keystrokes.

After a cancel, or when the desk selects a free slot, the calendar asks who waits for that
slot; the status line says "2 waiting — F to fill (best: Ann Lee, urgent)". F holds the slot
for the best match (the normal hold: another desk that took it first wins, and the desk is
told so) and opens the booking window with that patient chosen and the slot held; Enter
confirms, which books it and marks the entry filled."""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from hms_desktop.domain.enums import AppointmentStatus, AppointmentType
from hms_desktop.domain.models import (
    AppointmentRecord,
    CalendarSlot,
    Hold,
    PatientRecord,
    SlotInfo,
    SlotState,
)
from hms_desktop.domain.waitlist import WaitlistEntry, offer_words
from hms_desktop.services.backend import Backend
from hms_desktop.ui.calendar.booking import BookingDialog
from hms_desktop.ui.tasks import Tasks, friendly_message

# Selecting slot after slot with the arrows asks once the desk stops on one.
LOOK_DELAY_MS = 250
PRIORITY_WORDS = {0: "low", 1: "normal", 2: "high", 3: "urgent"}


class FillDialog(BookingDialog):
    """The booking window opened by F: the slot already held for the waiting patient; Enter
    confirms, which books it and marks their waitlist entry filled. Picking another patient
    here makes it an ordinary booking."""

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        slot: CalendarSlot,
        doctor_name: str,
        entry: WaitlistEntry,
        hold: Hold,
        patient: PatientRecord,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(backend, tasks, tz, slot, doctor_name, None, parent)
        self.entry = entry
        self.setWindowTitle("Fill from the waitlist")
        self.patient = patient
        self.search.box.setText(patient.full_name)
        if entry.note:
            self.symptoms.setPlaceholderText(f"Reason for the visit — waitlist note: {entry.note}")
        self._held(hold)

    def submit(self) -> None:
        if self.patient is None or self.patient.id != self.entry.patient_id:
            super().submit()
            return
        if self.hold is None or not self.confirm.isEnabled():
            return
        self.confirm.setEnabled(False)
        self.tasks.run(
            self.backend.fill_from_waitlist,
            self.entry.id,
            self.slot.slot.id,
            self.hold.token,
            AppointmentType(self.type.currentData()),
            self.symptoms.text().strip(),
            on_done=self._confirmed,
            on_error=self._failed,
        )


def _take(backend: Backend, entry: WaitlistEntry, slot_id: int) -> tuple[Hold, PatientRecord]:
    """On a worker: hold the slot for the waiting patient, and read their record."""
    hold = backend.take_waitlist_offer(entry.id, slot_id)
    return hold, backend.get_patient(entry.patient_id)


class WaitlistFill(QObject):
    """The calendar's waitlist offer (see the module's docstring). `look(item)` asks who
    waits for a free slot; `fill()` (F) takes the best match."""

    message = Signal(str)
    opened = Signal(object)  # the FillDialog

    def __init__(
        self,
        host: QWidget,
        grid: QWidget,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        doctor_name: Callable[[int], str],
    ) -> None:
        super().__init__(host)
        self.host, self.backend, self.tasks, self.tz = host, backend, tasks, tz
        self._doctor_name = doctor_name
        self.slot: CalendarSlot | None = None  # the slot offered
        self.entries: list[WaitlistEntry] = []
        self.dialog: FillDialog | None = None
        self._wanted: tuple[CalendarSlot, str] | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(LOOK_DELAY_MS)
        self._timer.timeout.connect(self._look_now)
        # F on the grid (where the desk is after a cancel): the grid would otherwise take it
        # as a search for a cell reading "F…" ("Free"), and a shortcut never sees it.
        grid.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_F
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            self.fill()
            return True
        return super().eventFilter(watched, event)

    def look(self, item: CalendarSlot | None, before: str = "", *, at_once: bool = False) -> None:
        """Ask who waits for this slot (if free); `before` is said first ("… cancelled.").
        No slot at all (the grid reloading) keeps the offer there is."""
        if item is None:
            return
        asked = self._wanted is not None and self._wanted[0].slot.id == item.slot.id
        if asked and item.state is SlotState.FREE and not before:
            return  # the same free slot shown again (a reload): asked already
        self.slot, self.entries = None, []
        if item.state is not SlotState.FREE:
            self._wanted = None
            self._timer.stop()
            return
        self._wanted = (item, before)
        if at_once:
            self._look_now()
        else:
            self._timer.start()

    def after_cancel(self, record: AppointmentRecord, said: str) -> None:
        """The slot a cancel freed is offered to the waitlist at once."""
        if record.status is not AppointmentStatus.CANCELLED or record.slot_id is None:
            return
        if record.start is None or record.duration is None:
            return
        slot = SlotInfo(record.slot_id, record.doctor_id, record.start, record.duration)
        self.look(CalendarSlot(slot, SlotState.FREE), said, at_once=True)

    def _look_now(self) -> None:
        if self._wanted is None:
            return
        item, before = self._wanted
        self.tasks.run(
            self.backend.waitlist_for_slot,
            item.slot.id,
            on_done=lambda entries: self._found(item, before, entries),
        )

    def _found(self, item: CalendarSlot, before: str, entries: list[WaitlistEntry]) -> None:
        if self._wanted is None or self._wanted[0].slot.id != item.slot.id:
            return  # the desk moved on meanwhile
        self.slot, self.entries = (item, entries) if entries else (None, [])
        if entries:
            best = entries[0]
            priority = PRIORITY_WORDS.get(int(best.priority), "")
            self.message.emit(
                f"{before} {offer_words(len(entries))} "
                f"(best: {best.patient_name}, {priority}).".strip()
            )

    def fill(self) -> None:
        """F: hold the offered slot for the best match and open the booking window."""
        if self.slot is None or not self.entries:
            self.message.emit("No one on the waitlist fits the selected slot.")
            return
        item, entry = self.slot, self.entries[0]
        self.slot, self.entries = None, []
        self.message.emit(f"Holding the slot for {entry.patient_name}…")
        self.tasks.run(
            _take,
            self.backend,
            entry,
            item.slot.id,
            on_done=lambda taken: self._open(item, entry, *taken),
            on_error=lambda error: self.message.emit(
                f"Could not fill from the waitlist: {friendly_message(error)}"
            ),
        )

    def _open(
        self, item: CalendarSlot, entry: WaitlistEntry, hold: Hold, patient: PatientRecord
    ) -> None:
        name = self._doctor_name(item.slot.doctor_id)
        dialog = FillDialog(
            self.backend, self.tasks, self.tz, item, name, entry, hold, patient, self.host
        )
        self.dialog = dialog
        dialog.open()
        self.opened.emit(dialog)
