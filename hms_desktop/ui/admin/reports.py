"""Reports: booked, attended, no-show and cancelled counts and rates, utilisation, lead and
waiting times over a range of days, per doctor or per speciality; a bar chart of one
figure; "Export CSV…" and "Save PDF…". The figures come from the backend (counted by the
database); files are written off the GUI thread."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QColor, QImage, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hms_desktop.domain.models import ChangeEvent
from hms_desktop.domain.reports import Report, ReportGroup, ReportRow, report_csv
from hms_desktop.services.backend import Backend
from hms_desktop.ui.admin.report_chart import BarChart
from hms_desktop.ui.common import RecordTableModel, documents_folder, primary, record_table
from hms_desktop.ui.fields import FieldErrors
from hms_desktop.ui.tasks import Tasks

DEFAULT_DAYS = 30
# The figures the chart can show: (title, the row's value, the bars' colour).
CHART_FIGURES: list[tuple[str, Callable[[ReportRow], float | None], QColor]] = [
    ("No-show rate", lambda r: r.no_show_rate, QColor(200, 70, 60)),
    ("Utilisation", lambda r: r.utilisation, QColor(52, 120, 200)),
    ("Cancelled rate", lambda r: r.cancelled_rate, QColor(150, 110, 40)),
    ("Attended rate", lambda r: r.attended_rate, QColor(60, 150, 80)),
]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def hours(minutes: float | None) -> str:
    return "—" if minutes is None else f"{minutes / 60:.1f} h"


def minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} min"


COLUMNS: list[tuple[str, Callable[[ReportRow], object]]] = [
    ("Name", lambda r: r.name),
    ("Booked", lambda r: r.booked),
    ("Attended", lambda r: r.attended),
    ("No-show", lambda r: r.no_show),
    ("Cancelled", lambda r: r.cancelled),
    ("Pending", lambda r: r.pending),
    ("Attended %", lambda r: percent(r.attended_rate)),
    ("No-show %", lambda r: percent(r.no_show_rate)),
    ("Cancelled %", lambda r: percent(r.cancelled_rate)),
    ("Utilisation", lambda r: percent(r.utilisation)),
    ("Lead time", lambda r: hours(r.avg_lead_minutes)),
    ("Wait", lambda r: minutes(r.avg_wait_minutes)),
]


def write_text(path: str, text: str) -> str:
    Path(path).write_text(text, encoding="utf-8", newline="")
    return path


def report_html(report: Report, title: str) -> str:
    """The report as a table for the PDF (the chart's picture goes above it)."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell(row)))}</td>" for _, cell in COLUMNS) + "</tr>"
        for row in report.rows
    )
    return (
        f"<h2>{html.escape(title)}</h2><p><img src='chart.png'></p>"
        f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{body}</table>"
    )


def write_pdf(path: str, page_html: str, chart: QImage) -> str:
    """Off the GUI thread: QTextDocument, QImage and QPdfWriter are reentrant."""
    document = QTextDocument()
    document.addResource(QTextDocument.ResourceType.ImageResource, "chart.png", chart)
    document.setHtml(page_html)
    writer = QPdfWriter(path)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(96)
    document.setPageSize(writer.pageLayout().paintRectPixels(96).size().toSizeF())
    document.print_(writer)
    return path


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(edit: QDateEdit) -> date:
    picked = edit.date()
    return date(picked.year(), picked.month(), picked.day())


class ReportsPage(QWidget):
    """The range and grouping on top, the chart and the table below, the exports last."""

    message = Signal(str)

    def __init__(
        self, backend: Backend, tasks: Tasks, tz: ZoneInfo, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.backend, self.tasks, self.tz = backend, tasks, tz
        self.report: Report | None = None
        # Where the files go; a test (or a script) can answer without the file chooser.
        self.choose_csv: Callable[[], str] = lambda: self._ask("CSV files (*.csv)", "csv")
        self.choose_pdf: Callable[[], str] = lambda: self._ask("PDF files (*.pdf)", "pdf")
        self.errors = FieldErrors(self)
        layout = QVBoxLayout(self)
        layout.addLayout(self._build_controls())
        layout.addWidget(self.errors.form)
        self.chart = BarChart(self)
        layout.addWidget(self.chart)
        layout.addWidget(self._build_table(), 1)
        layout.addLayout(self._build_footer())

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
        self.pdf_button = QPushButton("Save &PDF…", self)
        self.pdf_button.clicked.connect(self.save_pdf)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.csv_button)
        row.addWidget(self.pdf_button)
        return row

    # --- loading ------------------------------------------------------------------------------
    def start(self) -> None:
        self.reload()

    def on_change(self, event: ChangeEvent) -> None:
        """Figures over weeks are not redrawn for every booking: "Show" or F5 counts again."""

    def reload(self) -> None:
        self.errors.clear()
        first, last = _day(self.first), _day(self.last)
        if last < first:
            self.errors.show("The last day is before the first.", "last")
            return
        group = ReportGroup(self.group.currentData())
        self.show_button.setEnabled(False)
        self.tasks.run(
            self.backend.report,
            first,
            last,
            group,
            on_done=self._show,
            on_error=self._failed,
        )

    def _show(self, report: Report) -> None:
        self.show_button.setEnabled(True)
        self.report = report
        self.model.set_rows(report.rows)
        self._draw_chart()
        booked = sum(row.booked for row in report.rows)
        self.summary.setText(
            f"{report.first.isoformat()} to {report.last.isoformat()}: "
            f"{len(report.rows)} rows, {booked} booked"
        )

    def _failed(self, error: Exception) -> None:
        self.show_button.setEnabled(True)
        self.errors.show_error(error)

    def _draw_chart(self) -> None:
        _, value, colour = CHART_FIGURES[max(self.figure.currentIndex(), 0)]
        rows = self.report.rows if self.report else []
        self.chart.set_bars([(row.name, value(row)) for row in rows], colour)

    # --- files --------------------------------------------------------------------------------
    def _ask(self, kinds: str, suffix: str) -> str:
        name = f"report-{_day(self.first).isoformat()}-{_day(self.last).isoformat()}.{suffix}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the report", str(documents_folder() / name), kinds
        )
        return path

    def _title(self, report: Report) -> str:
        per = "doctor" if report.group is ReportGroup.DOCTOR else "speciality"
        return f"Report per {per}, {report.first.isoformat()} to {report.last.isoformat()}"

    def export_csv(self) -> None:
        if self.report is None:
            return
        path = self.choose_csv()
        if path:
            self._write(write_text, path, report_csv(self.report))

    def save_pdf(self) -> None:
        if self.report is None:
            return
        path = self.choose_pdf()
        if path:
            page = report_html(self.report, self._title(self.report))
            self._write(write_pdf, path, page, self.chart.image())

    def _write(self, call: Callable[..., str], *args: object) -> None:
        for button in (self.csv_button, self.pdf_button):
            button.setEnabled(False)
        self.tasks.run(call, *args, on_done=self._written, on_error=self._write_failed)

    def _written(self, path: str) -> None:
        for button in (self.csv_button, self.pdf_button):
            button.setEnabled(True)
        self.message.emit(f"Saved the report to {path}.")
        self.summary.setText(f"Saved to {Path(path).name}.")

    def _write_failed(self, error: Exception) -> None:
        for button in (self.csv_button, self.pdf_button):
            button.setEnabled(True)
        if isinstance(error, OSError):
            self.errors.show(f"Could not write the file: {error.strerror or error}.")
        else:
            self.errors.show_error(error)
