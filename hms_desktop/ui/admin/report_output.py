"""The report on paper and in files: the table's columns, the page (the chart's picture
above the table) and its rendering into a PDF file or onto a printer. One rendering serves
"Save PDF…" and "Print…", so what is printed is what is saved.

Rendering runs off the GUI thread: QTextDocument, QImage, QPdfWriter and QPrinter may be
painted on in a worker thread (Qt's "painting in threads": QImage, QPrinter, QPicture)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtGui import QImage, QPagedPaintDevice, QPageSize, QPdfWriter, QTextDocument

from hms_desktop.domain.reports import Report, ReportGroup, ReportRow

if TYPE_CHECKING:
    from PySide6.QtPrintSupport import QPrinter

# The page is laid out at screen resolution and scaled to the device's, as on screen.
LAYOUT_DPI = 96


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
    ("Waitlist fills", lambda r: r.waitlist_fills),
]


def report_title(report: Report) -> str:
    per = "doctor" if report.group is ReportGroup.DOCTOR else "speciality"
    return f"Report per {per}, {report.first.isoformat()} to {report.last.isoformat()}"


def report_html(report: Report, title: str) -> str:
    """The report as a table for the PDF and the printer (the chart's picture above it)."""
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in COLUMNS)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell(row)))}</td>" for _, cell in COLUMNS) + "</tr>"
        for row in report.rows
    )
    return (
        f"<h2>{html.escape(title)}</h2><p><img src='chart.png'></p>"
        f"<table border='1' cellspacing='0' cellpadding='3'><tr>{head}</tr>{body}</table>"
    )


def write_text(path: str, text: str) -> str:
    Path(path).write_text(text, encoding="utf-8", newline="")
    return path


def render(device: QPagedPaintDevice, page_html: str, chart: QImage) -> None:
    """The page onto a PDF writer or a printer, paginated to the device's paper."""
    document = QTextDocument()
    document.addResource(QTextDocument.ResourceType.ImageResource, "chart.png", chart)
    document.setHtml(page_html)
    document.setPageSize(device.pageLayout().paintRectPixels(LAYOUT_DPI).size().toSizeF())
    document.print_(device)


def write_pdf(path: str, page_html: str, chart: QImage) -> str:
    writer = QPdfWriter(path)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setResolution(LAYOUT_DPI)
    render(writer, page_html, chart)
    return path


def print_page(printer: QPrinter, page_html: str, chart: QImage) -> str:
    """Onto the printer chosen in the print dialog (or its PDF file); answers what it
    printed to, for the status bar."""
    render(printer, page_html, chart)
    return printer.outputFileName() or printer.printerName() or "the printer"
