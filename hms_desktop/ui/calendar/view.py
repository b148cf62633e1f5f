"""The booking calendar: day and week views for one doctor or a speciality side by side.

Slots are drawn free / held by this desk (with a countdown) / held by another desk /
booked / past. Click or Enter on a free slot books it; drag a booking onto a free slot to
move it. Changes on other desks arrive as events and redraw the calendar by themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import (
    STORE_BACK,
    AppointmentRecord,
    CalendarSlot,
    ChangeEvent,
    DoctorSummary,
    PatientRecord,
)
from hms_desktop.services.backend import Backend
from hms_desktop.ui.calendar.booking import BookingDialog
from hms_desktop.ui.calendar.cache import Fetch, Touch, Window, WindowCache, range_words
from hms_desktop.ui.calendar.controls import CalendarControls
from hms_desktop.ui.calendar.fill import FillDialog, WaitlistFill
from hms_desktop.ui.calendar.grid import CalendarTable
from hms_desktop.ui.calendar.model import CalendarModel, Column, utcnow
from hms_desktop.ui.common import (
    event_day,
    local_midnight,
)
from hms_desktop.ui.doctors import fill_combo
from hms_desktop.ui.tasks import Tasks

CONFIRM_DELAY_MS = 250
# A range that takes longer than this to load is announced, and the old one greyed.
STALE_AFTER_MS = 300


class CalendarView(CalendarControls):
    """The booking calendar with its filters, navigation and live updates."""

    message = Signal(str)
    loaded = Signal()

    def __init__(
        self,
        backend: Backend,
        tasks: Tasks,
        tz: ZoneInfo,
        parent: QWidget | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz, self.clock = backend, tasks, tz, clock
        self.patient: PatientRecord | None = None  # who the desk is booking for, if known
        self.anchor = clock().astimezone(tz).date()
        self.week = True
        self.dialog: QDialog | None = None
        self._doctors: list[DoctorSummary] = []
        self._wanted_doctor: int | None = None
        # A doctor's own calendar: their column only, and nothing to book or move.
        self._own_doctor: int | None = None
        self.take_over_box: QMessageBox | None = None
        # Windows already fetched (the neighbours of the shown one are fetched ahead).
        self._cache = WindowCache()
        self._window: Window | None = None  # what the desk asked to see
        self._shown: Window | None = None  # what the grid and its heading show
        self._columns: list[Column] = []
        self._to_now = False  # "Today" asked: scroll to today and the hour now once shown

        toolbar = self._build_toolbar()
        range_row = self._build_range_row()
        self.model = CalendarModel(tz, clock)
        self.table = CalendarTable(self)
        self.table.setModel(self.model)
        layout = QVBoxLayout(self)
        layout.addWidget(toolbar)
        layout.addLayout(range_row)
        layout.addWidget(self.table, 1)
        layout.addLayout(self._build_legend())
        self._connect_controls()
        self._start_timers()
        self._add_shortcuts()
        self._build_waitlist_offer()

    def _connect_controls(self) -> None:
        self.speciality.currentIndexChanged.connect(self._speciality_changed)
        self.doctor.currentIndexChanged.connect(lambda _i: self.reload())
        self.day_button.clicked.connect(lambda: self.set_week(False))
        self.week_button.clicked.connect(lambda: self.set_week(True))
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.today_button.clicked.connect(self.go_today)
        self.table.slot_activated.connect(self.activate)
        self.model.reschedule_dropped.connect(self.move_appointment)

    def _start_timers(self) -> None:
        # Every second: countdowns of holds, and a reload when one shown has run out.
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()
        # Change events come in bursts (hold, book, release): one reload for a burst.
        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(120)
        self._live.timeout.connect(self.reload)
        # A range still loading after a moment: grey the old one and say what is coming.
        self._stale = QTimer(self)
        self._stale.setSingleShot(True)
        self._stale.setInterval(STALE_AFTER_MS)
        self._stale.timeout.connect(lambda: self._set_stale(True))

    def _add_shortcuts(self) -> None:
        QShortcut(QKeySequence("Alt+Left"), self, lambda: self.step(-1))
        QShortcut(QKeySequence("Alt+Right"), self, lambda: self.step(1))
        QShortcut(QKeySequence("Alt+Home"), self, self.go_today)
        # Esc anywhere in the calendar: stop booking for the patient picked in Patients.
        stop = QShortcut(QKeySequence(Qt.Key.Key_Escape), self, lambda: self.set_patient(None))
        stop.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)

    # --- waitlist: a free slot offered to who waits for it (F to fill) -----------------------
    def _build_waitlist_offer(self) -> None:
        self.waitlist_fill = WaitlistFill(
            self, self.table, self.backend, self.tasks, self.tz, self._doctor_name
        )
        self.waitlist_fill.message.connect(self.message)
        self.waitlist_fill.opened.connect(self._fill_opened)
        self.table.selectionModel().currentChanged.connect(self._slot_selected)

    def _slot_selected(self, current: QModelIndex, previous: QModelIndex) -> None:
        # From no cell (a reload, the grid taking the focus) is not the desk moving on: the
        # offer of a slot just freed stays.
        if not self.read_only and previous.isValid():
            self.waitlist_fill.look(self.model.slot_at(current))

    def offer_freed(self, record: AppointmentRecord, said: str) -> None:
        if not self.read_only:
            self.waitlist_fill.after_cancel(record, said)
            if record.slot_id is not None and self.model.index_of(record.slot_id).isValid():
                self.table.setCurrentIndex(self.model.index_of(record.slot_id))

    def _fill_opened(self, dialog: FillDialog) -> None:
        dialog.booked.connect(self._booked)
        dialog.failed.connect(lambda _error: self.refresh_slot(dialog.slot))
        dialog.finished.connect(lambda _r: self._live.start())
        self.dialog = dialog

    # --- what is shown ---------------------------------------------------------------------
    def start(self) -> None:
        self.tasks.run(self.backend.specialisations, on_done=self._specialities, retry=True)

    def _specialities(self, items: list[Any]) -> None:
        fill_combo(self.speciality, items, "All specialities")
        self._speciality_changed()

    def _speciality_changed(self) -> None:
        self.tasks.run(
            self.backend.doctors,
            self.speciality.currentData(),
            on_done=self._doctors_in,
            retry=True,
        )

    def _doctors_in(self, doctors: list[DoctorSummary]) -> None:
        if self._own_doctor is not None:
            doctors = [doctor for doctor in doctors if doctor.id == self._own_doctor]
        self._doctors = doctors
        wanted, self._wanted_doctor = self._wanted_doctor, None
        self.doctor.blockSignals(True)
        self.doctor.clear()
        if self._own_doctor is None:
            self.doctor.addItem("All doctors side by side", None)
        for doctor in doctors:
            self.doctor.addItem(doctor.full_name, doctor.id)
        index = self.doctor.findData(wanted) if wanted is not None else -1
        if index < 0 and self._own_doctor is not None:
            index = 0
        elif index < 0:
            # A speciality is shown side by side; across all specialities, one doctor at a time.
            index = 0 if self.speciality.currentData() is not None or not doctors else 1
        self.doctor.setCurrentIndex(index)
        self.doctor.blockSignals(False)
        self.reload()

    def prefer_doctor(self, doctor_id: int) -> None:
        """Open on this doctor once the doctors are loaded."""
        self._wanted_doctor = doctor_id

    def keep_to_doctor(self, doctor_id: int) -> None:
        """A doctor's own calendar: only their column, to look at (the desk books)."""
        self._own_doctor = self._wanted_doctor = doctor_id
        self.speciality.setEnabled(False)
        self.doctor.setEnabled(False)

    @property
    def read_only(self) -> bool:
        return self._own_doctor is not None

    def show_doctor(self, doctor: DoctorSummary) -> None:
        if self._own_doctor is not None and doctor.id != self._own_doctor:
            self.message.emit("Your calendar shows your own appointments.")
            return
        self._wanted_doctor = doctor.id
        index = self.speciality.findData(None)
        if self.speciality.currentIndex() != index and index >= 0:
            self.speciality.setCurrentIndex(index)
        else:
            self._speciality_changed()

    def shown_doctors(self) -> list[DoctorSummary]:
        chosen = self.doctor.currentData()
        if chosen is None:
            return list(self._doctors)
        return [d for d in self._doctors if d.id == chosen]

    def days(self) -> list[date]:
        if not self.week:
            return [self.anchor]
        monday = self.anchor - timedelta(days=self.anchor.weekday())
        return [monday + timedelta(days=i) for i in range(7)]

    def set_week(self, week: bool) -> None:
        self.week = week
        (self.week_button if week else self.day_button).setChecked(True)
        self.reload()

    def step(self, direction: int) -> None:
        self.anchor += timedelta(days=7 * direction if self.week else direction)
        self.reload()

    def go_today(self) -> None:
        self.anchor = self.clock().astimezone(self.tz).date()
        self._to_now = True
        self.reload()

    def reload(self) -> None:
        """Show the chosen doctors and days: at once from the cache when it has them (then
        confirmed by a fresh fetch), else as soon as the backend answers."""
        doctors, days = self.shown_doctors(), self.days()
        if not doctors:
            self._window = self._shown = None
            self.model.set_slots([], [])
            self.range_label.setText(range_words(days[0], len(days)))
            self._set_stale(False)
            self.loaded.emit()
            return
        window = Window(tuple(d.id for d in doctors), days[0], len(days))
        self._window = window
        self._columns = [Column(day, doctor) for day in days for doctor in doctors]
        cached = self._cache.get(window)
        if cached is None:
            # The grid and its heading keep the range they show until this one arrives.
            if self._shown != window and not self._stale.isActive():
                self._stale.start()
            self._fetch(window, current=True)
            return
        self._show(cached)
        # Confirm the cached window once it is painted, so the refetch never delays that.
        QTimer.singleShot(CONFIRM_DELAY_MS, self, lambda: self._confirm(window))

    def _confirm(self, window: Window) -> None:
        if self._window == window:  # still shown
            self._fetch(window, current=True)

    def _fetch(self, window: Window, *, current: bool) -> None:
        fetch = self._cache.start_fetch(window)
        if fetch is None:
            return
        self.tasks.run(
            self.backend.calendar,
            list(window.doctor_ids),
            local_midnight(window.first_day, self.tz),
            local_midnight(window.end_day, self.tz),
            on_done=lambda slots: self._fetched(fetch, slots),
            on_error=lambda _error: self._fetch_failed(fetch),
            retry=current,
        )

    def _fetch_failed(self, fetch: Fetch) -> None:
        self._cache.fetch_failed(fetch)
        if fetch.window == self._window:
            self._stale.stop()
            self._set_stale(True, failed=True)

    def _fetched(self, fetch: Fetch, slots: list[CalendarSlot]) -> None:
        if not self._cache.store(fetch, slots):
            # Something changed while this was on its way: fetch the window again.
            if fetch.window == self._window:
                self._fetch(fetch.window, current=True)
            return
        if fetch.window == self._window:
            self._show(slots)
            for neighbour in self._cache.missing_neighbours(fetch.window):
                self._fetch(neighbour, current=False)

    def _set_stale(self, stale: bool, *, failed: bool = False) -> None:
        """Grey the grid while it shows another range than the one asked for."""
        waiting = self._window if stale and self._window != self._shown else None
        self.table.setEnabled(waiting is None)
        self.range_label.setEnabled(waiting is None)
        if waiting is not None:
            words = range_words(waiting.first_day, waiting.days)
            doing = "could not be loaded (F5 tries again)" if failed else "is loading"
            self.loading_label.setText(f"· {words} {doing}; these days are shown meanwhile")
        self.loading_label.setVisible(waiting is not None)

    def _show(self, slots: list[CalendarSlot]) -> None:
        columns = self._columns
        current = self.model.slot_at(self.table.currentIndex())
        moved, self._to_now = self._shown != self._window or self._to_now, False
        self._shown = self._window
        if self._shown is not None:
            self.range_label.setText(range_words(self._shown.first_day, self._shown.days))
        self._stale.stop()
        self._set_stale(False)
        now = self.clock().astimezone(self.tz)
        self.table.calendar_header().today = now.date()
        self.model.set_slots(columns, slots)
        self.table.fit_columns()
        if moved:  # a new range opens on today and the hour now, when it shows them
            shown_days = {column.day for column in columns}
            today = now.date() if now.date() in shown_days else None
            self.table.scroll_to_now(today, now.time())
        if current is not None:
            index = self.model.index_of(current.slot.id)
            if index.isValid():
                self.table.setCurrentIndex(index)
        self.loaded.emit()

    def _tick(self) -> None:
        if self.model.tick():
            self._cache.invalidate()
            self.reload()

    def on_change(self, event: ChangeEvent) -> None:
        """A change on any desk: forget the cached windows it touches (its doctor's, and
        of those the one with its slot or day), and reload the shown window only when it
        is one of them (coalesced). A resync forgets everything."""
        if event.doctor_id is None or event.kind == STORE_BACK:
            self._cache.invalidate()
            self._live.start()
            return
        shown = self._window
        shown_slots = self._cache.get(shown) if shown is not None else None
        changes = [
            Touch(
                event.doctor_id,
                frozenset({event.slot_id} if event.slot_id is not None else ()),
                event_day(event, self.tz),
            )
        ]
        if event.old_slot_id is not None:
            changes.append(Touch(None, frozenset({event.old_slot_id})))
        for change in changes:
            self._cache.touch(change)
        # (A shown window still on its way is fetched again when it arrives, if touched.)
        if shown is None or shown_slots is None:
            return
        if any(change.hits(shown, shown_slots) for change in changes):
            self._live.start()

    # --- acting on a slot ------------------------------------------------------------------
    def book(self, item: CalendarSlot) -> BookingDialog:
        dialog = super().book(item)
        # Another desk got there first (or the slot changed): show the slot as it is now.
        dialog.failed.connect(lambda _error: self.refresh_slot(item))
        return dialog

    def refresh_slot(self, item: CalendarSlot) -> None:
        """Fetch the shown window again now when it holds this slot (without waiting for
        the other desk's change event, which may be late or lost)."""
        day = item.slot.start.astimezone(self.tz).date()
        self._cache.touch(Touch(item.slot.doctor_id, frozenset({item.slot.id}), day))
        if self._window is not None and item.slot.doctor_id in self._window.doctor_ids:
            self._fetch(self._window, current=True)
