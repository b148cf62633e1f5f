"""Reports: booked, attended, no-show and cancelled counts and rates, utilisation, lead and
waiting times over a range of days, per doctor or per speciality; a bar chart of one
figure; "Export CSV…", "Save PDF…" and "Print…" (Ctrl+P). The figures come from the
backend (counted by the database); files and printing run off the GUI thread. The figures
shown follow the desks' changes (bookings, moves, cancellations, statuses, hours and
leave), counted again at most once every few seconds however busy the clinic is."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import ChangeEvent
from hms_desktop.domain.reports import Report, ReportGroup, ReportRow, report_csv
from hms_desktop.services.backend import Backend
from hms_desktop.ui import theme
from hms_desktop.ui.admin.report_chart import BarChart
from hms_desktop.ui.admin.report_output import (
    COLUMNS,
    print_page,
    report_html,
    report_title,
    write_pdf,
    write_text,
)
from hms_desktop.ui.common import (
    RecordTableModel,
    documents_folder,
    event_day,
    primary,
    record_table,
)
from hms_desktop.ui.fields import FieldErrors
from hms_desktop.ui.tasks import Tasks

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

DEFAULT_DAYS = 30
# However many changes arrive, the shown report is counted again at most this often: a
# busy clinic books every few seconds, and a year's report is a few hundred milliseconds
# of the database's time.
LIVE_REFRESH_MS = 5_000
# Changes that alter the figures: bookings and their moves, cancellations and statuses;
# slots, hours and leave (the minutes offered); a doctor's name or speciality.
REPORT_EVENTS = frozenset(
    {"book", "reschedule", "assign", "cancel", "decline", "status", "update", "schedule"}
    | {"doctors"}
)
# The figures the chart can show: (title, the row's value, the bars' colour).
CHART_FIGURES: list[tuple[str, Callable[[ReportRow], float | None], QColor]] = [
    ("No-show rate", lambda r: r.no_show_rate, QColor(200, 70, 60)),
    ("Utilisation", lambda r: r.utilisation, QColor(52, 120, 200)),
    ("Cancelled rate", lambda r: r.cancelled_rate, QColor(150, 110, 40)),
    ("Attended rate", lambda r: r.attended_rate, QColor(60, 150, 80)),
]


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(edit: QDateEdit) -> date:
    picked = edit.date()
    return date(picked.year(), picked.month(), picked.day())


def _ask_printer(parent: QWidget) -> QPrinter | None:
    """The system's print dialog (its module loaded only when someone prints)."""
    from PySide6.QtPrintSupport import QPrintDialog, QPrinter

    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    dialog = QPrintDialog(printer, parent)
    return printer if dialog.exec() == QPrintDialog.DialogCode.Accepted else None


