"""What a click on the calendar does: book a free slot, open a booking, offer to take over
another desk's hold, move a booking dropped on a free slot. A mixin of `CalendarView`, kept
apart so the view's module stays about showing the calendar."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt, QTimer, SignalInstance
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from hms_desktop.domain.errors import SlotAlreadyBooked, SlotBlocked, SlotInPast, SlotLocked
from hms_desktop.domain.models import (
    AppointmentRecord,
    CalendarSlot,
    DoctorSummary,
    PatientRecord,
    SlotState,
)
from hms_desktop.services.backend import Backend
from hms_desktop.ui.calendar.appointment import AppointmentDialog
from hms_desktop.ui.calendar.booking import BookingDialog
from hms_desktop.ui.calendar.cache import WindowCache
from hms_desktop.ui.calendar.grid import CalendarTable
from hms_desktop.ui.calendar.model import CalendarModel, holder_words
from hms_desktop.ui.calendar.undo import Move, UndoMove, moved_words
from hms_desktop.ui.common import STATUS_WORDS, fmt_datetime
from hms_desktop.ui.tasks import Tasks, friendly_message


class SlotActions(QWidget):
    """The calendar's answers to a click, an Enter or a drop (see the module's docstring)."""

    # Provided by `CalendarView`.
    backend: Backend
    tasks: Tasks
    tz: ZoneInfo
    message: SignalInstance
    patient: PatientRecord | None
    dialog: QDialog | None
    take_over_box: QMessageBox | None
    _doctors: list[DoctorSummary]
    _cache: WindowCache
    _live: QTimer
    model: CalendarModel
    table: CalendarTable
    _undo_offer: UndoMove | None = None  # made with the first move

    @property
    def read_only(self) -> bool:
        raise NotImplementedError

    def set_patient(self, patient: PatientRecord | None) -> None:
        raise NotImplementedError

    def _doctor_name(self, doctor_id: int) -> str:
        return next((d.full_name for d in self._doctors if d.id == doctor_id), "")

    def activate(self, item: CalendarSlot) -> None:
        if item.state is SlotState.BOOKED and item.appointment is not None:
            self.open_appointment(item.appointment)
        elif self.read_only and item.state in (SlotState.FREE, SlotState.HELD):
            self.message.emit("Appointments are booked at the front desk.")
        elif item.state is SlotState.FREE:
            self.book(item)
        elif item.state is SlotState.HELD:
            self.ask_take_over(item)
        elif item.state is SlotState.HELD_BY_ME:
            self.message.emit("You are holding this slot in an open booking window.")
        elif item.state is SlotState.BLOCKED:
            self.message.emit(f"Not bookable: {item.note or 'blocked time'}.")
        else:
            self.message.emit("This slot is in the past.")

    def book(self, item: CalendarSlot) -> BookingDialog:
        dialog = BookingDialog(
            self.backend,
            self.tasks,
            self.tz,
            item,
            self._doctor_name(item.slot.doctor_id),
            self.patient,
            self,
        )
        dialog.booked.connect(self._booked)
        dialog.finished.connect(lambda _r: self._live.start())
        self.dialog = dialog
        dialog.open()
        return dialog

    def _booked(self, record: AppointmentRecord) -> None:
        self.message.emit(
            f"Booked {record.patient_name} with {record.doctor_name} on "
            f"{fmt_datetime(record.start, self.tz)}."
        )
        self.set_patient(None)

    def ask_take_over(self, item: CalendarSlot) -> QMessageBox:
        """Another desk holds the slot: pick another, or release their hold (recorded in the
        audit log) when the patient is here now or the other desk has gone."""
        holder = holder_words(item.hold) or "Someone"
        desk = "another desk"
        if item.hold and item.hold.desk:
            desk += f" ({item.hold.desk})"
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Slot held at another desk",
            f"{holder} is booking this slot at {desk}. Release their hold so you can "
            "book it? Their booking window can then no longer confirm it; the release is "
            "recorded in the audit log.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.button(QMessageBox.StandardButton.Yes).setText("Release their hold")
        box.button(QMessageBox.StandardButton.No).setText("Pick another slot")
        box.accepted.connect(lambda: self._take_over(item.slot.id))
        self.take_over_box = box
        box.open()
        return box

    def _take_over(self, slot_id: int) -> None:
        self.tasks.run(
            self.backend.take_over_hold,
            slot_id,
            on_done=lambda released: self._taken_over(bool(released)),
            on_error=lambda error: self.message.emit(friendly_message(error)),
        )

    def _taken_over(self, released: bool) -> None:
        self.message.emit(
            "The other desk's hold is released: the slot is free to book."
            if released
            else "That hold had already ended: the slot is free to book."
        )
        self._cache.invalidate()
        self._live.start()

    def open_appointment(self, appointment: AppointmentRecord) -> AppointmentDialog:
        dialog = AppointmentDialog(
            self.backend, self.tasks, self.tz, appointment, self, read_only=self.read_only
        )
        dialog.changed.connect(self._changed)
        dialog.moved.connect(lambda record: self._moved(record, appointment))
        self.dialog = dialog
        dialog.open()
        return dialog

    def _changed(self, record: AppointmentRecord) -> None:
        word = STATUS_WORDS[record.status].lower()
        said = f"{record.patient_name}'s appointment is {word}."
        self.message.emit(said)
        self.offer_freed(record, said)  # waitlist: who waits for the freed slot
        self._cache.invalidate()
        self._live.start()

    def offer_freed(self, record: AppointmentRecord, said: str) -> None:
        raise NotImplementedError

    def move_appointment(self, appointment_id: int, slot_id: int) -> None:
        """A booking dropped on a free slot: move it, say where to, and offer it back."""
        if self.read_only:
            self.message.emit("Appointments are moved at the front desk.")
            return
        before = next(
            (
                item.appointment
                for item in self.model.slots()
                if item.appointment is not None and item.appointment.id == appointment_id
            ),
            None,
        )
        self.tasks.run(
            self.backend.reschedule,
            appointment_id,
            slot_id,
            on_done=lambda record: self._moved(record, before),
            on_error=lambda error: self.message.emit(friendly_message(error)),
        )

    @property
    def undo_offer(self) -> UndoMove:
        if self._undo_offer is None:
            self._undo_offer = UndoMove(self, self.table, self._put_back)
        return self._undo_offer

    def _moved(self, record: AppointmentRecord, before: AppointmentRecord | None) -> None:
        where = moved_words(record, self.tz)
        if before is None or before.slot_id is None:
            self.message.emit(f"Moved {record.patient_name} to {where}.")
        else:
            self.message.emit(f"Moved {record.patient_name} to {where}. Undo: Ctrl+Z.")
            old = moved_words(before, self.tz)
            self.undo_offer.offer(Move(record.id, record.patient_name, before.slot_id, old, where))
        self._cache.invalidate()
        self._live.start()

    def _put_back(self, move: Move) -> None:
        self.tasks.run(
            self.backend.reschedule,
            move.appointment_id,
            move.old_slot_id,
            on_done=lambda record: self._put_back_done(record, move),
            on_error=lambda error: self._put_back_failed(error, move),
        )

    def _put_back_done(self, record: AppointmentRecord, move: Move) -> None:
        self.message.emit(f"Moved {record.patient_name} back to {move.old_words}.")
        self._cache.invalidate()
        self._live.start()

    def _put_back_failed(self, error: Exception, move: Move) -> None:
        if isinstance(error, SlotAlreadyBooked | SlotLocked | SlotBlocked | SlotInPast):
            why = error.message.rstrip(".").lower()
            self.message.emit(
                f"Cannot undo: {move.old_words} is no longer free ({why}). "
                f"{move.patient_name} stays at {move.new_words}."
            )
        else:
            self.message.emit(f"Cannot undo: {friendly_message(error)}")
        self._cache.invalidate()
        self._live.start()
