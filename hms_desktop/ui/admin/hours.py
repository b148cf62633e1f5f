"""Weekly hours (admin): a doctor's windows for each weekday with their slot lengths, a
preview of the slots they make over the next weeks and of the booked appointments they would
leave outside. Saving never removes a booked or held slot; what falls outside is listed for
the desk to move."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.errors import ValidationError
from hms_desktop.domain.models import (
    AppointmentRecord,
    ChangeEvent,
    DoctorDetails,
    DoctorSummary,
    HoursSaved,
    WorkingHours,
)
from hms_desktop.domain.schedule import HoursProblem, hours_problems, slot_starts
from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.hours_rows import WindowsEditor
from hms_desktop.ui.common import (
    STATUS_WORDS,
    ErrorLabel,
    RecordTableModel,
    button_row,
    fmt_datetime,
    fmt_hours,
    primary,
    record_table,
    two_panes,
)
from hms_desktop.ui.tasks import Tasks, friendly_message

PREVIEW_DAYS = 28
# Changes on any desk that alter which of this doctor's appointments are booked.
BOOKING_EVENTS = {"book", "reschedule", "cancel", "status", "request", "schedule"}


@dataclass(frozen=True)
class PreviewDay:
    day: date
    windows: str
    slots: int


def preview(
    windows: Sequence[WorkingHours], first_day: date, tz: ZoneInfo, after: datetime
) -> tuple[list[PreviewDay], set[tuple[datetime, int]]]:
    """What the windows make over the next weeks: per day with slots, and every slot."""
    by_day: dict[date, int] = {}
    made: set[tuple[datetime, int]] = set()
    for start, minutes in slot_starts(windows, first_day, PREVIEW_DAYS, tz):
        if start > after:
            made.add((start, minutes))
            day = start.astimezone(tz).date()
            by_day[day] = by_day.get(day, 0) + 1
    days = []
    for day, count in sorted(by_day.items()):
        spans = sorted(
            (w.start, w.end, w.slot_minutes) for w in windows if w.weekday == day.weekday()
        )
        text = ", ".join(f"{fmt_hours(s, e)} every {m} min" for s, e, m in spans)
        days.append(PreviewDay(day, text, count))
    return days, made


class HoursPage(QWidget):
    """Pick a doctor, edit their week, see what it makes, save."""

    message = Signal(str)
    loaded = Signal()
    saved = Signal(object)  # HoursSaved

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self._loaded_windows: list[WorkingHours] = []
        self._booked: list[AppointmentRecord] = []
        self._tried = False  # after a refused save, problems follow every edit
        left, right = QWidget(self), QWidget(self)
        self._build_toolbar(left)
        self._build_editor(left)
        self._build_preview(right)
        two_panes(self, left, right, (520, 480))

    # --- building ----------------------------------------------------------------------------
    def _build_toolbar(self, pane: QWidget) -> None:
        self.doctor = QComboBox(pane)
        self.doctor.setMinimumWidth(260)
        self.doctor.currentIndexChanged.connect(self._load_doctor)
        label = QLabel("&Doctor", pane)
        label.setBuddy(self.doctor)
        self.toolbar = QHBoxLayout()
        self.toolbar.addWidget(label)
        self.toolbar.addWidget(self.doctor, 1)

    def _build_editor(self, pane: QWidget) -> None:
        box = QGroupBox("Weekly hours (the clinic's local time)", pane)
        self.editor = WindowsEditor(box)
        self.editor.changed.connect(self._edited)
        scroll = QScrollArea(box)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.editor)
        self.add_button = QPushButton("&Add window", box)
        self.add_button.clicked.connect(self.editor.add_window)
        self.revert_button = QPushButton("&Revert", box)
        self.revert_button.clicked.connect(lambda: self.editor.set_windows(self._loaded_windows))
        self.save_button = primary(QPushButton("&Save hours", box))
        self.save_button.clicked.connect(self.save)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)
        self.form_error = ErrorLabel(box, name="FormError")
        box_layout = QVBoxLayout(box)
        box_layout.addWidget(scroll, 1)
        box_layout.addWidget(self.form_error)
        box_layout.addLayout(button_row(self.add_button, self.revert_button, self.save_button))
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self.toolbar)
        layout.addWidget(box, 1)

    def _build_preview(self, pane: QWidget) -> None:
        self.summary = QLabel(pane)
        self.summary.setWordWrap(True)
        self.days = RecordTableModel(
            [
                ("Day", lambda d: d.day.strftime("%a %d %b")),
                ("Hours", lambda d: d.windows),
                ("Slots", lambda d: str(d.slots)),
            ],
            pane,
        )
        self.days_view = record_table(self.days, pane, stretch=1)
        self.outside_title = QLabel(pane)
        self.outside_title.setWordWrap(True)
        self.outside = RecordTableModel(
            [
                ("When", lambda a: fmt_datetime(a.start, self.tz)),
                ("Patient", lambda a: a.patient_name),
                ("Length", lambda a: f"{a.duration} min"),
                ("Status", lambda a: STATUS_WORDS[a.status]),
            ],
            pane,
        )
        self.outside_view = record_table(self.outside, pane, stretch=1)
        self.outside_view.setMaximumHeight(180)
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.days_view, 3)
        layout.addWidget(self.outside_title)
        layout.addWidget(self.outside_view, 1)

    # --- loading -----------------------------------------------------------------------------
    def start(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.tasks.run(self.backend.doctors, on_done=self._show_doctors)

    def _show_doctors(self, doctors: list[DoctorSummary]) -> None:
        current = self.doctor.currentData()
        self.doctor.blockSignals(True)
        self.doctor.clear()
        for summary in doctors:
            self.doctor.addItem(summary.full_name, summary.id)
        found = self.doctor.findData(current)
        self.doctor.setCurrentIndex(max(found, 0))
        self.doctor.blockSignals(False)
        self._load_doctor()

    def doctor_id(self) -> int | None:
        value = self.doctor.currentData()
        return int(value) if value is not None else None

    def _load_doctor(self) -> None:
        doctor_id = self.doctor_id()
        if doctor_id is not None:
            self.tasks.run(self._read, doctor_id, on_done=self._show_doctor)

    def _read(self, doctor_id: int) -> tuple[DoctorDetails, list[AppointmentRecord]]:
        """On a pool thread: the doctor's hours and their upcoming booked appointments."""
        return self.backend.doctor_details(doctor_id), self._read_booked(doctor_id)

    def _read_booked(self, doctor_id: int) -> list[AppointmentRecord]:
        now = datetime.now(UTC)
        slots = self.backend.calendar([doctor_id], now, now + timedelta(days=PREVIEW_DAYS + 1))
        return [entry.appointment for entry in slots if entry.appointment is not None]

    def _show_doctor(self, answer: tuple[DoctorDetails, list[AppointmentRecord]]) -> None:
        details, booked = answer
        if details.summary.id != self.doctor_id():
            return  # the desk picked another doctor meanwhile
        self._tried = False
        self.form_error.show_message("")
        self._loaded_windows = list(details.working_hours)
        self._booked = booked
        self.editor.set_windows(self._loaded_windows)
        self.loaded.emit()

    def _show_booked(self, answer: tuple[int, list[AppointmentRecord]]) -> None:
        doctor_id, booked = answer
        if doctor_id == self.doctor_id():
            self._booked = booked
            self._edited()

    def outside_candidates(self) -> list[AppointmentRecord]:
        """The doctor's upcoming booked appointments (what the preview checks)."""
        return list(self._booked)

    def on_change(self, event: ChangeEvent) -> None:
        """Another desk booked or moved one of this doctor's appointments: the list of those
        outside the hours follows (the windows being edited stay as they are)."""
        doctor_id = self.doctor_id()
        if event.kind in BOOKING_EVENTS and event.doctor_id == doctor_id is not None:
            self.tasks.run(
                lambda: (doctor_id, self._read_booked(doctor_id)), on_done=self._show_booked
            )

    # --- preview and saving ------------------------------------------------------------------
    def _edited(self) -> None:
        windows = self.editor.windows()
        problems = hours_problems(windows)
        if self._tried:
            self.editor.show_problems(problems)
        wrong = {problem.index for problem in problems}
        good = [window for index, window in enumerate(windows) if index not in wrong]
        now = datetime.now(UTC)
        days, made = preview(good, now.astimezone(self.tz).date(), self.tz, now)
        self.days.set_rows(days)
        weekly = sum(d.slots for d in days) * 7 / PREVIEW_DAYS
        self.summary.setText(
            f"<b>{sum(d.slots for d in days)} slots</b> over the next {PREVIEW_DAYS // 7} weeks "
            f"(about {weekly:.0f} a week)"
            + (f"; {len(wrong)} window(s) need fixing first." if wrong else ".")
        )
        outside = [a for a in self._booked if (a.start, a.duration) not in made]
        self._show_outside(outside, saved=False)

    def _show_outside(self, outside: Sequence[AppointmentRecord], *, saved: bool) -> None:
        self.outside.set_rows(outside)
        if not outside:
            self.outside_title.setText("No booked appointment falls outside these hours.")
        elif saved:
            self.outside_title.setText(
                f"<b>{len(outside)} booked appointment(s) are now outside the hours.</b> "
                "They were kept; move them in the calendar."
            )
        else:
            self.outside_title.setText(
                f"<b>{len(outside)} booked appointment(s) would fall outside these hours</b> "
                "(they are kept, for the desk to move):"
            )

    def save(self) -> None:
        doctor_id = self.doctor_id()
        windows = self.editor.windows()
        problems = hours_problems(windows)
        self._tried = True
        self.editor.show_problems(problems)
        if problems:
            self.form_error.show_message("Nothing saved: fix the marked windows first.")
            return
        if doctor_id is None:
            return
        self.form_error.show_message("")
        self.save_button.setEnabled(False)
        self.tasks.run(
            self.backend.set_working_hours,
            doctor_id,
            windows,
            on_done=self._saved,
            on_error=self._failed,
        )

    def _saved(self, saved: HoursSaved) -> None:
        self.save_button.setEnabled(True)
        self._tried = False
        self._loaded_windows = self.editor.windows()
        kept = f" {saved.kept_held} held slot(s) kept for their holders." if saved.kept_held else ""
        self.message.emit(
            f"Hours saved: {saved.slots} slots in the booking horizon.{kept}"
            + (f" {len(saved.outside)} booking(s) now outside the hours." if saved.outside else "")
        )
        self._show_outside(saved.outside, saved=True)
        self.saved.emit(saved)

    def _failed(self, error: Exception) -> None:
        self.save_button.setEnabled(True)
        field = getattr(error, "field", None) or ""
        parts = field.split(".")
        if isinstance(error, ValidationError) and len(parts) == 3 and parts[1].isdigit():
            self.editor.show_problems([HoursProblem(int(parts[1]), parts[2], error.message)])
            self.form_error.show_message("Nothing saved: fix the marked window first.")
        else:
            self.form_error.show_message(f"Nothing saved: {friendly_message(error)}")