class ReportsPage(QWidget):
    """The range and grouping on top, the chart and the table below, the exports last."""

    message = Signal(str)

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.report: Report | None = None
        # Where the files and the print go; a test (or a script) can answer without the
        # file chooser or the print dialog.
        self.choose_csv: Callable[[], str] = lambda: self._ask("CSV files (*.csv)", "csv")
        self.choose_pdf: Callable[[], str] = lambda: self._ask("PDF files (*.pdf)", "pdf")
        self.choose_printer: Callable[[], QPrinter | None] = lambda: _ask_printer(self)
        self._asked = 0  # the latest report asked for: an older answer is not shown
        self._answered = 0  # the latest answered (the others are still being counted)
        self._stale = False  # changed while hidden or while counting: count again
        self.errors = FieldErrors(self)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        layout.addWidget(self.errors.form)
        layout.addWidget(self._build_chart_and_table(), 1)
        layout.addLayout(self._build_footer())
        self._build_live_refresh()

    def _build_chart_and_table(self) -> QSplitter:
        """The chart (a bar a row, as tall as its rows: it scrolls when the window is
        shorter, at 1024x640 it overlapped the table) above the table; the desk moves the
        line between them."""
        self.chart = BarChart(self)
        chart_area = QScrollArea(self)
        chart_area.setWidget(self.chart)
        chart_area.setWidgetResizable(True)
        chart_area.setFrameShape(QFrame.Shape.NoFrame)
        split = QSplitter(Qt.Orientation.Vertical, self)
        split.addWidget(chart_area)
        split.addWidget(self._build_table())
        split.setChildrenCollapsible(False)
        # The chart and the table share the height evenly (their size hints would give the
        # table nearly all of it); equal sizes are scaled to the height the split gets.
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([1000, 1000])
        return split

    def _build_controls(self) -> QHBoxLayout:
        today = datetime.now(self.tz).date()
        self.first = QDateEdit(_qdate(today - timedelta(days=DEFAULT_DAYS - 1)), self)
        self.last = QDateEdit(_qdate(today), self)
        for edit in (self.first, self.last):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.group = QComboBox(self)
        self.group.addItem("Per doctor", ReportGroup.DOCTOR)
        self.group.addItem("Per speciality", ReportGroup.SPECIALITY)
        self.group.currentIndexChanged.connect(self.reload)
        self.figure = QComboBox(self)
        for title, _, _ in CHART_FIGURES:
            self.figure.addItem(title)
        self.figure.currentIndexChanged.connect(self._draw_chart)
        self.show_button = primary(QPushButton("&Show", self))
        self.show_button.clicked.connect(self.reload)
        row = QHBoxLayout()
        for label, widget in (("&From", self.first), ("&To", self.last)):
            caption = QLabel(label, self)
            caption.setBuddy(widget)
            row.addWidget(caption)
            row.addWidget(widget)
        row.addWidget(self.errors.wrap("last", self.group))
        row.addWidget(QLabel("Chart:", self))
        row.addWidget(self.figure)
        row.addStretch(1)
        row.addWidget(self.show_button)
        return row

    def _build_table(self) -> QWidget:
        self.model = RecordTableModel(COLUMNS, self)
        self.table = record_table(self.model, self, stretch=0)
        return self.table

    def _build_footer(self) -> QHBoxLayout:
        self.summary = QLabel("", self)
        self.csv_button = QPushButton("&Export CSV…", self)
        self.csv_button.clicked.connect(self.export_csv)
        self.pdf_button = QPushButton(theme.icon("pdf"), "Save &PDF…", self)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.print_button = QPushButton(theme.icon("print"), "P&rint…", self)
        self.print_button.setToolTip("Print the chart and the table (Ctrl+P)")
        self.print_button.clicked.connect(self.print_report)
        QShortcut(QKeySequence.StandardKey.Print, self, self.print_report)
        self.output_buttons = (self.csv_button, self.pdf_button, self.print_button)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        for button in self.output_buttons:
            row.addWidget(button)
        return row

    def _build_live_refresh(self) -> None:
        self.live_timer = QTimer(self)
        self.live_timer.setSingleShot(True)
        # A coarse timer (Qt's default) may fire up to 5% early: the interval is a promise.
        self.live_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.live_timer.setInterval(LIVE_REFRESH_MS)
        self.live_timer.timeout.connect(self._refresh_shown)

    # --- loading ------------------------------------------------------------------------------
    def start(self) -> None:
        self.reload()

    def reload(self) -> None:
        """The range and grouping as chosen ("Show", F5, another grouping)."""
        self.errors.clear()
        first, last = _day(self.first), _day(self.last)
        if last < first:
            self.errors.show("The last day is before the first.", "last")
            return
        self.show_button.setEnabled(False)
        self._ask_report(first, last, ReportGroup(self.group.currentData()))

    def _ask_report(self, first: date, last: date, group: ReportGroup) -> None:
        self._asked += 1
        asked = self._asked
        self.tasks.run(
            self.backend.report,
            first,
            last,
            group,
            on_done=lambda report: self._show(asked, report),
            on_error=lambda error: self._failed(asked, error),
        )

    def on_change(self, event: ChangeEvent) -> None:
        """Another desk (or this one) changed what the shown figures count: count them
        again, once, a few seconds after the first of a burst of changes (the timer is not
        restarted by the next ones, so a clinic that never stops still sees fresh figures)."""
        if self.report is None or not self._affects(event):
            return
        if not self.live_timer.isActive():
            self.live_timer.start()

    def _affects(self, event: ChangeEvent) -> bool:
        if event.kind not in REPORT_EVENTS:
            return False
        day = event_day(event, self.tz)
        # A move also changes its old day, which the event does not name.
        if day is None or event.old_slot_id is not None or self.report is None:
            return True
        return self.report.first <= day <= self.report.last

    def _refresh_shown(self) -> None:
        """The report on show, counted again (not the range being typed, not yet shown)."""
        if self.report is None:
            return
        if not self.isVisible() or self._counting():
            self._stale = True  # when shown again, or when the count under way is in
            return
        self._stale = False
        self._ask_report(self.report.first, self.report.last, self.report.group)

    def _counting(self) -> bool:
        return self._answered < self._asked

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale and not self.live_timer.isActive():
            self.live_timer.start()

    def _show(self, asked: int, report: Report) -> None:
        self._answered = max(self._answered, asked)
        if asked != self._asked:
            return  # a newer report was asked for meanwhile
        self.show_button.setEnabled(True)
        self.report = report
        self.model.set_rows(report.rows)
        self._draw_chart()
        booked = sum(row.booked for row in report.rows)
        self.summary.setText(
            f"{report.first.isoformat()} to {report.last.isoformat()}: "
            f"{len(report.rows)} rows, {booked} booked"
        )
        if self._stale and not self.live_timer.isActive():
            self.live_timer.start()

    def _failed(self, asked: int, error: Exception) -> None:
        self._answered = max(self._answered, asked)
        if asked != self._asked:
            return
        self.show_button.setEnabled(True)
        self.errors.show_error(error)

    def _draw_chart(self) -> None:
        _, value, colour = CHART_FIGURES[max(self.figure.currentIndex(), 0)]
        rows = self.report.rows if self.report else []
        self.chart.set_bars([(row.name, value(row)) for row in rows], colour)

    # --- files and printing -------------------------------------------------------------------
    def _ask(self, kinds: str, suffix: str) -> str:
        name = f"report-{_day(self.first).isoformat()}-{_day(self.last).isoformat()}.{suffix}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the report", str(documents_folder() / name), kinds
        )
        return path

    def export_csv(self) -> None:
        if self.report is None:
            return
        path = self.choose_csv()
        if path:
            self._write("Saved", write_text, path, report_csv(self.report))

    def save_pdf(self) -> None:
        if self.report is None:
            return
        path = self.choose_pdf()
        if path:
            page = report_html(self.report, report_title(self.report))
            self._write("Saved", write_pdf, path, page, self.chart.image())

    def print_report(self) -> None:
        """The same page as the PDF, on the printer chosen in the print dialog."""
        if self.report is None or not self.print_button.isEnabled():
            return
        printer = self.choose_printer()
        if printer is not None:
            page = report_html(self.report, report_title(self.report))
            self._write("Printed", print_page, printer, page, self.chart.image())

    def _write(self, done: str, call: Callable[..., str], *args: object) -> None:
        """`call(*args)` off the GUI thread; it answers where the report went."""
        for button in self.output_buttons:
            button.setEnabled(False)
        self.tasks.run(
            call,
            *args,
            on_done=lambda target: self._written(done, target),
            on_error=self._write_failed,
        )

    def _written(self, done: str, target: str) -> None:
        for button in self.output_buttons:
            button.setEnabled(True)
        self.message.emit(f"{done} the report to {target}.")
        self.summary.setText(f"{done} to {Path(target).name}.")

    def _write_failed(self, error: Exception) -> None:
        for button in self.output_buttons:
            button.setEnabled(True)
        if isinstance(error, OSError):
            self.errors.show(f"Could not write the file: {error.strerror or error}.")
        else:
            self.errors.show_error(error)
